import { keepPreviousData, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { FloatMovementView } from '../../../src-shared/bridge/contract.ts';
import { useFormat } from '../../app/app-info.ts';
import {
  bridgeQueryKey,
  newRequestId,
  useBridgeMutation,
  useBridgeQuery,
} from '../../app/bridge-context.tsx';
import { useSession } from '../../app/session.tsx';
import {
  Button,
  checkMoney,
  type DataColumn,
  DataTable,
  Dialog,
  DialogActions,
  ErrorNotice,
  KeyValueList,
  MoneyField,
  Notice,
  TextField,
} from '../../components/index.ts';
import { Pager } from './Pager.tsx';
import { PAGE_SIZE } from './SearchBar.tsx';

/** The vendor float: balance with the low-float warning, its movements, and recording a top-up (administrator). */
export function FloatTab() {
  const { t } = useTranslation('admin');
  const { money, dateTime } = useFormat();
  const { can } = useSession();
  const [offset, setOffset] = useState(0);
  const ledger = useBridgeQuery(
    'float.ledger',
    { limit: PAGE_SIZE, offset },
    { placeholderData: keepPreviousData },
  );
  const data = ledger.data;

  const columns: DataColumn<FloatMovementView>[] = [
    {
      id: 'date',
      label: t('float.column.date'),
      isRowHeader: true,
      render: (row) => dateTime(row.createdAt),
    },
    {
      id: 'kind',
      label: t('float.column.kind'),
      render: (row) => t(`float.kind.${row.kind}`, { defaultValue: row.kind }),
    },
    {
      id: 'reference',
      label: t('float.column.reference'),
      render: (row) =>
        row.reference || (row.receiptNo === null ? '—' : t('float.receipt', { receiptNo: row.receiptNo })),
    },
    {
      id: 'amount',
      label: t('float.column.amount'),
      align: 'end',
      render: (row) => (
        <span className={row.amountMinor < 0 ? 'ov-admin-negative' : 'ov-admin-positive'}>
          {row.amountMinor > 0 ? '+' : ''}
          {money(row.amountMinor)}
        </span>
      ),
    },
    {
      id: 'balance',
      label: t('float.column.balance'),
      align: 'end',
      render: (row) => money(row.balanceAfterMinor),
    },
  ];

  return (
    <div className="ov-admin-float">
      <ErrorNotice error={ledger.error} title={t('float.loadFailed')} onRetry={() => void ledger.refetch()} />
      {data ? (
        <div className="ov-admin-columns">
          <section className="ov-panel" aria-labelledby="ov-admin-float-title">
            <h2 id="ov-admin-float-title">{t('float.balanceTitle')}</h2>
            <p className={`ov-admin-balance${data.lowFloat ? ' ov-admin-balance--low' : ''}`}>
              {money(data.balanceMinor)}
            </p>
            <KeyValueList
              className="ov-admin-facts"
              items={[{ label: t('float.threshold'), value: money(data.lowFloatThresholdMinor) }]}
            />
            {data.lowFloat ? (
              <Notice tone="warning" title={t('float.lowTitle')}>
                {t('float.lowText', { threshold: money(data.lowFloatThresholdMinor) })}
              </Notice>
            ) : null}
          </section>
          {can('masterData') ? <TopUpForm /> : null}
        </div>
      ) : null}
      <h2 className="ov-admin-subtitle">{t('float.movements')}</h2>
      <DataTable
        label={t('float.movements')}
        columns={columns}
        rows={data?.rows ?? []}
        rowKey={(row) => String(row.id)}
        emptyText={ledger.isPending ? t('loading') : t('float.empty')}
        className={['ov-admin-table', ledger.isPlaceholderData ? 'ov-stale' : ''].filter(Boolean).join(' ')}
      />
      <Pager
        offset={offset}
        shown={data?.rows.length ?? 0}
        total={data?.total ?? 0}
        pageSize={PAGE_SIZE}
        label={t('float.what')}
        onOffsetChange={setOffset}
      />
    </div>
  );
}

interface PendingTopUp {
  requestId: string;
  amountMinor: number;
  reference: string;
}

/**
 * A top-up paid to the utility. The amount is shown in a confirmation before it is recorded. The request id is
 * made when the confirmation opens and kept for retries of the same amount and reference until one succeeds, so
 * a lost answer never records the money twice.
 */
function TopUpForm() {
  const { t } = useTranslation('admin');
  const { money, currency } = useFormat();
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState('');
  const [reference, setReference] = useState('');
  const [tried, setTried] = useState(false);
  const [pending, setPending] = useState<PendingTopUp | null>(null);
  /** The last top-up sent without a success answer: asking again for the same one reuses its request id. */
  const [unanswered, setUnanswered] = useState<PendingTopUp | null>(null);
  const [recorded, setRecorded] = useState<{ amountMinor: number; balanceMinor: number } | null>(null);
  const topUp = useBridgeMutation('float.topUp', {
    onSuccess: (result, args) => {
      setRecorded({ amountMinor: args.amountMinor, balanceMinor: result.balanceMinor });
      setPending(null);
      setUnanswered(null);
      setAmount('');
      setReference('');
      setTried(false);
      for (const method of ['float.ledger', 'status.get'] as const)
        void queryClient.invalidateQueries({ queryKey: bridgeQueryKey(method) });
    },
  });

  const check = checkMoney(amount, currency, 1);
  const referenceMissing = !reference.trim();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (!check.ok || referenceMissing) return;
    setRecorded(null);
    topUp.reset();
    const same = unanswered?.amountMinor === check.minor && unanswered.reference === reference.trim();
    setPending({
      requestId: same && unanswered ? unanswered.requestId : newRequestId(),
      amountMinor: check.minor,
      reference: reference.trim(),
    });
  };

  const confirm = () => {
    if (!pending || topUp.isPending) return;
    setUnanswered(pending);
    topUp.mutate(pending);
  };

  return (
    <>
      <form className="ov-panel ov-form" noValidate onSubmit={submit} aria-labelledby="ov-admin-topup-title">
        <h2 id="ov-admin-topup-title">{t('float.topUpTitle')}</h2>
        <p className="ov-muted ov-admin-note">{t('float.topUpHint')}</p>
        <MoneyField
          label={t('float.amount')}
          value={amount}
          onChange={(text) => setAmount(text)}
          currency={currency}
          minMinor={1}
          requireValue={tried}
        />
        <TextField
          label={t('float.reference')}
          value={reference}
          onChange={setReference}
          maxLength={100}
          autoComplete="off"
          description={t('float.referenceHint')}
          errorMessage={tried && referenceMissing ? t('float.referenceMissing') : null}
        />
        {recorded ? (
          <Notice
            tone="success"
            live="status"
            title={t('float.recordedTitle', { amount: money(recorded.amountMinor) })}
          >
            {t('float.recordedText', { balance: money(recorded.balanceMinor) })}
          </Notice>
        ) : null}
        <div className="ov-actions">
          <Button type="submit" variant="primary">
            {t('float.topUpSubmit')}
          </Button>
        </div>
      </form>
      {pending ? (
        <Dialog
          isOpen
          onOpenChange={(open) => (open || topUp.isPending ? undefined : setPending(null))}
          title={t('float.confirmTitle')}
          role="alertdialog"
          isKeyboardDismissDisabled={topUp.isPending}
        >
          <p>{t('float.confirmText')}</p>
          <KeyValueList
            items={[
              { label: t('float.amount'), value: money(pending.amountMinor), tone: 'strong' },
              { label: t('float.reference'), value: pending.reference },
            ]}
          />
          <ErrorNotice error={topUp.error} title={t('float.topUpFailed')} />
          <DialogActions>
            <Button onPress={() => setPending(null)} isDisabled={topUp.isPending} shortcut="Esc">
              {t('common:action.cancel')}
            </Button>
            <Button variant="primary" autoFocus onPress={confirm} isPending={topUp.isPending}>
              {topUp.error
                ? t('float.confirmRetry')
                : t('float.confirmSubmit', { amount: money(pending.amountMinor) })}
            </Button>
          </DialogActions>
        </Dialog>
      ) : null}
    </>
  );
}
