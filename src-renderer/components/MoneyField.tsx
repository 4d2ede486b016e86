import type { KeyboardEventHandler, ReactNode, Ref } from 'react';
import { TextField as AriaTextField, FieldError, Input, Label, Text } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { currencySymbolOf, useLocale } from '../app/locale.ts';
import { type CurrencyFormat, formatCurrency } from '../format/money.ts';
import { type MoneyInputProblem, readMoneyInput } from '../format/money-input.ts';

export interface MoneyFieldProps {
  label: ReactNode;
  /** The text as typed (controlled). */
  value: string;
  /** The new text and its value in minor units (null while the text is not a valid amount). */
  onChange: (text: string, minor: number | null) => void;
  currency: CurrencyFormat;
  minMinor?: number;
  maxMinor?: number;
  /** Show "enter an amount" for empty text (after a submit attempt). */
  requireValue?: boolean;
  /** An error from elsewhere (the engine); shown instead of the field's own check. */
  errorMessage?: string | null | undefined;
  description?: ReactNode;
  autoFocus?: boolean;
  isDisabled?: boolean;
  name?: string;
  inputRef?: Ref<HTMLInputElement>;
  onInputKeyDown?: KeyboardEventHandler<HTMLInputElement>;
  className?: string | undefined;
}

export type MoneyCheck =
  | { ok: true; minor: number }
  | { ok: false; problem: MoneyInputProblem | 'belowMin' | 'aboveMax' };

/** The same check the field shows, for callers that need to know whether Enter may proceed. */
export function checkMoney(
  text: string,
  currency: CurrencyFormat,
  minMinor?: number,
  maxMinor?: number,
): MoneyCheck {
  const read = readMoneyInput(text, currency);
  if (!read.ok) return read;
  if (minMinor !== undefined && read.minor < minMinor) return { ok: false, problem: 'belowMin' };
  if (maxMinor !== undefined && read.minor > maxMinor) return { ok: false, problem: 'aboveMax' };
  return read;
}

/**
 * Money typed as text (decimal point or comma) and read into integer minor units, never through a float.
 * Shows the amount as understood ("= R 12,50") so a misplaced separator is seen before it matters.
 */
export function MoneyField({
  label,
  value,
  onChange,
  currency,
  minMinor,
  maxMinor,
  requireValue = false,
  errorMessage,
  description,
  autoFocus,
  isDisabled,
  name,
  inputRef,
  onInputKeyDown,
  className,
}: MoneyFieldProps) {
  const { t } = useTranslation('common');
  const { locale } = useLocale();
  const money = (minor: number) => formatCurrency(minor, currency, locale);
  const check = checkMoney(value, currency, minMinor, maxMinor);
  let ownError: string | null = null;
  if (!check.ok && (check.problem !== 'empty' || requireValue)) {
    ownError = t(`money.problem.${check.problem}`, {
      decimals: currency.minorUnits,
      min: minMinor === undefined ? '' : money(minMinor),
      max: maxMinor === undefined ? '' : money(maxMinor),
    });
  }
  const shownError = errorMessage || ownError;
  const understood = check.ok ? t('money.understoodAs', { amount: money(check.minor) }) : null;
  return (
    <AriaTextField
      value={value}
      onChange={(text) => {
        const read = readMoneyInput(text, currency);
        onChange(text, read.ok ? read.minor : null);
      }}
      isInvalid={Boolean(shownError)}
      validationBehavior="aria"
      inputMode="decimal"
      autoComplete="off"
      {...(autoFocus === undefined ? {} : { autoFocus })}
      {...(isDisabled === undefined ? {} : { isDisabled })}
      {...(name === undefined ? {} : { name })}
      className={['ov-field', 'ov-money-field', className].filter(Boolean).join(' ')}
    >
      <Label className="ov-field__label">{label}</Label>
      <div className="ov-money-field__box">
        <span className="ov-money-field__symbol" aria-hidden="true">
          {currencySymbolOf(currency.code, locale)}
        </span>
        <Input
          ref={inputRef}
          className="ov-input ov-input--large ov-input--money"
          {...(onInputKeyDown ? { onKeyDown: onInputKeyDown } : {})}
        />
      </div>
      {description || understood ? (
        <Text slot="description" className="ov-field__description">
          {understood}
          {understood && description ? ' · ' : null}
          {description}
        </Text>
      ) : null}
      <FieldError className="ov-field__error">{shownError}</FieldError>
    </AriaTextField>
  );
}
