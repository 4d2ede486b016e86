import type { EngineeringTokenArgs, MethodArgs } from '../../../src-shared/bridge/contract.ts';
import { checkMeterInput } from '../vend/meter-input.ts';

/** The engineering tokens an engineer can choose, key change included (it has its own bridge method). */
export const TOKEN_CHOICES = [
  'clear-tamper',
  'clear-credit',
  'set-power-limit',
  'set-phase-unbalance-limit',
  'test',
  'key-change',
] as const;
export type TokenChoice = (typeof TOKEN_CHOICES)[number];

export const REGISTERS = ['electricity', 'water', 'gas', 'all'] as const;
export type Register = (typeof REGISTERS)[number];

export const BASE_DATES = ['1993', '2014', '2035'] as const;
export type BaseDateText = (typeof BASE_DATES)[number];

/** What the form holds, as typed. */
export interface IssueForm {
  meter: string;
  choice: TokenChoice;
  register: Register;
  watts: string;
  control: string;
  manufacturerCode: string;
  keyTarget: 'pending' | 'chosen';
  sgc: string;
  krn: string;
  ti: string;
  /** '' keeps the meter's present base date. */
  baseDate: BaseDateText | '';
}

export const EMPTY_FORM: IssueForm = {
  meter: '',
  choice: 'clear-tamper',
  register: 'electricity',
  watts: '',
  control: '1',
  manufacturerCode: '',
  keyTarget: 'pending',
  sgc: '',
  krn: '',
  ti: '',
  baseDate: '',
};

/** Field → translation key (in the `engineering` namespace) of what is wrong with it. */
export type FormProblems = Partial<Record<keyof IssueForm, string>>;

export type IssueCall =
  | { method: 'engineering.issue'; args: Omit<MethodArgs<'engineering.issue'>, 'requestId'> }
  | { method: 'engineering.keyChange'; args: Omit<MethodArgs<'engineering.keyChange'>, 'requestId'> };

export type BuiltRequest = { ok: true; call: IssueCall } | { ok: false; problems: FormProblems };

/** Largest control mask of a test token with a 2-digit manufacturer code (36 bits). */
const MAX_CONTROL = 2 ** 36 - 1;

const wholeNumber = (text: string): number | null => {
  const trimmed = text.trim();
  if (/^\d{1,15}$/.test(trimmed)) return Number(trimmed);
  if (/^0x[0-9a-f]{1,12}$/i.test(trimmed)) return Number.parseInt(trimmed.slice(2), 16);
  return null;
};

/**
 * Checks the form and builds the bridge call, or says which fields are wrong. The engine checks everything again;
 * these checks only catch slips before a token is made.
 */
export function buildIssueRequest(form: IssueForm): BuiltRequest {
  const problems: FormProblems = {};
  const meter = checkMeterInput(form.meter);
  if (meter.kind !== 'valid') problems.meter = 'meter.fix';
  const meterNumber = meter.kind === 'valid' ? meter.digits : '';

  let token: EngineeringTokenArgs | null = null;
  let to: MethodArgs<'engineering.keyChange'>['to'];
  switch (form.choice) {
    case 'clear-tamper':
      token = { kind: 'clear-tamper' };
      break;
    case 'clear-credit':
      token = { kind: 'clear-credit', register: form.register };
      break;
    case 'set-power-limit':
    case 'set-phase-unbalance-limit': {
      const watts = /^\d{1,5}$/.test(form.watts.trim()) ? Number(form.watts.trim()) : null;
      if (watts === null || watts > 0xffff) problems.watts = 'problem.watts';
      else token = { kind: form.choice, watts };
      break;
    }
    case 'test': {
      const control = wholeNumber(form.control);
      if (control === null || control > MAX_CONTROL) problems.control = 'problem.control';
      const code = form.manufacturerCode.trim();
      const manufacturerCode = code === '' ? undefined : /^\d{1,2}$/.test(code) ? Number(code) : null;
      if (manufacturerCode === null) problems.manufacturerCode = 'problem.manufacturerCode';
      if (control !== null && manufacturerCode !== null) {
        token = {
          kind: 'test',
          control,
          ...(manufacturerCode === undefined ? {} : { manufacturerCode }),
        };
      }
      break;
    }
    case 'key-change': {
      if (form.keyTarget === 'chosen') {
        const sgc = form.sgc.trim();
        const krn = form.krn.trim();
        const ti = form.ti.trim();
        if (sgc && !/^\d{6}$/.test(sgc)) problems.sgc = 'problem.sgc';
        if (krn && !/^[1-9]$/.test(krn)) problems.krn = 'problem.krn';
        if (ti && !/^\d{1,2}$/.test(ti)) problems.ti = 'problem.ti';
        if (!sgc && !krn && !ti && !form.baseDate) problems.sgc = 'problem.keyNothing';
        to = {
          ...(sgc ? { sgc } : {}),
          ...(krn ? { krn: Number(krn) } : {}),
          ...(ti ? { ti: Number(ti) } : {}),
          ...(form.baseDate ? { baseDate: Number(form.baseDate) as 1993 | 2014 | 2035 } : {}),
        };
      }
      break;
    }
  }
  if (Object.keys(problems).length > 0) return { ok: false, problems };
  if (form.choice === 'key-change') {
    return {
      ok: true,
      call: { method: 'engineering.keyChange', args: { meterNumber, ...(to ? { to } : {}) } },
    };
  }
  return { ok: true, call: { method: 'engineering.issue', args: { meterNumber, token: token! } } };
}

/** Two calls are the same action when method and arguments match: only then may a request id be reused. */
export const callFingerprint = (call: IssueCall): string => JSON.stringify([call.method, call.args]);
