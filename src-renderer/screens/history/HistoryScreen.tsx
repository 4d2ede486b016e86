import { keepPreviousData } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MethodArgs, SaleSummary } from '../../../src-shared/bridge/contract.ts';
import { useAppInfo, useFormat } from '../../app/app-info.ts';
import { useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import { useSession } from '../../app/session.tsx';
import { useShortcuts } from '../../app/shortcuts.ts';
import { receiptText } from '../../app/slips.ts';
import {
  Button,
  type DataColumn,
  DataTable,
  DateField,
  ErrorNotice,
  PageHeader,
  ShortcutBar,
  SlipDialog,
  TextField,
} from '../../components/index.ts';
import { ReverseDialog } from './ReverseDialog.tsx';

const PAGE_SIZE = 50;

type SearchArgs = MethodArgs<'sales.search'>;

interface Filters {
  meter: string;
  receipt: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { meter: '', receipt: '', from: '', to: '' };

/** Search sales by meter, receipt number and dates; reprint (COPY) or reverse (supervisor) the selected one. */
export function HistoryScreen() {
  const { t } = useTranslation('history');
  const { data: info } = useAppInfo();
  const { money, units, dateTime } = useFormat();
  const { can } = useSession();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [args, setArgs] = useState<SearchArgs>({ limit: PAGE_SIZE, offset: 0 });
  const [selected, setSelected] = useState<string | null>(null);
  const [reversing, setReversing] = useState<SaleSummary | null>(null);
  const [invalid, setInvalid] = useState<Partial<Record<keyof Filters, string>>>({});

  const search = useBridgeQuery('sales.search', args, { placeholderData: keepPreviousData });
  const reprint = useBridgeMutation('sales.reprint');

  const rows = search.data?.rows ?? [];
  const total = search.data?.total ?? 0;
  const offset = args.offset ?? 0;
  const selectedSale = rows.find((row) => String(row.receiptNo) === selected) ?? null;

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const problems: Partial<Record<keyof Filters, string>> = {};
    const receipt = filters.receipt.trim();
    if (receipt && !/^\d+$/.test(receipt)) problems.receipt = t('search.receiptInvalid');
    if (filters.from && filters.to && filters.from > filters.to) problems.to = t('search.datesReversed');
    setInvalid(problems);
    if (Object.keys(problems).length > 0) return;
    const next: SearchArgs = { limit: PAGE_SIZE, offset: 0 };
    if (filters.meter.trim()) next.meterNumber = filters.meter.replace(/[\s-]/g, '');
    if (receipt && Number(receipt) > 0) next.receiptNo = Number(receipt);
    if (filters.from) next.fromDate = filters.from;
    if (filters.to) next.toDate = filters.to;
    setSelected(null);
    setArgs(next);
  };

  const doReprint = () => {
    if (selectedSale && !reprint.isPending) reprint.mutate({ receiptNo: selectedSale.receiptNo });
  };
  const canReverse = (sale: SaleSummary | null) =>
    sale !== null &&
    can('sell') &&
    sale.kind === 'sale' &&
    sale.reversedBy === null &&
    sale.reverses === null;

  useShortcuts({ F9: doReprint });

  const columns: DataColumn<SaleSummary>[] = [
    {
      id: 'receipt',
      label: t('column.receipt'),
      isRowHeader: true,
      nowrap: true,
      render: (row) => row.receiptNoText,
    },
    { id: 'date', label: t('column.date'), render: (row) => dateTime(row.createdAt) },
    {
      id: 'kind',
      label: t('column.kind'),
      render: (row) => (
        <span className="ov-kind">
          {t(`kind.${row.kind}`, { defaultValue: row.kind })}
          {row.reversedBy !== null ? (
            <span className="ov-badge ov-badge--danger">
              {t('state.reversed', { receiptNo: row.reversedBy })}
            </span>
          ) : null}
          {row.reverses !== null ? (
            <span className="ov-badge ov-badge--info">
              {t('state.reverses', { receiptNo: row.reverses })}
            </span>
          ) : null}
        </span>
      ),
    },
    {
      id: 'meter',
      label: t('column.meter'),
      render: (row) => <span className="ov-mono">{row.meterNo ?? '—'}</span>,
    },
    { id: 'customer', label: t('column.customer'), render: (row) => row.customerName ?? '—' },
    { id: 'operator', label: t('column.operator'), render: (row) => row.operator },
    {
      id: 'amount',
      label: t('column.amount'),
      align: 'end',
      nowrap: true,
      render: (row) => money(row.amountMinor),
    },
    { id: 'units', label: t('column.units'), align: 'end', render: (row) => units(row.units) },
  ];

  return (
    <div className="ov-history">
      <PageHeader title={t('title')} description={t('description')} />
      <form className="ov-panel ov-search" noValidate onSubmit={submit} aria-label={t('search.label')}>
        <TextField
          label={t('search.meter')}
          value={filters.meter}
          onChange={(meter) => setFilters({ ...filters, meter })}
          inputMode="numeric"
          inputClassName="ov-input--mono"
          autoFocus
        />
        <TextField
          label={t('search.receipt')}
          value={filters.receipt}
          onChange={(receipt) => setFilters({ ...filters, receipt })}
          inputMode="numeric"
          errorMessage={invalid.receipt}
        />
        <DateField
          label={t('search.from')}
          value={filters.from}
          onChange={(from) => setFilters({ ...filters, from })}
        />
        <DateField
          label={t('search.to')}
          value={filters.to}
          onChange={(to) => setFilters({ ...filters, to })}
          errorMessage={invalid.to}
        />
        <div className="ov-search__buttons">
          <Button type="submit" variant="primary" shortcut="Enter">
            {t('search.submit')}
          </Button>
          <Button
            onPress={() => {
              setFilters(EMPTY);
              setInvalid({});
              setSelected(null);
              setArgs({ limit: PAGE_SIZE, offset: 0 });
            }}
          >
            {t('search.clear')}
          </Button>
        </div>
      </form>

      <ErrorNotice error={search.error} title={t('search.failed')} onRetry={() => void search.refetch()} />
      <div className="ov-history__toolbar">
        <p className="ov-history__count" aria-live="polite">
          {total === 0
            ? t('results.none')
            : t('results.range', { from: offset + 1, to: offset + rows.length, total })}
        </p>
        <div className="ov-actions">
          <Button onPress={doReprint} isDisabled={!selectedSale} isPending={reprint.isPending} shortcut="F9">
            {t('action.reprint')}
          </Button>
          {can('sell') ? (
            <Button
              variant="danger"
              isDisabled={!canReverse(selectedSale)}
              onPress={() => selectedSale && setReversing(selectedSale)}
            >
              {t('action.reverse')}
            </Button>
          ) : null}
        </div>
      </div>
      <ErrorNotice error={reprint.error} title={t('reprintFailed')} />
      <DataTable
        label={t('table.label')}
        columns={columns}
        rows={rows}
        rowKey={(row) => String(row.receiptNo)}
        selectedKey={selected}
        onSelectionChange={setSelected}
        onRowAction={(key) => setSelected(key)}
        emptyText={search.isPending ? t('results.loading') : t('results.empty')}
        className={search.isPlaceholderData ? 'ov-stale' : undefined}
      />
      <div className="ov-pager">
        <Button
          isDisabled={offset === 0}
          onPress={() => setArgs({ ...args, offset: Math.max(0, offset - PAGE_SIZE) })}
        >
          {t('pager.previous')}
        </Button>
        <Button
          isDisabled={offset + rows.length >= total}
          onPress={() => setArgs({ ...args, offset: offset + PAGE_SIZE })}
        >
          {t('pager.next')}
        </Button>
      </div>
      <ShortcutBar
        label={t('common:shortcuts')}
        hints={[
          { keys: 'Enter', label: t('search.submit') },
          { keys: '↑ ↓', label: t('hint.select') },
          { keys: 'F9', label: t('action.reprint') },
        ]}
      />
      {reprint.data && info ? (
        <SlipDialog
          isOpen
          onClose={() => reprint.reset()}
          title={t('reprintTitle')}
          label={t('receiptLabel', { receiptNo: reprint.data.receipt.header.receiptNo })}
          text={receiptText(reprint.data.receipt, info)}
          copy
        />
      ) : null}
      {reversing ? <ReverseDialog sale={reversing} onClose={() => setReversing(null)} /> : null}
    </div>
  );
}
