import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { groupTokenDigits } from '../../src-shared/sts/token-number.ts';

export type TokenKind = 'credit' | 'key-change' | 'fbe' | 'free' | 'engineering';

export interface TokenDisplayProps {
  /** The 20 token digits (separators are ignored). */
  digits: string;
  /** What the token is, e.g. "Credit token" or "Key change token 1 of 2". */
  label: ReactNode;
  kind?: TokenKind;
  /** Position in the entry order (1 = type first), shown as a big step number. */
  order?: number | undefined;
  /** A line under the digits (units, description). */
  detail?: ReactNode;
}

/**
 * One token, large and monospaced in 4-4-4-4-4 groups, the way the customer types it. Key change tokens get a
 * distinct colour and the "enter first" mark: typed after the credit token, the credit token is refused.
 */
export function TokenDisplay({ digits, label, kind = 'credit', order, detail }: TokenDisplayProps) {
  const { t } = useTranslation('common');
  const clean = digits.replace(/\D/g, '');
  const grouped = groupTokenDigits(clean);
  return (
    <section
      className={`ov-token ov-token--${kind}`}
      aria-label={typeof label === 'string' ? label : undefined}
    >
      <div className="ov-token__head">
        {order === undefined ? null : (
          <>
            <span className="ov-token__order" aria-hidden="true">
              {order}
            </span>
            <span className="ov-visually-hidden">{t('token.order', { order })}</span>
          </>
        )}
        <span className="ov-token__label">{label}</span>
        {kind === 'key-change' ? (
          <span className="ov-badge ov-badge--warning">{t('token.enterFirst')}</span>
        ) : null}
      </div>
      <p className="ov-token__digits" data-token-digits={clean}>
        {grouped}
      </p>
      {detail ? <p className="ov-token__detail">{detail}</p> : null}
    </section>
  );
}
