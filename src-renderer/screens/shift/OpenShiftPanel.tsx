import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useBridgeMutation } from '../../app/bridge-context.tsx';
import { Button, ErrorNotice } from '../../components/index.ts';
import { useRefreshStatus } from '../../layout/use-status.ts';

/** The "Open shift" step: shown instead of selling when the operator has no open shift. */
export function OpenShiftPanel({ autoFocus = true }: { autoFocus?: boolean }) {
  const { t } = useTranslation('shift');
  const refreshStatus = useRefreshStatus();
  const queryClient = useQueryClient();
  const open = useBridgeMutation('shift.open', {
    onSuccess: async () => {
      await refreshStatus();
      await queryClient.invalidateQueries({ queryKey: ['shift.xReport'] });
    },
    // Opened meanwhile (another window, a second screen): the status shows it and this panel goes away.
    onError: () => void refreshStatus(),
  });
  return (
    <section className="ov-panel ov-open-shift" aria-labelledby="ov-open-shift-title">
      <h2 id="ov-open-shift-title">{t('open.title')}</h2>
      <p>{t('open.text')}</p>
      <ErrorNotice error={open.error} />
      <Button
        variant="primary"
        size="large"
        autoFocus={autoFocus}
        isPending={open.isPending}
        shortcut="Enter"
        onPress={() => open.mutate({})}
      >
        {t('open.button')}
      </Button>
    </section>
  );
}
