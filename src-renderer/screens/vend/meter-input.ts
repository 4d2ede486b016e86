import type { TFunction } from 'i18next';
import { meterPanFromMeterNo, parseMeterPan } from '../../../src-shared/sts/meter-pan.ts';

/** What the cashier has typed into the meter number field so far, checked as they type. */
export type MeterInputState =
  | { kind: 'empty' }
  | { kind: 'not-digits' }
  /** Not (yet) one of the lengths a meter number has: 12 or 14 digits as printed, or the 18-digit PAN. */
  | { kind: 'incomplete'; digits: string }
  | { kind: 'too-long'; digits: string }
  | { kind: 'bad-check-digit'; digits: string; expected: number }
  | { kind: 'valid'; digits: string };

const LENGTHS = [12, 14, 18];

/** The shared parsers (same rules as the engine): 12/14 digits as printed on the meter, or the 18-digit PAN. */
const parses = (digits: string): boolean => {
  try {
    if (digits.length === 18) parseMeterPan(digits);
    else meterPanFromMeterNo(digits);
    return true;
  } catch {
    return false;
  }
};

/**
 * Live check of a typed or scanned meter number. Spaces and dashes are allowed (as printed); a complete number
 * with a wrong last digit reports the digit it should be, found by asking the shared parser which one it accepts.
 */
export function checkMeterInput(text: string): MeterInputState {
  const compact = text.replace(/[\s-]/g, '');
  if (compact === '') return { kind: 'empty' };
  if (!/^\d+$/.test(compact)) return { kind: 'not-digits' };
  if (compact.length > 18) return { kind: 'too-long', digits: compact };
  if (!LENGTHS.includes(compact.length)) return { kind: 'incomplete', digits: compact };
  if (parses(compact)) return { kind: 'valid', digits: compact };
  const body = compact.slice(0, -1);
  for (let digit = 0; digit <= 9; digit++) {
    if (parses(body + digit)) return { kind: 'bad-check-digit', digits: compact, expected: digit };
  }
  return { kind: 'incomplete', digits: compact };
}

/**
 * What the meter field says under the input for a state: a hint while typing, an error for a wrong number
 * (an empty or short number is an error only after a submit attempt).
 */
export function describeMeterInput<Namespace extends string>(
  state: MeterInputState,
  submitted: boolean,
  /** The `meter.*` texts of the screen's namespace (vend and engineering both carry them). */
  t: TFunction<Namespace>,
): { description: string | null; errorMessage: string | null } {
  let description: string | null = null;
  let errorMessage: string | null = null;
  switch (state.kind) {
    case 'empty':
      description = t('meter.hint');
      if (submitted) errorMessage = t('meter.required');
      break;
    case 'not-digits':
      errorMessage = t('meter.digitsOnly');
      break;
    case 'too-long':
      errorMessage = t('meter.tooLong', { count: state.digits.length });
      break;
    case 'incomplete':
      description = t('meter.typed', { count: state.digits.length });
      if (submitted) errorMessage = t('meter.incomplete', { count: state.digits.length });
      break;
    case 'bad-check-digit':
      errorMessage = t('meter.badCheckDigit', { expected: state.expected });
      break;
    case 'valid':
      description = t('meter.checkDigitOk');
      break;
  }
  return { description, errorMessage };
}
