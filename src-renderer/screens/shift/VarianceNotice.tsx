import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/app-info.ts';
import { KeyValueList, Notice } from '../../components/index.ts';

export interface CashCount {
  declaredMinor: number;
  expectedMinor: number;
  varianceMinor: number;
}

/** The variance in words a cashier cannot misread: short (less cash than expected), over, or exact. */
export function VarianceNotice({ cash }: { cash: CashCount }) {
  const { t } = useTranslation('shift');
  const { money } = useFormat();
  const v = cash.varianceMinor;
  const tone = v < 0 ? 'danger' : v > 0 ? 'warning' : 'success';
  const title =
    v < 0
      ? t('variance.short', { amount: money(-v) })
      : v > 0
        ? t('variance.over', { amount: money(v) })
        : t('variance.exact');
  return (
    <Notice tone={tone} live="status" title={title}>
      <KeyValueList
        items={[
          { label: t('variance.declared'), value: money(cash.declaredMinor) },
          { label: t('variance.expected'), value: money(cash.expectedMinor) },
          { label: t('variance.variance'), value: money(v), tone: v === 0 ? 'normal' : 'strong' },
        ]}
      />
    </Notice>
  );
}
