import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAppInfo, useFormat } from '../../app/app-info.ts';
import { useBridgeQuery } from '../../app/bridge-context.tsx';
import { decimalSeparatorOf } from '../../app/locale.ts';
import { Button, checkMoney, ErrorNotice, MoneyField, ProgressBar } from '../../components/index.ts';
import { moneyInputText } from '../../format/money-input.ts';
import { groupMeterNo } from './CustomerPanel.tsx';
import { QuoteBreakdown } from './QuoteBreakdown.tsx';
import type { MeterConfirmation, Quote } from './types.ts';

const QUOTE_DEBOUNCE_MS = 250;

export interface AmountStepProps {
  confirmation: MeterConfirmation;
  amountText: string;
  onAmountChange: (text: string) => void;
  /** The amount is confirmed with its quote: go to the final confirmation. */
  onContinue: (quote: Quote) => void;
  onBack: () => void;
}

/** Step 3: the amount paid, with quick amounts and a live trial vend (the quote) for the exact amount. */
export function AmountStep({
  confirmation,
  amountText,
  onAmountChange,
  onContinue,
  onBack,
}: AmountStepProps) {
  const { t } = useTranslation('vend');
  const { data: info } = useAppInfo();
  const { money, currency, locale } = useFormat();
  const inputRef = useRef<HTMLInputElement>(null);
  const check = checkMoney(amountText, currency, confirmation.minVendMinor, confirmation.maxVendMinor);
  const current = check.ok ? check.minor : null;
  const [quoted, setQuoted] = useState<number | null>(current);
  const [requireValue, setRequireValue] = useState(false);
  const [advance, setAdvance] = useState(false);

  useEffect(() => {
    const timer = window.setTimeout(() => setQuoted(current), QUOTE_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [current]);

  const quote = useBridgeQuery(
    'vend.quote',
    { meterNumber: confirmation.meterNo, tenderMinor: quoted ?? 0 },
    { enabled: quoted !== null, staleTime: 0, gcTime: 0 },
  );
  const upToDate = quoted !== null && quoted === current && quote.isSuccess && !quote.isFetching;

  // Enter pressed before the quote for this amount was back: continue as soon as it is.
  useEffect(() => {
    if (!advance) return;
    if (upToDate && quote.data) {
      setAdvance(false);
      onContinue(quote.data);
    } else if (quote.isError || current === null) {
      setAdvance(false);
    }
  }, [advance, upToDate, quote.data, quote.isError, current, onContinue]);

  const proceed = () => {
    if (current === null) {
      setRequireValue(true);
      inputRef.current?.focus();
      return;
    }
    if (upToDate && quote.data) {
      onContinue(quote.data);
      return;
    }
    setQuoted(current);
    setAdvance(true);
  };

  const separator = decimalSeparatorOf(locale);
  const quick = (info?.quickAmountsMinor ?? []).filter(
    (amount) => amount >= confirmation.minVendMinor && amount <= confirmation.maxVendMinor,
  );

  return (
    <section className="ov-panel ov-amount" aria-labelledby="ov-amount-title">
      <h2 id="ov-amount-title">{t('amount.title')}</h2>
      <p className="ov-amount__for">
        {t('amount.for', { name: confirmation.customer?.name ?? t('customer.noCustomer') })}{' '}
        <span className="ov-mono">{groupMeterNo(confirmation.meterNo)}</span>
      </p>
      <div className="ov-amount__grid">
        <div className="ov-amount__entry">
          <form
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              proceed();
            }}
          >
            <MoneyField
              label={t('amount.label')}
              value={amountText}
              onChange={(text) => onAmountChange(text)}
              currency={currency}
              minMinor={confirmation.minVendMinor}
              maxMinor={confirmation.maxVendMinor}
              requireValue={requireValue}
              autoFocus
              inputRef={inputRef}
              name="amount"
              description={t('amount.limits', {
                min: money(confirmation.minVendMinor),
                max: money(confirmation.maxVendMinor),
              })}
            />
          </form>
          {quick.length > 0 ? (
            <fieldset className="ov-quick-amounts">
              <legend>{t('amount.quick')}</legend>
              {quick.map((amount) => (
                <Button
                  key={amount}
                  onPress={() => {
                    onAmountChange(moneyInputText(amount, currency, separator));
                    setQuoted(amount);
                    inputRef.current?.focus();
                  }}
                >
                  {money(amount)}
                </Button>
              ))}
            </fieldset>
          ) : null}
          <div className="ov-actions">
            <Button onPress={onBack} shortcut="Esc">
              {t('common:action.back')}
            </Button>
            <Button
              variant="primary"
              size="large"
              onPress={proceed}
              shortcut="Enter"
              isPending={advance}
              isDisabled={!check.ok || quote.isError}
            >
              {t('amount.continue')}
            </Button>
          </div>
        </div>
        <div className="ov-amount__quote" aria-live="polite" aria-busy={quote.isFetching}>
          <h3>{t('quote.title')}</h3>
          {quoted === null || !check.ok ? (
            <p className="ov-muted">{t('quote.typeAmount')}</p>
          ) : quote.isError ? (
            <ErrorNotice error={quote.error} title={t('quote.failed')} />
          ) : quote.data ? (
            <div className={upToDate ? undefined : 'ov-stale'}>
              <QuoteBreakdown breakdown={quote.data.breakdown} />
            </div>
          ) : (
            <ProgressBar label={t('quote.calculating')} />
          )}
        </div>
      </div>
    </section>
  );
}
