import { useTranslation } from 'react-i18next';
import { errorCode } from '../../app/errors.ts';
import { Button, ErrorNotice, Notice, ProgressBar } from '../../components/index.ts';
import { isCancelled } from './use-devices.ts';
import type { CardWriting, ReceiptPrinting } from './use-result-devices.ts';

/** The next step after a failed print, by error code (the engine's message says what went wrong). */
const PRINT_NEXT = new Set(['PRINTER_PAPER_END', 'PRINTER_COVER_OPEN', 'VEND_INVALID_REQUEST']);

/** What the receipt printer did with the last Print / Reprint: printing…, printed ✓, or why not and what next. */
export function PrintFeedback({
  printing,
  onShowPrinted,
}: {
  printing: ReceiptPrinting;
  onShowPrinted: () => void;
}) {
  const { t } = useTranslation('vend');
  if (!printing.configured) return null;
  if (printing.pending)
    return (
      <Notice tone="info" live="status" className="ov-device-feedback">
        {printing.copy ? t('device.printingCopy') : t('device.printing')}
      </Notice>
    );
  if (printing.error) {
    const code = errorCode(printing.error) ?? '';
    return (
      <ErrorNotice
        error={printing.error}
        className="ov-device-feedback"
        title={t('device.printFailed', {
          next: t(PRINT_NEXT.has(code) ? `device.printNext.${code}` : 'device.printNext.other'),
        })}
      />
    );
  }
  const result = printing.result;
  if (!result) return null;
  return (
    <Notice
      tone={result.warning ? 'warning' : 'success'}
      live="status"
      className="ov-device-feedback"
      title={result.copy ? t('device.printedCopy') : t('device.printed')}
    >
      {result.warning ? <p>{result.warning}</p> : null}
      {result.preview !== null ? (
        <Button variant="quiet" onPress={onShowPrinted}>
          {t('device.showPrinted')}
        </Button>
      ) : null}
    </Notice>
  );
}

/** What the card encoder is doing: the swipe or insert to make now (with Cancel), written ✓, or why not. */
export function CardFeedback({ card }: { card: CardWriting }) {
  const { t } = useTranslation('vend');
  if (!card.configured) return null;
  if (card.pending)
    return (
      <CardWait
        message={t(`device.phase.${card.phase ?? 'starting'}`)}
        onCancel={card.cancel}
        cancelling={card.cancelling}
      />
    );
  if (card.error) {
    if (isCancelled(card.error))
      return (
        <Notice tone="info" live="status" className="ov-device-feedback">
          {t('device.writeCancelled')}
        </Notice>
      );
    return <ErrorNotice error={card.error} className="ov-device-feedback" title={t('device.writeFailed')} />;
  }
  if (!card.result) return null;
  return (
    <Notice tone="success" live="status" className="ov-device-feedback" title={t('device.written')}>
      {t('device.writtenDetail', { count: card.result.tokenCount, meter: card.result.meterNo })}
    </Notice>
  );
}

/** A card call waiting for the person at the counter: what to do now, and Cancel (card.cancel). */
export function CardWait({
  message,
  onCancel,
  cancelling,
}: {
  message: string;
  onCancel: () => void;
  cancelling: boolean;
}) {
  const { t } = useTranslation('vend');
  return (
    <output className="ov-notice ov-notice--info ov-device-feedback ov-card-wait" aria-live="polite">
      <ProgressBar label={<span className="ov-notice__title">{message}</span>} />
      <div className="ov-notice__actions">
        <Button onPress={onCancel} isPending={cancelling}>
          {t('device.cancel')}
        </Button>
      </div>
    </output>
  );
}
