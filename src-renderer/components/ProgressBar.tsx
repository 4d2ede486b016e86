import type { ReactNode } from 'react';
import { ProgressBar as AriaProgressBar, Label } from 'react-aria-components';

export interface ProgressBarProps {
  label: ReactNode;
  /** Omit (or null) for an indeterminate bar: something is running but its length is unknown. */
  value?: number | null;
  maxValue?: number;
  /** Text instead of the percentage, e.g. "1 200 of 5 000 rows". */
  valueLabel?: string;
  className?: string | undefined;
}

/** Progress of a long operation (import, backup, report), determinate or indeterminate. */
export function ProgressBar({ label, value, maxValue = 100, valueLabel, className }: ProgressBarProps) {
  const indeterminate = value === undefined || value === null;
  return (
    <AriaProgressBar
      className={['ov-progress', className].filter(Boolean).join(' ')}
      isIndeterminate={indeterminate}
      {...(indeterminate ? {} : { value, maxValue })}
      {...(valueLabel === undefined ? {} : { valueLabel })}
    >
      {({ percentage, valueText }) => (
        <>
          <div className="ov-progress__labels">
            <Label className="ov-progress__label">{label}</Label>
            {indeterminate ? null : <span className="ov-progress__value">{valueText}</span>}
          </div>
          <div className="ov-progress__track">
            <div
              className={
                indeterminate ? 'ov-progress__fill ov-progress__fill--indeterminate' : 'ov-progress__fill'
              }
              style={indeterminate ? undefined : { width: `${percentage ?? 0}%` }}
            />
          </div>
        </>
      )}
    </AriaProgressBar>
  );
}
