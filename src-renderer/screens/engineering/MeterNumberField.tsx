import { useTranslation } from 'react-i18next';
import { TextField } from '../../components/index.ts';
import { checkMeterInput, describeMeterInput } from '../vend/meter-input.ts';

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
  const { description, errorMessage } = describeMeterInput(state, submitted, t);
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
