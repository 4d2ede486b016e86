import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ZReportListRow } from '../../../src-shared/bridge/contract.ts';
import { useAppInfo, useFormat } from '../../app/app-info.ts';
import { useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import { useShortcuts } from '../../app/shortcuts.ts';
import { shiftReportText } from '../../app/slips.ts';
import {
  Button,
  type DataColumn,
  DataTable,
  ErrorNotice,
  PageHeader,
  ProgressBar,
  ReceiptPreview,
  ShortcutBar,
  SlipDialog,
} from '../../components/index.ts';
import { useStatus } from '../../layout/use-status.ts';
import { CloseShiftDialog } from './CloseShiftDialog.tsx';
import { OpenShiftPanel } from './OpenShiftPanel.tsx';

/** The operator's shift: X report at any time, close with a blind count and Z report, reprint of closed Z reports. */
export function ShiftScreen() {
  const { t } = useTranslation('shift');
  const { data: info } = useAppInfo();
  const { money, dateTime } = useFormat();
  const { data: status } = useStatus();
  const shift = status?.shift ?? null;
  const [showX, setShowX] = useState(false);
  const [closing, setClosing] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);

  const x = useBridgeQuery('shift.xReport', {}, { enabled: showX && shift !== null, staleTime: 0 });
  const zList = useBridgeQuery('shift.zReports', { limit: 50 });
  const reprint = useBridgeMutation('shift.reprintZ');

  const doReprint = () => {
    if (selected && !reprint.isPending) reprint.mutate({ reportNo: Number(selected) });
  };
  const runX = () => {
    if (!shift) return;
    if (showX) void x.refetch();
    else setShowX(true);
  };
  useShortcuts({ F8: runX, F9: doReprint });

  const columns: DataColumn<ZReportListRow>[] = [
    { id: 'no', label: t('z.column.no'), isRowHeader: true, render: (row) => String(row.reportNo) },
    { id: 'operator', label: t('z.column.operator'), render: (row) => row.operator },
    { id: 'opened', nowrap: true, label: t('z.column.opened'), render: (row) => dateTime(row.openedAt) },
    { id: 'closed', nowrap: true, label: t('z.column.closed'), render: (row) => dateTime(row.closedAt) },
    {
      id: 'declared',
      nowrap: true,
      label: t('z.column.declared'),
      align: 'end',
      render: (row) => money(row.declaredMinor),
    },
    {
      id: 'expected',
      nowrap: true,
      label: t('z.column.expected'),
      align: 'end',
      render: (row) => money(row.expectedMinor),
    },
    {
      id: 'variance',
      label: t('z.column.variance'),
      align: 'end',
      render: (row) =>
        row.varianceMinor === 0 ? (
          money(0)
        ) : (
          <span className={row.varianceMinor < 0 ? 'ov-text-danger' : 'ov-text-warning'}>
            {money(row.varianceMinor)} ({row.varianceMinor < 0 ? t('z.short') : t('z.over')})
          </span>
        ),
    },
  ];

  return (
    <div className="ov-shift">
      <PageHeader
        title={t('title')}
        description={
          shift ? t('openSince', { time: dateTime(shift.openedAt) }) : status ? t('noShift') : undefined
        }
        actions={
          shift ? (
            <>
              <Button onPress={runX} shortcut="F8">
                {t('x.button')}
              </Button>
              <Button
                variant="danger"
                onPress={() => {
                  // A blind count: the running totals go out of sight before the cash is counted.
                  setShowX(false);
                  setClosing(true);
                }}
              >
                {t('close.button')}
              </Button>
            </>
          ) : null
        }
      />
      {status && !shift ? <OpenShiftPanel autoFocus={false} /> : null}
      {showX && shift ? (
        <section className="ov-panel" aria-labelledby="ov-x-title">
          <h2 id="ov-x-title">{t('x.title')}</h2>
          {x.isError ? <ErrorNotice error={x.error} onRetry={() => void x.refetch()} /> : null}
          {x.isPending ? <ProgressBar label={t('x.loading')} /> : null}
          {x.data && info ? (
            <ReceiptPreview label={t('x.label')} text={shiftReportText(x.data, info)} />
          ) : null}
        </section>
      ) : null}
      <section className="ov-panel" aria-labelledby="ov-z-title">
        <h2 id="ov-z-title">{t('z.title')}</h2>
        <ErrorNotice error={zList.error} onRetry={() => void zList.refetch()} />
        <div className="ov-history__toolbar">
          <p className="ov-muted">{t('z.hint')}</p>
          <Button onPress={doReprint} isDisabled={!selected} isPending={reprint.isPending} shortcut="F9">
            {t('z.reprint')}
          </Button>
        </div>
        <ErrorNotice error={reprint.error} title={t('z.reprintFailed')} />
        <DataTable
          label={t('z.title')}
          columns={columns}
          rows={zList.data ?? []}
          rowKey={(row) => String(row.reportNo)}
          selectedKey={selected}
          onSelectionChange={setSelected}
          onRowAction={(key) => setSelected(key)}
          emptyText={zList.isPending ? t('z.loading') : t('z.empty')}
        />
      </section>
      <ShortcutBar
        label={t('common:shortcuts')}
        hints={[
          ...(shift ? [{ keys: 'F8', label: t('x.button') }] : []),
          { keys: 'F9', label: t('z.reprint') },
        ]}
      />
      {closing ? <CloseShiftDialog onClose={() => setClosing(false)} /> : null}
      {reprint.data && info ? (
        <SlipDialog
          isOpen
          onClose={() => reprint.reset()}
          title={t('z.reprintTitle', { reportNo: reprint.data.reportNo })}
          label={t('z.label', { reportNo: reprint.data.reportNo })}
          text={shiftReportText(reprint.data, info)}
          copy
        />
      ) : null}
    </div>
  );
}
