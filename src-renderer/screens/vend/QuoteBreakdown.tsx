import { useTranslation } from 'react-i18next';
import type { PriceBreakdown } from '../../../src-shared/vending/pricing.ts';
import { useFormat } from '../../app/app-info.ts';
import { type KeyValueItem, KeyValueList } from '../../components/index.ts';
import { formatPercentBp } from '../../format/money.ts';

/** Where the customer's money goes: charges, debt, energy, levies, VAT, change; and the units it buys. */
export function QuoteBreakdown({ breakdown: b }: { breakdown: PriceBreakdown }) {
  const { t } = useTranslation('vend');
  const { money, units, locale } = useFormat();
  const unitSymbol = t(`unit.${b.resource}`);
  const items: KeyValueItem[] = [
    { label: t('quote.units'), value: `${units(b.units)} ${unitSymbol}`, tone: 'strong' },
    ...b.fixedCharges.map((charge) => ({
      label: t('quote.fixedCharge', { description: charge.description, count: charge.months }),
      value: money(charge.amountMinor),
    })),
    ...(b.debt
      ? [
          {
            label: t('quote.debt', { description: b.debt.description }),
            value: money(b.debt.amountMinor),
          },
          {
            label: t('quote.debtLeft'),
            value: money(b.debt.balanceAfterMinor),
            tone: 'warning' as const,
          },
        ]
      : []),
    { label: t('quote.energy'), value: money(b.energyMinor) },
    ...b.levies.map((levy) => ({ label: levy.name, value: money(levy.amountMinor) })),
    {
      label: t('quote.vat', { rate: formatPercentBp(b.vat.rateBp, locale) }),
      value: money(b.vat.amountMinor),
    },
    ...(b.fbe ? [{ label: t('quote.fbe'), value: `${units(b.fbe.units)} ${unitSymbol}` }] : []),
    { label: t('quote.change'), value: money(b.changeMinor), tone: b.changeMinor > 0 ? 'warning' : 'normal' },
    { label: t('quote.total'), value: money(b.tenderMinor), tone: 'strong' },
  ];
  return <KeyValueList items={items} className="ov-quote" />;
}
