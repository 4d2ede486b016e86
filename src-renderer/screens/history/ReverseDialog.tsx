import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MethodArgs, SaleSummary } from '../../../src-shared/bridge/contract.ts';
import { useAppInfo, useFormat } from '../../app/app-info.ts';
import { newRequestId, useBridgeMutation } from '../../app/bridge-context.tsx';
import { receiptText } from '../../app/slips.ts';
import {
  Button,
  Dialog,
  DialogActions,
  ErrorNotice,
  KeyValueList,
  Notice,
  ReceiptPreview,
  Select,
  TextField,
} from '../../components/index.ts';
import { useRefreshStatus } from '../../layout/use-status.ts';

export type ReverseReason = MethodArgs<'sales.reverse'>['reason'];
export const REVERSE_REASONS: readonly ReverseReason[] = [
  'wrong-meter',
  'wrong-amount',
  'customer-cancelled',
  'duplicate-sale',
  'token-not-accepted',
  'other',
];

export interface ReverseDialogProps {
  sale: SaleSummary;
  onClose: () => void;
}

/**
 * A reversal is a credit note approved on the spot by a supervisor (their own name and password), with a reason.
 * One request id per opened dialog: pressing the button again after a lost answer cannot reverse twice.
 */
export function ReverseDialog({ sale, onClose }: ReverseDialogProps) {
  const { t } = useTranslation('history');
  const { data: info } = useAppInfo();
  const { money } = useFormat();
  const queryClient = useQueryClient();
  const refreshStatus = useRefreshStatus();
  const [requestId] = useState(newRequestId);
  const [reason, setReason] = useState<ReverseReason | null>(null);
  const [note, setNote] = useState('');
  const [supervisor, setSupervisor] = useState('');
  const [password, setPassword] = useState('');
  const [tried, setTried] = useState(false);
  const reverse = useBridgeMutation('sales.reverse', {
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['sales.search'] });
      void queryClient.invalidateQueries({ queryKey: ['shift.xReport'] });
      void refreshStatus();
    },
    onError: () => setPassword(''),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (!reason || !supervisor.trim() || !password || reverse.isPending) return;
    reverse.mutate({
      requestId,
      receiptNo: sale.receiptNo,
      reason,
      note: note.trim(),
      supervisor: { username: supervisor.trim(), password },
    });
  };

  const done = reverse.data;
  return (
    <Dialog
      isOpen
      onOpenChange={(open) => (open ? undefined : onClose())}
      title={done ? t('reverse.doneTitle') : t('reverse.title', { receiptNo: sale.receiptNoText })}
      role="alertdialog"
      isKeyboardDismissDisabled={reverse.isPending}
      size="wide"
    >
      {done && info ? (
        <>
          <Notice tone="success" live="status">
            {t('reverse.doneText', { receiptNo: done.receipt.header.receiptNo })}
          </Notice>
          <ReceiptPreview
            label={t('reverse.creditNote', { receiptNo: done.receipt.header.receiptNo })}
            text={receiptText(done.receipt, info)}
          />
          <DialogActions>
            <Button variant="primary" autoFocus onPress={onClose}>
              {t('common:action.close')}
            </Button>
          </DialogActions>
        </>
      ) : (
        <form className="ov-form" noValidate onSubmit={submit}>
          <KeyValueList
            items={[
              { label: t('column.receipt'), value: sale.receiptNoText },
              { label: t('column.meter'), value: sale.meterNo ?? '—' },
              { label: t('column.customer'), value: sale.customerName ?? '—' },
              { label: t('column.amount'), value: money(sale.amountMinor), tone: 'strong' },
            ]}
          />
          <Notice tone="warning">{t('reverse.warning')}</Notice>
          <Select<ReverseReason>
            label={t('reverse.reason')}
            options={REVERSE_REASONS.map((id) => ({ id, label: t(`reason.${id}`) }))}
            value={reason}
            onChange={setReason}
            placeholder={t('reverse.reasonPlaceholder')}
            isRequired
            errorMessage={tried && !reason ? t('reverse.reasonMissing') : null}
            autoFocus
          />
          <TextField label={t('reverse.note')} value={note} onChange={setNote} maxLength={500} />
          <fieldset className="ov-fieldset">
            <legend>{t('reverse.supervisorTitle')}</legend>
            <div className="ov-form__row">
              <TextField
                label={t('reverse.supervisor')}
                value={supervisor}
                onChange={setSupervisor}
                autoComplete="off"
                errorMessage={tried && !supervisor.trim() ? t('reverse.supervisorMissing') : null}
              />
              <TextField
                label={t('reverse.password')}
                type="password"
                value={password}
                onChange={setPassword}
                autoComplete="off"
                errorMessage={tried && !password ? t('reverse.passwordMissing') : null}
              />
            </div>
          </fieldset>
          <ErrorNotice error={reverse.error} title={t('reverse.failed')} />
          <DialogActions>
            <Button onPress={onClose} isDisabled={reverse.isPending} shortcut="Esc">
              {t('common:action.cancel')}
            </Button>
            <Button type="submit" variant="danger" isPending={reverse.isPending}>
              {t('reverse.submit')}
            </Button>
          </DialogActions>
        </form>
      )}
    </Dialog>
  );
}
