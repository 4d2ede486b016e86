import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from './Button.tsx';
import { Dialog, DialogActions } from './Dialog.tsx';
import { ReceiptPreview } from './ReceiptPreview.tsx';

export interface SlipDialogProps {
  isOpen: boolean;
  onClose: () => void;
  title: ReactNode;
  /** The printer text, e.g. from app/slips.ts receiptText(). */
  text: string;
  /** Caption and accessible name of the slip, e.g. "Receipt 000123". */
  label: string;
  copy?: boolean;
  /** Above the slip, e.g. a note that no printer is configured yet. */
  note?: ReactNode;
}

/** A receipt or report shown on screen in a dialog (the print preview until printers arrive). */
export function SlipDialog({ isOpen, onClose, title, text, label, copy = false, note }: SlipDialogProps) {
  const { t } = useTranslation('common');
  return (
    <Dialog
      isOpen={isOpen}
      onOpenChange={(open) => (open ? undefined : onClose())}
      title={title}
      isDismissable
    >
      {note}
      <ReceiptPreview text={text} label={label} copy={copy} />
      <DialogActions>
        <Button variant="primary" autoFocus onPress={onClose} shortcut="Esc">
          {t('action.close')}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
