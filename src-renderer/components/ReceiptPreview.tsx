import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export interface ReceiptPreviewProps {
  /** The printer text (from renderReceiptText / renderShiftReportText). */
  text: string;
  /** Accessible name and caption, e.g. "Receipt 000123". */
  label: string;
  /** A reprint: marked COPY on screen as well as in the text. */
  copy?: boolean;
  actions?: ReactNode;
}

/** The on-screen slip: exactly what the receipt printer would print, in a monospace block. */
export function ReceiptPreview({ text, label, copy = false, actions }: ReceiptPreviewProps) {
  const { t } = useTranslation('common');
  return (
    <figure className="ov-receipt" aria-label={label}>
      <figcaption className="ov-receipt__caption">
        <span>{label}</span>
        {copy ? <span className="ov-badge ov-badge--warning">{t('receipt.copy')}</span> : null}
      </figcaption>
      <pre className="ov-receipt__text">{text}</pre>
      {actions ? <div className="ov-receipt__actions">{actions}</div> : null}
    </figure>
  );
}
