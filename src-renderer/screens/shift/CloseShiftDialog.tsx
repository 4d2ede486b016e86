import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAppInfo, useFormat } from '../../app/app-info.ts';
import { useBridgeMutation } from '../../app/bridge-context.tsx';
import { shiftReportText } from '../../app/slips.ts';
import {
  Button,
  checkMoney,
  Dialog,
  DialogActions,
  ErrorNotice,
  MoneyField,
  ReceiptPreview,
} from '../../components/index.ts';
import { useRefreshStatus } from '../../layout/use-status.ts';
import { VarianceNotice } from './VarianceNotice.tsx';

/**
 * Closing a shift is a blind count: the cashier counts the drawer and types the total before seeing what the
 * system expects; only then the Z report shows the variance (short or over).
 */
export function CloseShiftDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation('shift');
  const { data: info } = useAppInfo();
  const { currency } = useFormat();
  const queryClient = useQueryClient();
  const refreshStatus = useRefreshStatus();
  const [cash, setCash] = useState('');
  const [tried, setTried] = useState(false);
  const close = useBridgeMutation('shift.close', {
    onSuccess: () => {
      void refreshStatus();
      void queryClient.invalidateQueries({ queryKey: ['shift.zReports'] });
      queryClient.removeQueries({ queryKey: ['shift.xReport'] });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    const check = checkMoney(cash, currency, 0);
    if (!check.ok || close.isPending) return;
    close.mutate({ declaredCashMinor: check.minor });
  };

  const report = close.data;
  return (
    <Dialog
      isOpen
      onOpenChange={(open) => (open ? undefined : onClose())}
      title={report ? t('close.doneTitle', { reportNo: report.reportNo }) : t('close.title')}
      role="alertdialog"
      isKeyboardDismissDisabled={close.isPending}
      size="wide"
    >
      {report && info ? (
        <>
          <VarianceNotice cash={report.cash} />
          <ReceiptPreview
            label={t('z.label', { reportNo: report.reportNo })}
            text={shiftReportText(report, info)}
          />
          <DialogActions>
            <Button variant="primary" autoFocus onPress={onClose}>
              {t('common:action.close')}
            </Button>
          </DialogActions>
        </>
      ) : (
        <form className="ov-form" noValidate onSubmit={submit}>
          <p>{t('close.blindText')}</p>
          <MoneyField
            label={t('close.cashLabel')}
            value={cash}
            onChange={(text) => setCash(text)}
            currency={currency}
            minMinor={0}
            requireValue={tried}
            autoFocus
            name="declaredCash"
          />
          <ErrorNotice error={close.error} title={t('close.failed')} />
          <DialogActions>
            <Button onPress={onClose} isDisabled={close.isPending} shortcut="Esc">
              {t('common:action.cancel')}
            </Button>
            <Button type="submit" variant="danger" isPending={close.isPending} shortcut="Enter">
              {t('close.submit')}
            </Button>
          </DialogActions>
        </form>
      )}
    </Dialog>
  );
}
