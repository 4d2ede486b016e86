import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/app-info.ts';
import { Button, ErrorNotice, KeyValueList, Notice } from '../../components/index.ts';
import { groupMeterNo } from './CustomerPanel.tsx';
import type { MeterConfirmation, Quote } from './types.ts';

export interface ConfirmStepProps {
  confirmation: MeterConfirmation;
  quote: Quote;
  pending: boolean;
  error: unknown;
  /** The last attempt may have reached the engine: "Try again" resends the same request (never sold twice). */
  outcomeUnknown: boolean;
  onSell: () => void;
  onBack: () => void;
}

/** Step 4: the last look before money becomes a token: meter number, customer, amount and units, large. */
export function ConfirmStep({
  confirmation: c,
  quote,
  pending,
  error,
  outcomeUnknown,
  onSell,
  onBack,
}: ConfirmStepProps) {
  const { t } = useTranslation('vend');
  const { money, units } = useFormat();
  const b = quote.breakdown;
  const unitSymbol = t(`unit.${b.resource}`);
  return (
    <section className="ov-panel ov-confirm" aria-labelledby="ov-confirm-title">
      <h2 id="ov-confirm-title">{t('confirm.title')}</h2>
      <div className="ov-confirm__meter">
        <span className="ov-confirm__meter-label">{t('confirm.meter')}</span>
        <span className="ov-confirm__meter-no ov-mono" data-meter-no={c.meterNo}>
          {groupMeterNo(c.meterNo)}
        </span>
        <span className="ov-confirm__name">{c.customer?.name ?? t('customer.noCustomer')}</span>
        {c.customer ? <span className="ov-confirm__address">{c.customer.address}</span> : null}
      </div>
      <KeyValueList
        className="ov-confirm__figures"
        items={[
          { label: t('confirm.amount'), value: money(b.tenderMinor), tone: 'strong' },
          { label: t('confirm.units'), value: `${units(b.units)} ${unitSymbol}`, tone: 'strong' },
          ...(b.fbe ? [{ label: t('quote.fbe'), value: `${units(b.fbe.units)} ${unitSymbol}` }] : []),
          ...(b.changeMinor > 0
            ? [{ label: t('quote.change'), value: money(b.changeMinor), tone: 'warning' as const }]
            : []),
        ]}
      />
      {c.pendingKeyChange ? <Notice tone="warning">{t('confirm.keyChange')}</Notice> : null}
      {outcomeUnknown ? (
        <Notice tone="warning" live="alert" title={t('confirm.unknownTitle')}>
          {t('confirm.unknownText')}
        </Notice>
      ) : null}
      <ErrorNotice error={error} title={t('confirm.failed')} />
      <div className="ov-actions">
        <Button onPress={onBack} isDisabled={pending} shortcut="Esc">
          {t('common:action.back')}
        </Button>
        <Button
          variant="primary"
          size="large"
          autoFocus
          isPending={pending}
          onPress={onSell}
          shortcut="Enter"
        >
          {pending
            ? t('confirm.selling')
            : error
              ? t('confirm.retry')
              : t('confirm.sell', { amount: money(b.tenderMinor) })}
        </Button>
      </div>
    </section>
  );
}
