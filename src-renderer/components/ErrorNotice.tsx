import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../app/errors.ts';
import { Button } from './Button.tsx';

export interface ErrorNoticeProps {
  error: unknown;
  /** A heading above the message, e.g. "The sale did not go through". */
  title?: ReactNode;
  /** Interpolation values for the translated message (e.g. { meter }). */
  values?: Record<string, unknown>;
  onRetry?: () => void;
  retryLabel?: string;
  className?: string | undefined;
}

/**
 * Shows a failed call in cashier language: the translated message for a known error code (else the engine's
 * message), what to do next, and the code for support. Announced to screen readers (role="alert").
 */
export function ErrorNotice({ error, title, values, onRetry, retryLabel, className }: ErrorNoticeProps) {
  const { t } = useTranslation('common');
  if (error === null || error === undefined) return null;
  const view = describeError(error, t, values);
  return (
    <div className={['ov-notice', 'ov-notice--danger', className].filter(Boolean).join(' ')} role="alert">
      {title ? <p className="ov-notice__title">{title}</p> : null}
      <p className="ov-notice__message">{view.message}</p>
      <p className="ov-notice__next">
        <span className="ov-notice__next-label">{t('error.nextLabel')}</span> {view.next}
      </p>
      <p className="ov-notice__code">{t('error.code', { code: view.code })}</p>
      {onRetry ? (
        <div className="ov-notice__actions">
          <Button onPress={onRetry}>{retryLabel ?? t('action.retry')}</Button>
        </div>
      ) : null}
    </div>
  );
}
