import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildIssueRequest,
  callFingerprint,
  EMPTY_FORM,
  type IssueForm,
} from '../../../src-renderer/screens/engineering/token-request.ts';

/** Demo meter 1 as printed (valid check digit). */
const METER = '040400000019';
const form = (change: Partial<IssueForm>): IssueForm => ({ ...EMPTY_FORM, meter: METER, ...change });

const english = JSON.parse(
  readFileSync(new URL('../../../src-renderer/i18n/locales/en/engineering.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const hasKey = (key: string) =>
  key
    .split('.')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], english) !==
  undefined;

/** The problems of a refused form, checked to be translatable. */
function problemsOf(input: IssueForm) {
  const built = buildIssueRequest(input);
  if (built.ok) throw new Error(`expected a refusal, got ${JSON.stringify(built.call)}`);
  for (const key of Object.values(built.problems))
    expect(hasKey(key), `${key} in en/engineering.json`).toBe(true);
  return built.problems;
}

function callOf(input: IssueForm) {
  const built = buildIssueRequest(input);
  if (!built.ok) throw new Error(`expected a call, got problems ${JSON.stringify(built.problems)}`);
  return built.call;
}

describe('engineering token form → bridge call', () => {
  it('builds each engineering token with the compact meter number', () => {
    expect(callOf(form({ meter: '0404 0000-0019', choice: 'clear-tamper' }))).toEqual({
      method: 'engineering.issue',
      args: { meterNumber: METER, token: { kind: 'clear-tamper' } },
    });
    expect(callOf(form({ choice: 'clear-credit', register: 'all' })).args).toMatchObject({
      token: { kind: 'clear-credit', register: 'all' },
    });
    expect(callOf(form({ choice: 'set-power-limit', watts: ' 5000 ' })).args).toMatchObject({
      token: { kind: 'set-power-limit', watts: 5000 },
    });
    expect(callOf(form({ choice: 'set-phase-unbalance-limit', watts: '0' })).args).toMatchObject({
      token: { kind: 'set-phase-unbalance-limit', watts: 0 },
    });
    expect(callOf(form({ choice: 'test', control: '0x1F', manufacturerCode: '7' })).args).toMatchObject({
      token: { kind: 'test', control: 31, manufacturerCode: 7 },
    });
    // No manufacturer code typed: the field is left out (the engine uses 00), never sent as undefined.
    expect(callOf(form({ choice: 'test', control: '1' })).args).toEqual({
      meterNumber: METER,
      token: { kind: 'test', control: 1 },
    });
  });

  it('builds a key change to the pending key, or to the values given only', () => {
    expect(callOf(form({ choice: 'key-change', keyTarget: 'pending' }))).toEqual({
      method: 'engineering.keyChange',
      args: { meterNumber: METER },
    });
    expect(
      callOf(form({ choice: 'key-change', keyTarget: 'chosen', krn: '2', baseDate: '2014' })).args,
    ).toEqual({
      meterNumber: METER,
      to: { krn: 2, baseDate: 2014 },
    });
    expect(
      callOf(form({ choice: 'key-change', keyTarget: 'chosen', sgc: '654321', ti: '7', krn: '' })).args,
    ).toEqual({ meterNumber: METER, to: { sgc: '654321', ti: 7 } });
  });

  it('refuses a meter number that is incomplete or has a wrong check digit', () => {
    expect(problemsOf(form({ meter: '' }))).toEqual({ meter: 'meter.fix' });
    expect(problemsOf(form({ meter: '0404000000' }))).toEqual({ meter: 'meter.fix' });
    expect(problemsOf(form({ meter: '040400000018' }))).toEqual({ meter: 'meter.fix' });
  });

  it('refuses parameters out of range, naming the field', () => {
    expect(problemsOf(form({ choice: 'set-power-limit', watts: '' }))).toEqual({ watts: 'problem.watts' });
    expect(problemsOf(form({ choice: 'set-power-limit', watts: '65536' }))).toEqual({
      watts: 'problem.watts',
    });
    expect(problemsOf(form({ choice: 'set-power-limit', watts: '1.5' }))).toEqual({ watts: 'problem.watts' });
    expect(problemsOf(form({ choice: 'test', control: '2^36' }))).toEqual({ control: 'problem.control' });
    expect(problemsOf(form({ choice: 'test', control: String(2 ** 36) }))).toEqual({
      control: 'problem.control',
    });
    expect(problemsOf(form({ choice: 'test', manufacturerCode: '123' }))).toEqual({
      manufacturerCode: 'problem.manufacturerCode',
    });
    expect(
      problemsOf(form({ choice: 'key-change', keyTarget: 'chosen', sgc: '12345', krn: '0', ti: '100' })),
    ).toEqual({ sgc: 'problem.sgc', krn: 'problem.krn', ti: 'problem.ti' });
    expect(problemsOf(form({ choice: 'key-change', keyTarget: 'chosen' }))).toEqual({
      sgc: 'problem.keyNothing',
    });
  });

  it('reports every wrong field at once, the meter included', () => {
    expect(problemsOf(form({ meter: '12', choice: 'set-power-limit', watts: 'x' }))).toEqual({
      meter: 'meter.fix',
      watts: 'problem.watts',
    });
  });

  it('fingerprints a call by method and arguments, so a request id is reused only for the same request', () => {
    const tamper = callOf(form({ choice: 'clear-tamper' }));
    expect(callFingerprint(tamper)).toBe(callFingerprint(callOf(form({ meter: '0404-0000-0019' }))));
    expect(callFingerprint(tamper)).not.toBe(callFingerprint(callOf(form({ choice: 'clear-credit' }))));
    expect(callFingerprint(callOf(form({ choice: 'set-power-limit', watts: '100' })))).not.toBe(
      callFingerprint(callOf(form({ choice: 'set-power-limit', watts: '200' }))),
    );
    expect(callFingerprint(callOf(form({ choice: 'key-change' })))).not.toBe(
      callFingerprint(callOf(form({ choice: 'key-change', keyTarget: 'chosen', krn: '2' }))),
    );
  });
});
