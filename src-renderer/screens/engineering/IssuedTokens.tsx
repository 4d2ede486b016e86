import { type ReactNode, useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { SaleResult } from '../../../src-shared/bridge/domain-schemas.ts';
import { useAppInfo, useFormat } from '../../app/app-info.ts';
import { receiptText } from '../../app/slips.ts';
import { Notice, ReceiptPreview, TokenDisplay } from '../../components/index.ts';
import { groupMeterNo } from '../vend/CustomerPanel.tsx';
import { entryOrder } from '../vend/ResultStep.tsx';

/** The translated name of a token type from its STS class and subclass (falls back to the engine's label). */
export function useTokenTypeName() {
  const { t } = useTranslation('engineering');
  return (tokenClass: number, subclass: number, fallback: string) =>
    t(`tokenType.c${tokenClass}_${subclass}`, { defaultValue: fallback });
}

/**
 * The issued engineering or key change tokens, large and in entry order (key change tokens first, numbered),
 * then the next actions and the receipt as the printer would print it.
 */
export function IssuedTokens({ sale, actions }: { sale: SaleResult; actions?: ReactNode }) {
  const { t } = useTranslation('engineering');
  const { data: info } = useAppInfo();
  const { dateTime } = useFormat();
  const typeName = useTokenTypeName();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const tokens = entryOrder(sale.tokens);
  const keyChanges = tokens.filter((token) => token.kind === 'key-change').length;
  const others = tokens.length - keyChanges;
  let keyChangeIndex = 0;
  return (
    <section className="ov-panel ov-eng-result" aria-labelledby="ov-eng-result-title">
      <div>
        <h2 id="ov-eng-result-title" ref={headingRef} tabIndex={-1}>
          {t('result.title', { count: tokens.length })}
        </h2>
        <p className="ov-muted">
          {t('result.summary', {
            receiptNo: sale.receipt.header.receiptNo,
            meter: groupMeterNo(sale.meterNo ?? ''),
            date: dateTime(sale.createdAt),
          })}
        </p>
      </div>
      {sale.replayed ? (
        <Notice tone="info" live="status">
          {t('result.replayed')}
        </Notice>
      ) : null}
      {keyChanges > 0 ? (
        <Notice tone="warning" live="status" title={t('result.keyChangeTitle')}>
          {others > 0
            ? t('result.keyChangeThenOthers', { count: keyChanges })
            : t('result.keyChangeOnly', { count: keyChanges })}
        </Notice>
      ) : null}
      <ol className="ov-eng-result__tokens" aria-label={t('result.tokensLabel')}>
        {tokens.map((token, index) => {
          let label: string;
          if (token.kind === 'key-change') {
            keyChangeIndex += 1;
            label = t('result.keyChangeToken', { n: keyChangeIndex, of: keyChanges });
          } else {
            label = typeName(token.tokenClass, token.subclass, token.label);
          }
          return (
            <li key={token.seq}>
              <TokenDisplay
                digits={token.digits}
                label={label}
                kind={token.kind}
                order={tokens.length > 1 ? index + 1 : undefined}
                detail={token.kind === 'key-change' ? t('result.keyChangeDetail') : null}
              />
            </li>
          );
        })}
      </ol>
      {actions}
      {info ? (
        <ReceiptPreview
          label={t('result.receiptLabel', { receiptNo: sale.receipt.header.receiptNo })}
          text={receiptText(sale.receipt, info)}
        />
      ) : null}
    </section>
  );
}
