import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { IssuedToken } from '../../../src-shared/bridge/domain-schemas.ts';
import { useFormat } from '../../app/app-info.ts';
import { Button, ErrorNotice, Notice, TokenDisplay } from '../../components/index.ts';
import { groupMeterNo } from './CustomerPanel.tsx';
import { CardFeedback, PrintFeedback } from './DeviceFeedback.tsx';
import type { MeterConfirmation, SaleResult } from './types.ts';
import type { CardWriting, ReceiptPrinting } from './use-result-devices.ts';

/** Key change tokens first (in their own order), then the rest in issue order: the order the meter needs. */
export const entryOrder = (tokens: readonly IssuedToken[]): IssuedToken[] => {
  const bySeq = [...tokens].sort((a, b) => a.seq - b.seq);
  return [
    ...bySeq.filter((token) => token.kind === 'key-change'),
    ...bySeq.filter((token) => token.kind !== 'key-change'),
  ];
};

export interface ResultStepProps {
  confirmation: MeterConfirmation;
  sale: SaleResult;
  onPrint: () => void;
  onReprint: () => void;
  reprintPending: boolean;
  reprintError: unknown;
  onWriteCard: () => void;
  onNewSale: () => void;
  /** The receipt printer's state (when one is set; else Print shows the on-screen preview). */
  printing: ReceiptPrinting;
  /** Opens the page as the simulated printer printed it. */
  onShowPrinted: () => void;
  /** The card encoder's state (when one is set). */
  card: CardWriting;
}

/** Step 5: the tokens, large, in entry order, with the receipt actions. */
export function ResultStep({
  confirmation,
  sale,
  onPrint,
  onReprint,
  reprintPending,
  reprintError,
  onWriteCard,
  onNewSale,
  printing,
  onShowPrinted,
  card,
}: ResultStepProps) {
  const { t } = useTranslation('vend');
  const { money, units } = useFormat();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const tokens = entryOrder(sale.tokens);
  const keyChanges = tokens.filter((token) => token.kind === 'key-change').length;
  const resource = sale.breakdown?.resource ?? confirmation.resource;
  const unitSymbol = t(`unit.${resource}`);
  let keyChangeIndex = 0;
  return (
    <section className="ov-panel ov-result" aria-labelledby="ov-result-title">
      <div className="ov-result__head">
        <h2 id="ov-result-title" ref={headingRef} tabIndex={-1}>
          {t('result.title')}
        </h2>
        <p className="ov-result__receipt">
          {t('result.receipt', { receiptNo: sale.receipt.header.receiptNo })} ·{' '}
          <span className="ov-mono">{groupMeterNo(confirmation.meterNo)}</span> ·{' '}
          {confirmation.customer?.name ?? t('customer.noCustomer')}
          {sale.breakdown ? ` · ${money(sale.breakdown.tenderMinor)}` : null}
        </p>
      </div>
      {sale.replayed ? (
        <Notice tone="info" live="status">
          {t('result.replayed')}
        </Notice>
      ) : null}
      {keyChanges > 0 ? (
        <Notice tone="warning" live="status" title={t('result.keyChangeTitle')}>
          {t('result.keyChangeText', { count: keyChanges })}
        </Notice>
      ) : null}
      <ol className="ov-result__tokens" aria-label={t('result.tokensLabel')}>
        {tokens.map((token, index) => {
          let label: string;
          if (token.kind === 'key-change') {
            keyChangeIndex += 1;
            label = t('token.keyChange', { n: keyChangeIndex, of: keyChanges });
          } else {
            label = t(`token.${token.kind}`);
          }
          const detail =
            token.units !== null
              ? `${units(token.units)} ${unitSymbol}`
              : token.kind === 'key-change'
                ? t('token.keyChangeDetail')
                : null;
          return (
            <li key={token.seq}>
              <TokenDisplay
                digits={token.digits}
                label={label}
                kind={token.kind}
                order={tokens.length > 1 ? index + 1 : undefined}
                detail={detail}
              />
            </li>
          );
        })}
      </ol>
      {sale.lowFloat ? (
        <Notice tone="warning" title={t('result.lowFloatTitle')}>
          {t('result.lowFloatText', { balance: money(sale.floatBalanceMinor) })}
        </Notice>
      ) : null}
      <ErrorNotice error={reprintError} title={t('result.reprintFailed')} />
      <PrintFeedback printing={printing} onShowPrinted={onShowPrinted} />
      <CardFeedback card={card} />
      <div className="ov-actions ov-actions--wrap">
        <Button onPress={onPrint} isDisabled={printing.pending} shortcut="F8">
          {t('result.print')}
        </Button>
        <Button onPress={onReprint} isPending={reprintPending} isDisabled={printing.pending} shortcut="F9">
          {t('result.reprint')}
        </Button>
        <Button onPress={onWriteCard} isDisabled={card.pending} shortcut="F10">
          {t('result.writeCard')}
        </Button>
        <Button variant="primary" size="large" onPress={onNewSale} shortcut="F2">
          {t('result.newSale')}
        </Button>
      </div>
    </section>
  );
}
