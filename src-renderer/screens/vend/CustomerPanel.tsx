import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/app-info.ts';
import { Button, type KeyValueItem, KeyValueList, Notice } from '../../components/index.ts';
import type { MeterConfirmation } from './types.ts';

export interface CustomerPanelProps {
  confirmation: MeterConfirmation;
  onConfirm: () => void;
  onBack: () => void;
}

/** The meter number as printed, in groups of 4 from the left so it can be read back digit by digit. */
export const groupMeterNo = (meterNo: string): string => meterNo.replace(/(\d{4})(?=\d)/g, '$1 ');

/**
 * Step 2: whose meter this is, before any money is taken. The cashier reads the name and address back to the
 * customer; a blocked meter stops here with the reason.
 */
export function CustomerPanel({ confirmation: c, onConfirm, onBack }: CustomerPanelProps) {
  const { t } = useTranslation('vend');
  const { money, units } = useFormat();
  const unitSymbol = t(`unit.${c.resource}`);

  const lastPurchase =
    c.daysSinceLastPurchase === null
      ? t('customer.neverBought')
      : c.daysSinceLastPurchase === 0
        ? t('customer.today')
        : t('customer.daysAgo', { count: c.daysSinceLastPurchase });

  const details: KeyValueItem[] = [
    { label: t('customer.account'), value: c.customer?.accountNo ?? '—' },
    { label: t('customer.address'), value: c.customer ? c.customer.address : '—' },
    ...(c.customer?.location ? [{ label: t('customer.location'), value: c.customer.location }] : []),
    ...(c.customer?.phone ? [{ label: t('customer.phone'), value: c.customer.phone }] : []),
    {
      label: t('customer.arrears'),
      value: money(c.arrearsMinor),
      tone: c.arrearsMinor > 0 ? 'warning' : 'normal',
    },
    { label: t('customer.fbeDue'), value: c.fbeDue ? t('customer.fbeYes') : t('customer.fbeNo') },
    { label: t('customer.lastPurchase'), value: lastPurchase },
  ];
  const meter: KeyValueItem[] = [
    { label: t('customer.tariff'), value: `${c.tariff.name} (${c.tariff.code})` },
    {
      label: t('customer.currentBlock'),
      value: t('customer.blockValue', {
        block: c.currentBlock,
        units: units(c.monthToDateUnits),
        unit: unitSymbol,
      }),
    },
    { label: t('customer.keys'), value: `SGC ${c.sgc} · KRN ${c.krn} · TI ${c.ti} · ${c.ea}` },
    {
      label: t('customer.limits'),
      value: t('customer.limitsValue', { min: money(c.minVendMinor), max: money(c.maxVendMinor) }),
    },
  ];

  return (
    <section className="ov-panel ov-customer" aria-labelledby="ov-customer-title">
      <h2 id="ov-customer-title">{t('customer.title')}</h2>
      <p className="ov-customer__ask">{t('customer.ask')}</p>
      <div className="ov-customer__identity">
        <p className="ov-customer__name">{c.customer ? c.customer.name : t('customer.noCustomer')}</p>
        <p className="ov-customer__meter">
          <span className="ov-customer__meter-label">{t('customer.meter')}</span>{' '}
          <span className="ov-mono" data-meter-no={c.meterNo}>
            {groupMeterNo(c.meterNo)}
          </span>
        </p>
      </div>
      {c.canVend ? null : (
        <Notice tone="danger" live="alert" title={t('customer.blockedTitle')}>
          <p>{t('customer.blockedReason', { reason: c.blockedReason ?? t('customer.noReason') })}</p>
          <p>{t('customer.blockedNext')}</p>
        </Notice>
      )}
      {c.pendingKeyChange ? (
        <Notice tone="warning" title={t('customer.keyChangeTitle')}>
          {t('customer.keyChangeText', { fromKrn: c.krn, toKrn: c.pendingKeyChange.krn })}
        </Notice>
      ) : null}
      <div className="ov-customer__grid">
        <KeyValueList items={details} />
        <KeyValueList items={meter} />
      </div>
      <div className="ov-actions">
        <Button onPress={onBack} shortcut="Esc">
          {t('common:action.back')}
        </Button>
        {c.canVend ? (
          <Button variant="primary" size="large" autoFocus onPress={onConfirm} shortcut="Enter">
            {t('customer.confirm')}
          </Button>
        ) : (
          <Button variant="primary" size="large" autoFocus onPress={onBack} shortcut="Enter">
            {t('customer.otherMeter')}
          </Button>
        )}
      </div>
    </section>
  );
}
