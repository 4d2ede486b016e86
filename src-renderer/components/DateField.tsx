import { type CalendarDate, parseDate } from '@internationalized/date';
import type { ReactNode } from 'react';
import {
  DateField as AriaDateField,
  DateInput,
  DateSegment,
  FieldError,
  Label,
  Text,
} from 'react-aria-components';

export interface DateFieldProps {
  label: ReactNode;
  /** The date as YYYY-MM-DD, or '' for none. */
  value: string;
  onChange: (value: string) => void;
  description?: ReactNode;
  errorMessage?: string | null | undefined;
  className?: string;
}

const toCalendarDate = (value: string): CalendarDate | null => {
  try {
    return value ? parseDate(value) : null;
  } catch {
    return null;
  }
};

/**
 * A date typed segment by segment in the UI language's order and separators (dd/mm/yyyy in French and
 * Portuguese), unlike the browser's own date input, which follows the browser's language.
 */
export function DateField({ label, value, onChange, description, errorMessage, className }: DateFieldProps) {
  return (
    <AriaDateField
      validationBehavior="aria"
      value={toCalendarDate(value)}
      onChange={(date) => onChange(date ? date.toString() : '')}
      isInvalid={Boolean(errorMessage)}
      className={['ov-field', className].filter(Boolean).join(' ')}
    >
      <Label className="ov-field__label">{label}</Label>
      <DateInput className="ov-input ov-date-input">
        {(segment) => <DateSegment segment={segment} className="ov-date-segment" />}
      </DateInput>
      {description ? (
        <Text slot="description" className="ov-field__description">
          {description}
        </Text>
      ) : null}
      <FieldError className="ov-field__error">{errorMessage}</FieldError>
    </AriaDateField>
  );
}
