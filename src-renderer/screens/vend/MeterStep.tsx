import { type RefObject, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Button, ErrorNotice, Notice, TextField } from '../../components/index.ts';
import { CardWait } from './DeviceFeedback.tsx';
import { checkMeterInput, describeMeterInput } from './meter-input.ts';
import { isCancelled } from './use-devices.ts';

/** The meter card reader on this step (null when no reader is set: the button is not shown). */
export interface MeterCardReader {
  onRead: () => void;
  pending: boolean;
  error: unknown;
  onCancel: () => void;
  cancelling: boolean;
}

export interface MeterStepProps {
  value: string;
  onChange: (text: string) => void;
  onSubmit: () => void;
  /** Enter pressed on an incomplete number: show why instead of looking it up. */
  submitted: boolean;
  pending: boolean;
  error: unknown;
  inputRef: RefObject<HTMLInputElement | null>;
  active: boolean;
  cardReader?: MeterCardReader | null;
}

/** Step 1: the meter number, checked digit by digit as it is typed or scanned. */
export function MeterStep({
  value,
  onChange,
  onSubmit,
  submitted,
  pending,
  error,
  inputRef,
  active,
  cardReader = null,
}: MeterStepProps) {
  const { t } = useTranslation('vend');
  const state = checkMeterInput(value);

  useEffect(() => {
    if (active) inputRef.current?.focus();
  }, [active, inputRef]);

  const { description, errorMessage } = describeMeterInput(state, submitted, t);

  return (
    <section className="ov-panel ov-vend-meter" aria-label={t('meter.title')}>
      <form
        className="ov-vend-meter__form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        <TextField
          label={t('meter.label')}
          value={value}
          onChange={onChange}
          inputRef={inputRef}
          inputClassName="ov-input--large ov-input--mono"
          inputMode="numeric"
          autoComplete="off"
          autoFocus
          name="meterNumber"
          description={description}
          errorMessage={errorMessage}
          className={state.kind === 'valid' ? 'ov-field--valid' : undefined}
        />
        <Button type="submit" variant="primary" size="large" isPending={pending} shortcut="Enter">
          {pending ? t('meter.finding') : t('meter.find')}
        </Button>
        {cardReader ? (
          <Button size="large" onPress={cardReader.onRead} isDisabled={cardReader.pending} shortcut="F10">
            {t('meter.readCard')}
          </Button>
        ) : null}
      </form>
      {cardReader?.pending ? (
        <CardWait
          message={t('meter.swipeCard')}
          onCancel={cardReader.onCancel}
          cancelling={cardReader.cancelling}
        />
      ) : null}
      {cardReader?.error && !cardReader.pending ? (
        isCancelled(cardReader.error) ? (
          <Notice tone="info" live="status">
            {t('meter.readCancelled')}
          </Notice>
        ) : (
          <ErrorNotice error={cardReader.error} title={t('meter.readFailed')} />
        )
      ) : null}
      <ErrorNotice error={error} title={t('meter.lookupFailed')} values={{ meter: value.trim() }} />
    </section>
  );
}
