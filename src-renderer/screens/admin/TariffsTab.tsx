import { useTranslation } from 'react-i18next';
import type { TariffRowView } from '../../../src-shared/bridge/contract.ts';
import { useBridgeQuery } from '../../app/bridge-context.tsx';
import { type DataColumn, DataTable, ErrorNotice } from '../../components/index.ts';
import { useAdminFormat } from './admin-format.ts';

type Version = TariffRowView['versions'][number];

/** Tariffs and their versions, read-only: tariffs come from the utility. */
export function TariffsTab() {
  const { t } = useTranslation('admin');
  const { day } = useAdminFormat();
  const tariffs = useBridgeQuery('tariffs.list', {});
  const columns: DataColumn<Version>[] = [
    {
      id: 'version',
      label: t('tariffs.column.version'),
      isRowHeader: true,
      align: 'end',
      render: (row) => row.version,
    },
    {
      id: 'from',
      label: t('tariffs.column.from'),
      render: (row) => <span className="ov-admin-nowrap">{day(row.effectiveFrom)}</span>,
    },
    {
      id: 'kind',
      label: t('tariffs.column.kind'),
      render: (row) => t(`tariffs.kind.${row.kind}`, { defaultValue: row.kind }),
    },
    { id: 'summary', label: t('tariffs.column.summary'), render: (row) => row.summary },
    {
      id: 'state',
      label: t('tariffs.column.state'),
      render: (row) =>
        row.inForce ? <span className="ov-badge ov-badge--success">{t('tariffs.inForce')}</span> : null,
    },
  ];
  return (
    <div className="ov-admin-tariffs">
      <p className="ov-muted ov-admin-note">{t('tariffs.description')}</p>
      <ErrorNotice
        error={tariffs.error}
        title={t('tariffs.loadFailed')}
        onRetry={() => void tariffs.refetch()}
      />
      {tariffs.isPending ? <p className="ov-muted">{t('loading')}</p> : null}
      {tariffs.data?.length === 0 ? <p className="ov-muted">{t('tariffs.empty')}</p> : null}
      {tariffs.data?.map((tariff, index) => (
        <section key={tariff.code} className="ov-panel" aria-labelledby={`ov-tariff-${index}`}>
          <h2 id={`ov-tariff-${index}`}>
            {tariff.name} <span className="ov-muted ov-admin-code">{tariff.code}</span>
          </h2>
          <p className="ov-muted ov-admin-note">{t(`resource.${tariff.resource}`)}</p>
          <DataTable
            label={t('tariffs.versionsLabel', { name: tariff.name })}
            columns={columns}
            rows={tariff.versions}
            rowKey={(row) => String(row.version)}
            emptyText={t('tariffs.noVersions')}
          />
        </section>
      ))}
    </div>
  );
}
