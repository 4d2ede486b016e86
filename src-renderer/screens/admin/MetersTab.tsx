import { keepPreviousData, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MeterRowView, MethodArgs } from '../../../src-shared/bridge/contract.ts';
import { formatTi } from '../../../src-shared/sts/identifiers.ts';
import { useFormat } from '../../app/app-info.ts';
import { bridgeQueryKey, useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import {
  Button,
  type DataColumn,
  DataTable,
  ErrorNotice,
  KeyValueList,
  Notice,
  Select,
  TextField,
} from '../../components/index.ts';
import { groupMeterNo } from '../vend/CustomerPanel.tsx';
import { CheckBox } from './CheckBox.tsx';
import { Pager } from './Pager.tsx';
import { FIRST_PAGE, PAGE_SIZE, type PagedArgs, SearchBar } from './SearchBar.tsx';
import { useEdit } from './use-edit.ts';

/** Meters: search, a paged list, and the selected meter's tariff, customer and blocked state. */
export function MetersTab() {
  const { t } = useTranslation('admin');
  const [args, setArgs] = useState<PagedArgs>(FIRST_PAGE);
  const [selected, setSelected] = useState<string | null>(null);
  const list = useBridgeQuery('meters.list', args, { placeholderData: keepPreviousData });
  const rows = list.data?.rows ?? [];
  const selectedRow = rows.find((row) => row.meterNo === selected) ?? null;

  const columns: DataColumn<MeterRowView>[] = [
    {
      id: 'meter',
      label: t('meters.column.meter'),
      isRowHeader: true,
      render: (row) => <span className="ov-mono ov-admin-nowrap">{groupMeterNo(row.meterNo)}</span>,
    },
    {
      id: 'customer',
      label: t('meters.column.customer'),
      render: (row) => row.customerName ?? <span className="ov-muted">{t('meters.noCustomer')}</span>,
    },
    {
      id: 'tariff',
      label: t('meters.column.tariff'),
      render: (row) => <span className="ov-admin-nowrap">{row.tariffCode}</span>,
    },
    {
      id: 'state',
      label: t('meters.column.state'),
      render: (row) => <MeterBadges row={row} />,
    },
  ];

  return (
    <div className="ov-admin-split">
      <div className="ov-admin-split__list">
        <SearchBar
          label={t('meters.search')}
          description={t('meters.searchHint')}
          onSearch={(query) => {
            setSelected(null);
            setArgs({ ...FIRST_PAGE, query });
          }}
        />
        <ErrorNotice error={list.error} title={t('meters.loadFailed')} onRetry={() => void list.refetch()} />
        <DataTable
          label={t('meters.tableLabel')}
          columns={columns}
          rows={rows}
          rowKey={(row) => row.meterNo}
          selectedKey={selected}
          onSelectionChange={setSelected}
          emptyText={list.isPending ? t('loading') : t('meters.empty')}
          className={['ov-admin-table', list.isPlaceholderData ? 'ov-stale' : ''].filter(Boolean).join(' ')}
        />
        <Pager
          offset={args.offset}
          shown={rows.length}
          total={list.data?.total ?? 0}
          pageSize={PAGE_SIZE}
          label={t('meters.what')}
          onOffsetChange={(offset) => setArgs({ ...args, offset })}
        />
      </div>
      <div className="ov-admin-split__detail">
        {selectedRow ? (
          <MeterEditor key={selectedRow.meterNo} meter={selectedRow} />
        ) : (
          <div className="ov-panel">
            <p className="ov-muted">{t('meters.selectHint')}</p>
          </div>
        )}
      </div>
    </div>
  );
}

function MeterBadges({ row }: { row: MeterRowView }) {
  const { t } = useTranslation('admin');
  if (!row.blocked && !row.pendingKeyChange)
    return <span className="ov-muted ov-admin-nowrap">{t('meters.state.ok')}</span>;
  return (
    <span className="ov-admin-badges">
      {row.blocked ? <span className="ov-badge ov-badge--danger">{t('meters.state.blocked')}</span> : null}
      {row.pendingKeyChange ? (
        <span className="ov-badge ov-badge--warning">{t('meters.state.keyChange')}</span>
      ) : null}
    </span>
  );
}

type MeterUpdate = MethodArgs<'meters.update'>;

/** Edits one meter; sends only what changed. The engine audits every change. */
function MeterEditor({ meter }: { meter: MeterRowView }) {
  const { t } = useTranslation('admin');
  const { dateTime } = useFormat();
  const queryClient = useQueryClient();
  const tariffs = useBridgeQuery('tariffs.list', {});
  const [tariffCode, setTariffCode] = useState(meter.tariffCode);
  const [account, setAccount] = useState(meter.customerAccountNo ?? '');
  const [blocked, setBlocked] = useState(meter.blocked);
  const [reason, setReason] = useState(meter.blockedReason ?? '');
  const [tried, setTried] = useState(false);
  const [wasPending] = useState(meter.pendingKeyChange);
  const save = useBridgeMutation('meters.update', {
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: bridgeQueryKey('meters.list') }),
  });
  const edit = useEdit(save);

  const options = (tariffs.data ?? [])
    .filter((tariff) => tariff.resource === meter.resource)
    .map((tariff) => ({ id: tariff.code, label: `${tariff.code} – ${tariff.name}` }));
  if (!options.some((option) => option.id === meter.tariffCode))
    options.unshift({ id: meter.tariffCode, label: meter.tariffCode });

  const reasonMissing = blocked && !reason.trim();
  const changes: MeterUpdate = { meterNo: meter.meterNo };
  if (tariffCode !== meter.tariffCode) changes.tariffCode = tariffCode;
  if (account.trim() !== (meter.customerAccountNo ?? '')) changes.customerAccountNo = account.trim() || null;
  if (blocked !== meter.blocked) changes.blocked = blocked;
  if (blocked && reason.trim() !== (meter.blockedReason ?? '')) changes.blockedReason = reason.trim();
  const changed = Object.keys(changes).length > 1;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (reasonMissing || !changed || save.isPending) return;
    save.mutate(changes);
  };

  const saved = save.data;
  return (
    <form className="ov-panel ov-form" noValidate onSubmit={submit} aria-labelledby="ov-admin-meter-title">
      <h2 id="ov-admin-meter-title">
        {t('meters.editTitle')} <span className="ov-mono ov-admin-nowrap">{groupMeterNo(meter.meterNo)}</span>
      </h2>
      <KeyValueList
        className="ov-admin-facts"
        items={[
          { label: t('meters.resource'), value: t(`resource.${meter.resource}`) },
          {
            label: t('meters.keys'),
            value: t('meters.keysValue', { sgc: meter.sgc, krn: meter.krn, ti: formatTi(meter.ti) }),
          },
          {
            label: t('meters.column.lastPurchase'),
            value: meter.lastPurchaseAt ? dateTime(meter.lastPurchaseAt) : t('meters.never'),
          },
          ...(meter.pendingKeyChange
            ? [
                {
                  label: t('meters.state.keyChange'),
                  value: t('meters.keyChangeDue'),
                  tone: 'warning' as const,
                },
              ]
            : []),
        ]}
      />
      <Select
        label={t('meters.tariff')}
        options={options}
        value={tariffCode}
        onChange={edit(setTariffCode)}
        description={t('meters.tariffHint')}
      />
      <TextField
        label={t('meters.customerAccount')}
        value={account}
        onChange={edit(setAccount)}
        autoComplete="off"
        description={
          meter.customerName
            ? t('meters.customerNow', { name: meter.customerName })
            : t('meters.customerHint')
        }
      />
      <CheckBox isSelected={blocked} onChange={edit(setBlocked)} description={t('meters.blockedHint')}>
        {t('meters.blocked')}
      </CheckBox>
      {blocked ? (
        <TextField
          label={t('meters.blockedReason')}
          value={reason}
          onChange={edit(setReason)}
          maxLength={200}
          errorMessage={tried && reasonMissing ? t('meters.reasonMissing') : null}
        />
      ) : null}
      <ErrorNotice error={save.error} title={t('meters.saveFailed')} />
      {saved && !save.isPending ? (
        <Notice tone="success" live="status" title={t('saved')}>
          {saved.pendingKeyChange && !wasPending ? t('meters.keyChangeScheduled') : null}
        </Notice>
      ) : null}
      {tried && !changed && !save.isPending && !saved ? (
        <Notice tone="info">{t('nothingChanged')}</Notice>
      ) : null}
      <div className="ov-actions">
        <Button type="submit" variant="primary" isPending={save.isPending}>
          {t('save')}
        </Button>
      </div>
    </form>
  );
}
