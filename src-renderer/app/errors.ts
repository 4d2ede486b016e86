import type { TFunction } from 'i18next';
import i18next from 'i18next';

/** An error as the cashier sees it: what happened and what to do next, in the UI language. */
export interface ErrorView {
  code: string;
  message: string;
  next: string;
  /** The engine's own (English) message, kept for the support line. */
  engineMessage: string | null;
}

interface CodedError {
  code: string;
  userMessage: string;
}

const isCoded = (error: unknown): error is CodedError =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as CodedError).code === 'string' &&
  typeof (error as CodedError).userMessage === 'string';

/**
 * Known codes are translated through the `errors` namespace (`codes.<CODE>.message` / `.next`); an unknown code
 * falls back to the engine's cashier-language message and a generic next step.
 */
export function describeError(error: unknown, t: TFunction, values: Record<string, unknown> = {}): ErrorView {
  if (isCoded(error)) {
    const base = `errors:codes.${error.code}`;
    const known = i18next.exists(`${base}.message`);
    return {
      code: error.code,
      message: known ? t(`${base}.message`, values) : error.userMessage,
      next: i18next.exists(`${base}.next`) ? t(`${base}.next`, values) : t('errors:generic.next'),
      engineMessage: error.userMessage,
    };
  }
  return {
    code: 'UNEXPECTED',
    message: t('errors:generic.message'),
    next: t('errors:generic.next'),
    engineMessage: error instanceof Error ? error.message : null,
  };
}

export const errorCode = (error: unknown): string | null => (isCoded(error) ? error.code : null);
