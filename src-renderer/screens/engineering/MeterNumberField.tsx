import { useTranslation } from 'react-i18next';
import { TextField } from '../../components/index.ts';
import { checkMeterInput } from '../vend/meter-input.ts';

export interface MeterNumberFieldProps {
  value: string;
  onChange: (text: string) => void;
  /** After a submit attempt an empty or incomplete number is an error, not a hint. */
  submitted: boolean;
  autoFocus?: boolean;
}

/** The meter number, checked as it is typed (same rules as the vend screen: length and check digit). */
export function MeterNumberField({ value, onChange, submitted, autoFocus = false }: MeterNumberFieldProps) {
  const { t } = useTranslation('engineering');
  const state = checkMeterInput(value);
  let description: string | null = null;
  let errorMessage: string | null = null;
  switch (state.kind) {
    case 'empty':
      description = t('meter.hint');
      if (submitted) errorMessage = t('meter.required');
      break;
    case 'not-digits':
      errorMessage = t('meter.digitsOnly');
      break;
    case 'too-long':
      errorMessage = t('meter.tooLong', { count: state.digits.length });
      break;
    case 'incomplete':
      description = t('meter.typed', { count: state.digits.length });
      if (submitted) errorMessage = t('meter.incomplete', { count: state.digits.length });
      break;
    case 'bad-check-digit':
      errorMessage = t('meter.badCheckDigit', { expected: state.expected });
      break;
    case 'valid':
      description = t('meter.checkDigitOk');
      break;
  }
  return (
    <TextField
      label={t('meter.label')}
      value={value}
      onChange={onChange}
      inputClassName="ov-input--large ov-input--mono"
      inputMode="numeric"
      autoComplete="off"
      autoFocus={autoFocus}
      name="meterNumber"
      description={description}
      errorMessage={errorMessage}
      className={['ov-eng-meter', state.kind === 'valid' ? 'ov-field--valid' : ''].filter(Boolean).join(' ')}
    />
  );
}
