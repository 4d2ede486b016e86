import { StsError } from './errors.ts';

/**
 * Meter PAN = IIN (6 digits, or 4) + DRN (11 digits, or 13) + Luhn check digit: always 18 digits.
 * The IIN length cannot be read off the digits themselves, so it travels with the PAN.
 */
export interface MeterPan {
  readonly iin: string;
  readonly drn: string;
  readonly checkDigit: number;
  /** All 18 digits, check digit included. */
  readonly pan: string;
}

export type IinLength = 4 | 6;

const onlyDigits = (value: string, what: string): string => {
  const text = value.replace(/[\s-]/g, '');
  // Empty input is left to the length checks, whose message says how many digits are needed.
  if (!/^\d*$/.test(text)) {
    throw new StsError(
      'STS_INVALID_DIGITS',
      `The ${what} may contain digits only.`,
      `${what} ${JSON.stringify(value)} contains characters other than digits, spaces and dashes`,
    );
  }
  return text;
};

/** Standard Luhn check digit over a digit string. */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  let double = true; // the rightmost payload digit is doubled because the check digit will follow it
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return (10 - (sum % 10)) % 10;
}

/** Builds a PAN from its IIN and DRN, computing the check digit. */
export function meterPanFromParts(iin: string, drn: string): MeterPan {
  const iinDigits = onlyDigits(iin, 'IIN');
  const drnDigits = onlyDigits(drn, 'meter number');
  const expectedDrn = iinDigits.length === 6 ? 11 : iinDigits.length === 4 ? 13 : -1;
  if (expectedDrn < 0) {
    throw new StsError(
      'STS_INVALID_PAN',
      'The IIN must have 6 or 4 digits.',
      `IIN ${iinDigits} has ${iinDigits.length} digits`,
    );
  }
  if (drnDigits.length !== expectedDrn) {
    throw new StsError(
      'STS_INVALID_PAN',
      `The meter number must have ${expectedDrn} digits (without the check digit).`,
      `DRN ${drnDigits} has ${drnDigits.length} digits; IIN ${iinDigits} needs ${expectedDrn}`,
    );
  }
  const checkDigit = luhnCheckDigit(iinDigits + drnDigits);
  return { iin: iinDigits, drn: drnDigits, checkDigit, pan: iinDigits + drnDigits + checkDigit };
}

/**
 * Reads an 18-digit meter PAN (spaces and dashes allowed) and verifies its check digit.
 * `iinLength` says how the digits split; 6 (IIN 600727-style) unless the utility uses 4-digit IINs.
 */
export function parseMeterPan(text: string, iinLength: IinLength = 6): MeterPan {
  const digits = onlyDigits(text, 'meter number');
  if (digits.length !== 18) {
    throw new StsError(
      'STS_INVALID_PAN',
      'A full meter number (PAN) has 18 digits.',
      `meter PAN ${digits} has ${digits.length} digits, expected 18 (IIN + DRN + check digit)`,
    );
  }
  const pan = meterPanFromParts(digits.slice(0, iinLength), digits.slice(iinLength, 17));
  const given = Number(digits[17]);
  if (given !== pan.checkDigit) {
    throw new StsError(
      'STS_BAD_CHECK_DIGIT',
      `Meter number ${digits} is not valid: the last digit should be ${pan.checkDigit}. Check the number on the meter.`,
      `Luhn check digit of ${digits.slice(0, 17)} is ${pan.checkDigit}, got ${given}`,
    );
  }
  return pan;
}

/** The STS IIN that goes with each length of the number printed on a meter (DRN + check digit). */
const STANDARD_IIN_BY_METER_NO_LENGTH: Readonly<Record<number, string>> = { 12: '600727', 14: '0000' };

/**
 * The number printed on a meter (12 digits: DRN of 11 + check digit, IIN 600727; or 14 digits: DRN of 13 +
 * check digit, IIN 0000) → its PAN, with the check digit verified. Spaces and dashes are allowed.
 */
export function meterPanFromMeterNo(text: string): MeterPan {
  const digits = onlyDigits(text, 'meter number');
  const iin = STANDARD_IIN_BY_METER_NO_LENGTH[digits.length];
  if (!iin) {
    throw new StsError(
      'STS_INVALID_PAN',
      'Enter the meter number as printed on the meter (12 or 14 digits), or the full 18-digit number.',
      `meter number has ${digits.length} digits`,
    );
  }
  const pan = meterPanFromParts(iin, digits.slice(0, -1));
  if (Number(digits.at(-1)) !== pan.checkDigit) {
    throw new StsError(
      'STS_BAD_CHECK_DIGIT',
      `Meter number ${digits} is not valid: the last digit should be ${pan.checkDigit}. Check the number on the meter.`,
      `Luhn check digit of ${iin}${digits.slice(0, -1)} is ${pan.checkDigit}, got ${digits.at(-1)}`,
    );
  }
  return pan;
}
