import type { ReactNode } from 'react';
import { Dialog as AriaDialog, Heading, Modal, ModalOverlay } from 'react-aria-components';

export interface DialogProps {
  isOpen: boolean;
  onOpenChange: (isOpen: boolean) => void;
  title: ReactNode;
  children: ReactNode;
  /** 'alertdialog' for confirmations that interrupt (reversal, close shift). */
  role?: 'dialog' | 'alertdialog';
  /** Closing by clicking outside; Esc always closes unless keyboard dismiss is disabled. */
  isDismissable?: boolean;
  /** Keep the dialog open on Esc while something is in progress. */
  isKeyboardDismissDisabled?: boolean;
  size?: 'normal' | 'wide';
}

/** A modal dialog: focus is trapped inside and returns to the opener on close. */
export function Dialog({
  isOpen,
  onOpenChange,
  title,
  children,
  role = 'dialog',
  isDismissable = false,
  isKeyboardDismissDisabled = false,
  size = 'normal',
}: DialogProps) {
  return (
    <ModalOverlay
      className="ov-modal-overlay"
      isOpen={isOpen}
      onOpenChange={onOpenChange}
      isDismissable={isDismissable}
      isKeyboardDismissDisabled={isKeyboardDismissDisabled}
    >
      <Modal className={`ov-modal ov-modal--${size}`}>
        <AriaDialog role={role} className="ov-dialog">
          <Heading slot="title" className="ov-dialog__title">
            {title}
          </Heading>
          {children}
        </AriaDialog>
      </Modal>
    </ModalOverlay>
  );
}

/** Buttons at the bottom of a dialog, primary last. */
export function DialogActions({ children }: { children: ReactNode }) {
  return <div className="ov-dialog__actions">{children}</div>;
}
