import { keepPreviousData, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CustomerRowView, MethodArgs } from '../../../src-shared/bridge/contract.ts';
import { useFormat } from '../../app/app-info.ts';
import { bridgeQueryKey, useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import {
  Button,
  type DataColumn,
  DataTable,
  ErrorNotice,
  KeyValueList,
  Notice,
  TextField,
} from '../../components/index.ts';
import { groupMeterNo } from '../vend/CustomerPanel.tsx';
import { Pager } from './Pager.tsx';
import { FIRST_PAGE, PAGE_SIZE, type PagedArgs, SearchBar } from './SearchBar.tsx';
import { useEdit } from './use-edit.ts';

/** Customers: search, a paged list with arrears and meters, and the selected customer's contact details. */
export function CustomersTab() {
  const { t } = useTranslation('admin');
  const { money } = useFormat();
  const [args, setArgs] = useState<PagedArgs>(FIRST_PAGE);
  const [selected, setSelected] = useState<string | null>(null);
  const list = useBridgeQuery('customers.list', args, { placeholderData: keepPreviousData });
  const rows = list.data?.rows ?? [];
  const selectedRow = rows.find((row) => row.accountNo === selected) ?? null;

  const columns: DataColumn<CustomerRowView>[] = [
    {
      id: 'account',
      label: t('customers.column.account'),
      isRowHeader: true,
      render: (row) => row.accountNo,
    },
    { id: 'name', label: t('customers.column.name'), render: (row) => row.name },
    {
      id: 'meters',
      label: t('customers.column.meters'),
      align: 'end',
      render: (row) => row.meterNos.length,
    },
    {
      id: 'arrears',
      label: t('customers.column.arrears'),
      align: 'end',
      render: (row) =>
        row.arrearsMinor > 0 ? <span className="ov-text-warning">{money(row.arrearsMinor)}</span> : money(0),
    },
  ];

  return (
    <div className="ov-admin-split">
      <div className="ov-admin-split__list">
        <SearchBar
          label={t('customers.search')}
          description={t('customers.searchHint')}
          onSearch={(query) => {
            setSelected(null);
            setArgs({ ...FIRST_PAGE, query });
          }}
        />
        <ErrorNotice
          error={list.error}
          title={t('customers.loadFailed')}
          onRetry={() => void list.refetch()}
        />
        <DataTable
          label={t('customers.tableLabel')}
          columns={columns}
          rows={rows}
          rowKey={(row) => row.accountNo}
          selectedKey={selected}
          onSelectionChange={setSelected}
          emptyText={list.isPending ? t('loading') : t('customers.empty')}
          className={['ov-admin-table', list.isPlaceholderData ? 'ov-stale' : ''].filter(Boolean).join(' ')}
        />
        <Pager
          offset={args.offset}
          shown={rows.length}
          total={list.data?.total ?? 0}
          pageSize={PAGE_SIZE}
          label={t('customers.what')}
          onOffsetChange={(offset) => setArgs({ ...args, offset })}
        />
      </div>
      <div className="ov-admin-split__detail">
        {selectedRow ? (
          <CustomerEditor key={selectedRow.accountNo} customer={selectedRow} />
        ) : (
          <div className="ov-panel">
            <p className="ov-muted">{t('customers.selectHint')}</p>
          </div>
        )}
      </div>
    </div>
  );
}

type CustomerUpdate = MethodArgs<'customers.update'>;
const FIELDS = ['name', 'address', 'phone', 'location'] as const;
type Field = (typeof FIELDS)[number];

/** Edits one customer's name and contact details; sends only what changed. */
function CustomerEditor({ customer }: { customer: CustomerRowView }) {
  const { t } = useTranslation('admin');
  const { money } = useFormat();
  const queryClient = useQueryClient();
  const [values, setValues] = useState<Record<Field, string>>({
    name: customer.name,
    address: customer.address,
    phone: customer.phone,
    location: customer.location,
  });
  const [tried, setTried] = useState(false);
  const save = useBridgeMutation('customers.update', {
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: bridgeQueryKey('customers.list') }),
  });
  const edit = useEdit(save);

  const changes: CustomerUpdate = { accountNo: customer.accountNo };
  for (const field of FIELDS)
    if (values[field].trim() !== customer[field]) changes[field] = values[field].trim();
  const changed = Object.keys(changes).length > 1;
  const nameMissing = !values.name.trim();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (nameMissing || !changed || save.isPending) return;
    save.mutate(changes);
  };

  const field = (
    key: Field,
    maxLength: number,
    extra: { errorMessage?: string | null; inputMode?: 'tel' } = {},
  ) => (
    <TextField
      label={t(`customers.field.${key}`)}
      value={values[key]}
      onChange={edit((value: string) => setValues((before) => ({ ...before, [key]: value })))}
      maxLength={maxLength}
      autoComplete="off"
      {...extra}
    />
  );

  return (
    <form className="ov-panel ov-form" noValidate onSubmit={submit} aria-labelledby="ov-admin-customer-title">
      <h2 id="ov-admin-customer-title">{t('customers.editTitle', { account: customer.accountNo })}</h2>
      <KeyValueList
        className="ov-admin-facts"
        items={[
          {
            label: t('customers.column.arrears'),
            value: money(customer.arrearsMinor),
            tone: customer.arrearsMinor > 0 ? 'warning' : 'normal',
          },
          {
            label: t('customers.column.meters'),
            value:
              customer.meterNos.length === 0 ? (
                t('customers.noMeters')
              ) : (
                <span className="ov-mono">{customer.meterNos.map(groupMeterNo).join(', ')}</span>
              ),
          },
        ]}
      />
      {field('name', 120, { errorMessage: tried && nameMissing ? t('customers.nameMissing') : null })}
      {field('address', 200)}
      {field('phone', 40, { inputMode: 'tel' })}
      {field('location', 120)}
      <ErrorNotice error={save.error} title={t('customers.saveFailed')} />
      {save.data && !save.isPending ? <Notice tone="success" live="status" title={t('saved')} /> : null}
      {tried && !changed && !save.data ? <Notice tone="info">{t('nothingChanged')}</Notice> : null}
      <div className="ov-actions">
        <Button type="submit" variant="primary" isPending={save.isPending}>
          {t('save')}
        </Button>
      </div>
    </form>
  );
}
