import { useCallback, useState } from 'react';
import type { MethodResult } from '../../../src-shared/bridge/contract.ts';
import type { PrintResult } from '../../../src-shared/bridge/device-schemas.ts';
import { useBridgeMutation } from '../../app/bridge-context.tsx';
import { errorCode } from '../../app/errors.ts';
import { useCardCancel, useCardPhase, useConfiguredRoles } from './use-devices.ts';

export interface ReceiptPrinting {
  configured: boolean;
  pending: boolean;
  /** Whether the call in flight (or the last one) was a copy. */
  copy: boolean;
  result: PrintResult | null;
  error: unknown;
}

export interface CardWriting {
  configured: boolean;
  pending: boolean;
  phase: ReturnType<typeof useCardPhase>;
  result: MethodResult<'card.write'> | null;
  error: unknown;
  cancel: () => void;
  cancelling: boolean;
}

/**
 * The result step's devices: receipt.print (the original once, then explicit copies) and card.write, each only
 * when a device is set for it; otherwise the caller keeps the on-screen preview and the "no encoder" note.
 */
export function useResultDevices(enabled: boolean) {
  const configured = useConfiguredRoles(enabled);
  const print = useBridgeMutation('receipt.print');
  const write = useBridgeMutation('card.write');
  const { cancel, cancelling } = useCardCancel();
  const phase = useCardPhase(write.isPending);
  // The original has left for the printer (or the engine says it already did): further prints are copies.
  const [originalSent, setOriginalSent] = useState(false);

  const printReceipt = (receiptNo: number, copy: boolean) => {
    if (print.isPending) return;
    print.mutate(
      { receiptNo, copy },
      {
        onSuccess: (result) => {
          if (!result.copy) setOriginalSent(true);
        },
        onError: (error) => {
          if (!copy && errorCode(error) === 'VEND_INVALID_REQUEST') setOriginalSent(true);
        },
      },
    );
  };

  const reset = useCallback(() => {
    print.reset();
    write.reset();
    setOriginalSent(false);
  }, [print.reset, write.reset]);

  const printing: ReceiptPrinting = {
    configured: configured('receipt-printer'),
    pending: print.isPending,
    copy: print.variables?.copy ?? false,
    result: print.data ?? null,
    error: print.error,
  };
  const card: CardWriting = {
    configured: configured('magnetic-encoder') || configured('ic-encoder'),
    pending: write.isPending,
    phase,
    result: write.data ?? null,
    error: write.error,
    cancel,
    cancelling,
  };
  return {
    printing,
    card,
    /** F8: the original receipt. */
    print: (receiptNo: number) => printReceipt(receiptNo, false),
    /** F9: a copy once the original was sent; before that (e.g. it failed for lack of paper) the original again. */
    reprint: (receiptNo: number) => printReceipt(receiptNo, originalSent),
    writeCard: (receiptNo: number) => {
      if (!write.isPending) write.mutate({ receiptNo });
    },
    reset,
  };
}
