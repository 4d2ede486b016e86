import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MethodArgs, OutletSettings } from '../../../src-shared/bridge/contract.ts';
import { useFormat } from '../../app/app-info.ts';
import { bridgeQueryKey, useBridgeMutation, useBridgeQuery } from '../../app/bridge-context.tsx';
import { decimalSeparatorOf } from '../../app/locale.ts';
import { useSession } from '../../app/session.tsx';
import {
  Button,
  checkMoney,
  ErrorNotice,
  type KeyValueItem,
  KeyValueList,
  MoneyField,
  Notice,
  Select,
  TextField,
} from '../../components/index.ts';
import { moneyInputText } from '../../format/money-input.ts';
import { useAdminFormat } from './admin-format.ts';
import { useEdit } from './use-edit.ts';

type Columns = OutletSettings['receiptColumns'];
const WIDTHS = ['32', '42', '48'] as const;

/** Outlet settings (editable by an administrator) and the vending authority the utility granted (read-only). */
export function OutletTab() {
  const { t } = useTranslation('admin');
  const { can } = useSession();
  const outlet = useBridgeQuery('outlet.get', {});
  return (
    <div className="ov-admin-outlet">
      <ErrorNotice
        error={outlet.error}
        title={t('outlet.loadFailed')}
        onRetry={() => void outlet.refetch()}
      />
      {outlet.isPending ? <p className="ov-muted">{t('loading')}</p> : null}
      {outlet.data ? (
        <div className="ov-admin-columns">
          {can('masterData') ? <OutletForm outlet={outlet.data} /> : <OutletFacts outlet={outlet.data} />}
          <Authority outlet={outlet.data} />
        </div>
      ) : null}
    </div>
  );
}

function OutletFacts({ outlet }: { outlet: OutletSettings }) {
  const { t } = useTranslation('admin');
  const { money } = useFormat();
  return (
    <section className="ov-panel" aria-labelledby="ov-admin-outlet-title">
      <h2 id="ov-admin-outlet-title">{t('outlet.title')}</h2>
      <KeyValueList
        className="ov-admin-facts"
        items={[
          { label: t('outlet.code'), value: outlet.code },
          { label: t('outlet.terminal'), value: outlet.terminalId },
          { label: t('outlet.name'), value: outlet.name },
          { label: t('outlet.address'), value: outlet.address || '—' },
          { label: t('outlet.receiptColumns'), value: t('outlet.width', { count: outlet.receiptColumns }) },
          { label: t('outlet.lowFloat'), value: money(outlet.lowFloatThresholdMinor) },
        ]}
      />
    </section>
  );
}

type OutletUpdate = MethodArgs<'outlet.update'>;

function OutletForm({ outlet }: { outlet: OutletSettings }) {
  const { t } = useTranslation('admin');
  const { currency, locale } = useFormat();
  const queryClient = useQueryClient();
  const [name, setName] = useState(outlet.name);
  const [address, setAddress] = useState(outlet.address);
  const [columns, setColumns] = useState<Columns>(outlet.receiptColumns);
  const [threshold, setThreshold] = useState(() =>
    moneyInputText(outlet.lowFloatThresholdMinor, currency, decimalSeparatorOf(locale)),
  );
  const [tried, setTried] = useState(false);
  const save = useBridgeMutation('outlet.update', {
    onSuccess: () => {
      for (const method of ['outlet.get', 'app.info', 'status.get', 'float.ledger'] as const)
        void queryClient.invalidateQueries({ queryKey: bridgeQueryKey(method) });
    },
  });
  const edit = useEdit(save);

  const money = checkMoney(threshold, currency, 0);
  const nameMissing = !name.trim();
  const changes: OutletUpdate = {};
  if (name.trim() !== outlet.name) changes.name = name.trim();
  if (address.trim() !== outlet.address) changes.address = address.trim();
  if (columns !== outlet.receiptColumns) changes.receiptColumns = columns;
  if (money.ok && money.minor !== outlet.lowFloatThresholdMinor) changes.lowFloatThresholdMinor = money.minor;
  const changed = Object.keys(changes).length > 0;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (nameMissing || !money.ok || !changed || save.isPending) return;
    save.mutate(changes);
  };

  return (
    <form className="ov-panel ov-form" noValidate onSubmit={submit} aria-labelledby="ov-admin-outlet-title">
      <h2 id="ov-admin-outlet-title">{t('outlet.title')}</h2>
      <KeyValueList
        className="ov-admin-facts"
        items={[
          { label: t('outlet.code'), value: outlet.code },
          { label: t('outlet.terminal'), value: outlet.terminalId },
        ]}
      />
      <TextField
        label={t('outlet.name')}
        value={name}
        onChange={edit(setName)}
        maxLength={120}
        autoComplete="off"
        errorMessage={tried && nameMissing ? t('outlet.nameMissing') : null}
      />
      <TextField
        label={t('outlet.address')}
        value={address}
        onChange={edit(setAddress)}
        maxLength={200}
        autoComplete="off"
      />
      <Select<(typeof WIDTHS)[number]>
        label={t('outlet.receiptColumns')}
        options={WIDTHS.map((id) => ({ id, label: t('outlet.width', { count: Number(id) }) }))}
        value={String(columns) as (typeof WIDTHS)[number]}
        onChange={edit((value: string) => setColumns(Number(value) as Columns))}
        description={t('outlet.receiptColumnsHint')}
      />
      <MoneyField
        label={t('outlet.lowFloat')}
        value={threshold}
        onChange={edit((text: string) => setThreshold(text))}
        currency={currency}
        minMinor={0}
        requireValue={tried}
        description={t('outlet.lowFloatHint')}
      />
      <ErrorNotice error={save.error} title={t('outlet.saveFailed')} />
      {save.data && !save.isPending ? <Notice tone="success" live="status" title={t('saved')} /> : null}
      {tried && !changed && !save.data && money.ok && !nameMissing ? (
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

function Authority({ outlet }: { outlet: OutletSettings }) {
  const { t } = useTranslation('admin');
  const { money } = useFormat();
  const { day } = useAdminFormat();
  const { creditLimitMinor, usedMinor, validUntil } = outlet.authority;
  const left = creditLimitMinor - usedMinor;
  const expired = new Date(validUntil).getTime() < Date.now();
  const items: KeyValueItem[] = [
    { label: t('outlet.authorityLimit'), value: money(creditLimitMinor) },
    { label: t('outlet.authorityUsed'), value: money(usedMinor) },
    {
      label: t('outlet.authorityLeft'),
      value: money(Math.max(0, left)),
      tone: left <= 0 ? 'danger' : 'strong',
    },
    { label: t('outlet.authorityValidUntil'), value: day(validUntil), tone: expired ? 'danger' : 'normal' },
  ];
  return (
    <section className="ov-panel" aria-labelledby="ov-admin-authority-title">
      <h2 id="ov-admin-authority-title">{t('outlet.authorityTitle')}</h2>
      <p className="ov-muted ov-admin-note">{t('outlet.authorityHint')}</p>
      <KeyValueList items={items} className="ov-admin-facts" />
      {expired ? (
        <Notice tone="danger" title={t('outlet.authorityExpired')}>
          {t('outlet.authorityCall')}
        </Notice>
      ) : left <= 0 ? (
        <Notice tone="danger" title={t('outlet.authorityUsedUp')}>
          {t('outlet.authorityCall')}
        </Notice>
      ) : null}
    </section>
  );
}
