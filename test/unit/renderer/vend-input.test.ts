import { describe, expect, it } from 'vitest';
import { moneyInputText, readMoneyInput } from '../../../src-renderer/format/money-input.ts';
import { checkMeterInput } from '../../../src-renderer/screens/vend/meter-input.ts';
import { luhnCheckDigit } from '../../../src-shared/sts/meter-pan.ts';

const ZAR = { code: 'ZAR', minorUnits: 2 };
const UGX = { code: 'UGX', minorUnits: 0 };

/** A valid 18-digit PAN (IIN 600727) and its 12-digit printed meter number. */
const body = '60072704040000001';
const pan = body + luhnCheckDigit(body);
const meterNo = pan.slice(6);
const wrong = (digits: string) => digits.slice(0, -1) + ((Number(digits.at(-1)) + 1) % 10);

describe('checkMeterInput (live meter number check)', () => {
  it('accepts the 12-digit printed number and the 18-digit PAN, with spaces or dashes', () => {
    expect(checkMeterInput(meterNo)).toEqual({ kind: 'valid', digits: meterNo });
    expect(checkMeterInput(pan)).toEqual({ kind: 'valid', digits: pan });
    expect(checkMeterInput(`${meterNo.slice(0, 4)} ${meterNo.slice(4, 8)}-${meterNo.slice(8)}`)).toEqual({
      kind: 'valid',
      digits: meterNo,
    });
  });

  it('says which check digit a complete number should end with', () => {
    expect(checkMeterInput(wrong(meterNo))).toEqual({
      kind: 'bad-check-digit',
      digits: wrong(meterNo),
      expected: Number(meterNo.at(-1)),
    });
    expect(checkMeterInput(wrong(pan))).toMatchObject({
      kind: 'bad-check-digit',
      expected: Number(pan.at(-1)),
    });
  });

  it('reports empty, partial, too long and non-digit input without guessing', () => {
    expect(checkMeterInput('  ')).toEqual({ kind: 'empty' });
    expect(checkMeterInput('0404')).toEqual({ kind: 'incomplete', digits: '0404' });
    expect(checkMeterInput(`${pan}1`)).toEqual({ kind: 'too-long', digits: `${pan}1` });
    expect(checkMeterInput('0404O0000019')).toEqual({ kind: 'not-digits' });
  });
});

describe('readMoneyInput (amounts as cashiers type them)', () => {
  it('reads a decimal point or a single decimal comma into exact minor units', () => {
    expect(readMoneyInput('12.50', ZAR)).toEqual({ ok: true, minor: 1250 });
    expect(readMoneyInput('12,5', ZAR)).toEqual({ ok: true, minor: 1250 });
    expect(readMoneyInput(' 1 234,05 ', ZAR)).toEqual({ ok: true, minor: 123405 });
    expect(readMoneyInput('1\u202f500', UGX)).toEqual({ ok: true, minor: 1500 });
    expect(readMoneyInput('0.1', ZAR)).toEqual({ ok: true, minor: 10 });
  });

  it('refuses what it cannot read exactly, with the reason', () => {
    expect(readMoneyInput('', ZAR)).toEqual({ ok: false, problem: 'empty' });
    expect(readMoneyInput('-5', ZAR)).toEqual({ ok: false, problem: 'negative' });
    expect(readMoneyInput('12.345', ZAR)).toEqual({ ok: false, problem: 'decimals' });
    // A grouping comma is never silently taken as thousands: "1,000" reads as 1.000, too many decimals.
    expect(readMoneyInput('1,000', ZAR)).toEqual({ ok: false, problem: 'decimals' });
    expect(readMoneyInput('12,50', UGX)).toEqual({ ok: false, problem: 'decimals' });
    expect(readMoneyInput('1,000.50', ZAR)).toEqual({ ok: false, problem: 'format' });
    expect(readMoneyInput('R12', ZAR)).toEqual({ ok: false, problem: 'format' });
    expect(readMoneyInput('1e3', ZAR)).toEqual({ ok: false, problem: 'format' });
    expect(readMoneyInput('99999999999999999', ZAR)).toEqual({ ok: false, problem: 'tooLarge' });
  });

  it('writes quick amounts back the way the cashier types them', () => {
    expect(moneyInputText(15000, ZAR, ',')).toBe('150,00');
    expect(moneyInputText(5, ZAR, '.')).toBe('0.05');
    expect(moneyInputText(2000, UGX, ',')).toBe('2000');
    expect(readMoneyInput(moneyInputText(123456, ZAR, ','), ZAR)).toEqual({ ok: true, minor: 123456 });
  });
});
