import type Database from 'better-sqlite3';
import type { TokenExplanation } from '../../src-shared/bridge/contract.ts';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { currencyAmountToDecimal } from '../../src-shared/sts/amount.ts';
import { decoderKeyBytes, formatTi, KEY_TYPE_NAMES } from '../../src-shared/sts/identifiers.ts';
import { type BaseDate, tidToWallClock } from '../../src-shared/sts/tid.ts';
import { decodeToken } from '../../src-shared/sts/token-codec.ts';
import { groupTokenDigits, parseTokenDigits } from '../../src-shared/sts/token-number.ts';
import {
  CLEAR_CREDIT_REGISTERS,
  type DecodedBlock,
  type TokenPayload,
} from '../../src-shared/sts/token-payload.ts';
import { DEFAULT_TID_HISTORY_SIZE } from '../../src-shared/sts/virtual-meter.ts';
import type { MeterKeyData } from '../security/security-module.ts';
import { instantOfWallClock } from './local-time.ts';
import { findMeter, type MeterRow, meterKeyData, pendingKeyData } from './meters.ts';
import { type OperatorSession, requirePermission } from './operators.ts';
import type { VendEngine } from './vend-engine.ts';

/**
 * The token explainer: why would a meter accept or refuse this token? It decodes the token with the meter's
 * key inside the security module (no key ever reaches this code or its result), falls back to the meter's
 * pending key and every other supply group, key revision, tariff index and base date the ledger knows, then
 * compares the TID with what the ledger issued to the meter.
 *
 * A meter keeps the TIDs of its most recent tokens (DEFAULT_TID_HISTORY_SIZE): a TID it remembers is refused
 * as USED; once the memory is full, a TID older than all of them is refused as OLD.
 */

type Finding = TokenExplanation['findings'][number];

interface Candidate {
  key: MeterKeyData;
  role: 'current' | 'pending' | 'other';
}

/** A ledger token with the same digits: whose meter, which receipt, which base date its TID counts from. */
interface LedgerToken {
  meterId: number | null;
  meterNo: string | null;
  baseDate: BaseDate | null;
  receiptNo: number;
}

/** A meter remembers this many TIDs; more newer tokens than this means this one is OLD once they are entered. */
const TID_MEMORY = DEFAULT_TID_HISTORY_SIZE;
/** Enough for any real outlet (a few supply groups × tariff indexes × base dates); a bound against surprises. */
const MAX_CANDIDATES = 256;
/** How far back the typo check looks among the meter's own tokens. */
const TYPO_LOOKBACK = 200;

const UNIT_NAMES: Record<string, string> = { electricity: 'kWh', water: 'm³', gas: 'm³', time: 'minutes' };
const REGISTER_NAMES = new Map<number, string>(
  Object.entries(CLEAR_CREDIT_REGISTERS).map(([name, register]) => [register, name]),
);
const SECTION: Partial<Record<TokenPayload['type'], number>> = {
  'key-change-1': 1,
  'key-change-2': 2,
  'key-change-3': 3,
  'key-change-4': 4,
};

const tenths = (units: number) => `${Math.floor(units / 10)}.${units % 10}`;
const keyText = (k: Pick<MeterKeyData, 'sgc' | 'krn' | 'ti'>) =>
  `supply group ${k.sgc}, key revision ${k.krn}, tariff index ${formatTi(k.ti)}`;
const sameKey = (a: MeterKeyData, b: MeterKeyData) =>
  a.sgc === b.sgc && a.krn === b.krn && a.ti === b.ti && a.baseDate === b.baseDate;

/** What the token says, in one line (key change sections say what they change, never the key). */
export function describeToken(payload: TokenPayload, sections: number): string {
  switch (payload.type) {
    case 'transfer-credit':
      return `Credit: ${tenths(payload.units)} ${UNIT_NAMES[payload.resource]} of ${payload.resource}`;
    case 'currency-credit':
      return `Currency credit: ${currencyAmountToDecimal(payload.amount)} (${payload.resource})`;
    case 'initiate-test':
      return `Test / display token (control ${payload.control}, manufacturer code ${payload.manufacturerCode})`;
    case 'set-max-power-limit':
      return `Set maximum power limit: ${payload.watts} W`;
    case 'set-max-phase-unbalance-limit':
      return `Set maximum phase unbalance limit: ${payload.watts} W`;
    case 'clear-credit':
      return `Clear credit: ${REGISTER_NAMES.get(payload.register) ?? `register ${payload.register}`}`;
    case 'set-tariff-rate':
      return `Set tariff rate: ${payload.rate}`;
    case 'clear-tamper':
      return 'Clear tamper';
    case 'set-water-meter-factor':
      return `Set water meter factor: ${payload.factor}`;
    case 'key-change-1':
      return `Key change token 1 of ${sections}: to key revision ${payload.krn}, key type ${KEY_TYPE_NAMES[payload.keyType]}${payload.rollover ? ', TID roll-over' : ''}`;
    case 'key-change-2':
      return `Key change token 2 of ${sections}: to tariff index ${formatTi(payload.ti)}`;
    case 'key-change-3':
      return `Key change token 3 of ${sections}`;
    case 'key-change-4':
      return `Key change token 4 of ${sections}`;
  }
}

/** Current key, pending key, then every other key the ledger knows for the meter's key algorithm. */
function candidates(sqlite: Database.Database, meter: MeterRow): Candidate[] {
  const current = meterKeyData(meter);
  const pending = pendingKeyData(meter);
  const list: Candidate[] = [{ key: current, role: 'current' }];
  if (pending) list.push({ key: pending, role: 'pending' });
  const groups = sqlite
    .prepare('SELECT sgc, krn, base_date AS baseDate FROM supply_group WHERE dkga = ? ORDER BY sgc, krn')
    .all(meter.dkga) as Array<{ sgc: string; krn: number; baseDate: BaseDate }>;
  const tis = new Set<number>([current.ti, ...(pending ? [pending.ti] : [])]);
  for (const { ti } of sqlite.prepare('SELECT DISTINCT ti FROM tariff ORDER BY ti').all() as Array<{
    ti: number;
  }>)
    tis.add(ti);
  const baseDates = new Set<BaseDate>([current.baseDate, ...(pending ? [pending.baseDate] : [])]);
  for (const { baseDate } of sqlite
    .prepare('SELECT DISTINCT base_date AS baseDate FROM token WHERE meter_id = ? AND base_date IS NOT NULL')
    .all(meter.id) as Array<{ baseDate: BaseDate }>)
    baseDates.add(baseDate);
  for (const g of groups) baseDates.add(g.baseDate);
  // DKGA02 keys do not depend on the base date: one try per key is enough.
  const dates = meter.dkga === 'DKGA02' ? [current.baseDate] : [...baseDates];
  for (const g of groups)
    for (const ti of tis)
      for (const baseDate of dates) {
        const key = { ...current, sgc: g.sgc, krn: g.krn, ti, baseDate };
        if (list.some((c) => sameKey(meter.dkga === 'DKGA02' ? { ...c.key, baseDate } : c.key, key)))
          continue;
        if (list.length < MAX_CANDIDATES) list.push({ key, role: 'other' });
      }
  return list;
}

type Attempt =
  | { outcome: 'decoded'; candidate: Candidate; read: DecodedBlock }
  | { outcome: 'unsupported'; candidate: Candidate }
  | { outcome: 'none'; missingCurrentKey: boolean };

/** Tries each candidate key in the security module; the CRC says which one the token was made with. */
function decodeWithKnownKeys(engine: VendEngine, digits: string, list: Candidate[]): Attempt {
  let missingCurrentKey = false;
  for (const candidate of list) {
    try {
      return { outcome: 'decoded', candidate, read: engine.readToken(candidate.key, digits) };
    } catch (error) {
      if (!isOpenVendError(error)) throw error;
      if (error.code === 'STS_UNSUPPORTED_TOKEN') return { outcome: 'unsupported', candidate };
      if (error.code === 'SECURITY_NO_VENDING_KEY') {
        if (candidate.role === 'current') missingCurrentKey = true;
        continue;
      }
      if (error.code !== 'STS_BAD_CRC') throw error;
    }
  }
  return { outcome: 'none', missingCurrentKey };
}

/** Digits that differ in one place or by two neighbours swapped: the usual typing slips. */
function typingSlip(typed: string, issued: string): string | null {
  const diff: number[] = [];
  for (let i = 0; i < typed.length && diff.length <= 2; i++) if (typed[i] !== issued[i]) diff.push(i);
  if (diff.length === 1) return `digit ${diff[0]! + 1} differs`;
  const [a, b] = diff;
  if (diff.length === 2 && b === a! + 1 && typed[a!] === issued[b] && typed[b] === issued[a!])
    return `digits ${a! + 1} and ${b + 1} are swapped`;
  return null;
}

export interface ExplainRequest {
  meterNumber: string;
  token: string;
}

export function explainToken(
  engine: VendEngine,
  session: OperatorSession,
  request: ExplainRequest,
): TokenExplanation {
  requirePermission(session, 'engineering');
  const sqlite = engine.sqlite;
  const meter = findMeter(sqlite, request.meterNumber);
  const digits = request.token.replace(/[\s-]/g, '');
  // Refuses anything that cannot be a token (not digits, not 20 of them, above 2^66 − 1) with a clear error.
  const bits = parseTokenDigits(digits);
  const findings: Finding[] = [];
  const add = (severity: Finding['severity'], code: string, message: string) =>
    findings.push({ code, severity, message });

  const issued = sqlite
    .prepare(
      `SELECT t.meter_id AS meterId, m.meter_no AS meterNo, t.base_date AS baseDate, s.receipt_no AS receiptNo
       FROM token t JOIN sale s ON s.id = t.sale_id LEFT JOIN meter m ON m.id = t.meter_id
       WHERE t.digits = ? ORDER BY s.receipt_no DESC`,
    )
    .all(digits) as LedgerToken[];
  const mine = issued.find((t) => t.meterId === meter.id);
  const elsewhere = issued.find((t) => t.meterId !== meter.id);
  const sections = decoderKeyBytes(meter.ea) === 16 ? 4 : 2;
  const result = {
    meterNo: meter.meterNo,
    token: groupTokenDigits(digits),
    decodedWith: null as TokenExplanation['decodedWith'],
    tokenClass: null as number | null,
    subclass: null as number | null,
    description: null as string | null,
    tid: null as number | null,
    issuedAt: null as string | null,
    issuedOnReceipt: mine?.receiptNo ?? null,
  };

  // Class 1 (test/display) tokens are not encrypted: any STS meter reads them.
  let attempt: Attempt;
  if (bits.tokenClass === 1) {
    try {
      attempt = {
        outcome: 'decoded',
        candidate: { key: meterKeyData(meter), role: 'current' },
        read: decodeToken(digits, null),
      };
    } catch (error) {
      if (!isOpenVendError(error)) throw error;
      if (error.code === 'STS_UNSUPPORTED_TOKEN')
        attempt = { outcome: 'unsupported', candidate: { key: meterKeyData(meter), role: 'current' } };
      else if (error.code === 'STS_BAD_CRC') attempt = { outcome: 'none', missingCurrentKey: false };
      else throw error;
    }
  } else {
    attempt = decodeWithKnownKeys(engine, digits, candidates(sqlite, meter));
  }

  if (attempt.outcome === 'none') {
    if (attempt.missingCurrentKey) {
      add(
        'warning',
        'no-vending-key',
        `This outlet holds no vending key for the meter's ${keyText(meter)}: it cannot check tokens made with that key.`,
      );
    }
    if (elsewhere && !mine) {
      result.issuedOnReceipt = elsewhere.receiptNo;
      add(
        'reject',
        'other-meter',
        `This token was issued for meter ${elsewhere.meterNo ?? 'unknown'} (receipt ${elsewhere.receiptNo}), not for meter ${meter.meterNo}: the meter refuses it. Enter it on the meter it was bought for.`,
      );
    } else {
      const slip = mine
        ? null
        : (
            sqlite
              .prepare(
                'SELECT t.digits, s.receipt_no AS receiptNo FROM token t JOIN sale s ON s.id = t.sale_id WHERE t.meter_id = ? ORDER BY t.id DESC LIMIT ?',
              )
              .all(meter.id, TYPO_LOOKBACK) as Array<{ digits: string; receiptNo: number }>
          )
            .map((t) => ({ ...t, slip: typingSlip(digits, t.digits) }))
            .find((t) => t.slip !== null);
      add(
        attempt.missingCurrentKey ? 'warning' : 'reject',
        'crc-failed',
        `The token does not decode with the meter's key or any other key this outlet knows (the check fails). Check the digits: a typing error is the usual cause; otherwise it is for another meter or another utility.`,
      );
      if (slip) {
        // The receipt belongs to the token the cashier probably meant, not to the digits typed: it is named in
        // the finding only, so "issued on receipt" never vouches for a mistyped token.
        add(
          'warning',
          'typing-error',
          `It looks like the token on receipt ${slip.receiptNo} (${groupTokenDigits(slip.digits)}) with a typing error: ${slip.slip}. Enter that token instead.`,
        );
      }
    }
    return { ...result, verdict: verdictOf(findings, false), findings };
  }

  const { candidate } = attempt;
  const key = candidate.key;
  if (bits.tokenClass !== 1)
    result.decodedWith = { sgc: key.sgc, krn: key.krn, ti: key.ti, current: candidate.role === 'current' };
  if (attempt.outcome === 'unsupported') {
    result.tokenClass = bits.tokenClass;
    add(
      'reject',
      'unsupported',
      `The token decodes, but its class ${bits.tokenClass} type is not one a standard meter knows: the meter refuses it.`,
    );
    return { ...result, verdict: verdictOf(findings, false), findings };
  }

  const { read } = attempt;
  const payload = read.payload;
  result.tokenClass = read.tokenClass;
  result.subclass = read.subclass;
  result.description = describeToken(payload, sections);
  // The TID counts from the base date it was issued under: the ledger knows it for its own tokens.
  const baseDate = mine?.baseDate ?? key.baseDate;
  const tid = 'tid' in payload ? payload.tid : null;
  if (tid !== null) {
    result.tid = tid;
    result.issuedAt = instantOfWallClock(
      tidToWallClock(tid, baseDate),
      engine.utility.timeZone,
    ).toISOString();
  }
  const section = SECTION[payload.type];
  const receiptText = mine ? ` (issued on receipt ${mine.receiptNo})` : '';

  if (read.tokenClass === 1) {
    add(
      'ok',
      'test-token',
      'Test / display tokens are not encrypted and carry no TID: a meter accepts them any number of times.',
    );
  } else if (candidate.role === 'current') {
    add('ok', 'current-key', `Decoded with the meter's current key: ${keyText(key)}${receiptText}.`);
  } else if (section !== undefined && mine) {
    // The ledger's key change sections are made with the key the meter had before; the ledger moved on at issue.
    add(
      'info',
      'key-change-issued',
      `Key change section ${section} of ${sections}${receiptText}, made with the meter's previous key (${keyText(key)}). The meter takes it only while it still has that key; once the change is complete it refuses it, and the meter then has its current key (${keyText(meter)}).`,
    );
  } else if (candidate.role === 'pending') {
    add(
      'reject',
      'pending-key',
      `Made with the key this meter is due to change to (${keyText(key)}). The meter refuses it until the key change tokens are entered: issue the key change first.`,
    );
  } else {
    const before = mine
      ? ` The ledger issued it on receipt ${mine.receiptNo}, before the meter's key changed: if the key change tokens were entered, the meter refuses it; if not, the meter still accepts it.`
      : '';
    const [code, what] =
      key.sgc !== meter.sgc
        ? ['wrong-sgc', `supply group ${key.sgc}, but the meter is in supply group ${meter.sgc}`]
        : key.krn !== meter.krn
          ? [
              'wrong-krn',
              `key revision ${key.krn} (${key.krn < meter.krn ? 'older' : 'newer'} than the meter's key revision ${meter.krn})`,
            ]
          : key.ti !== meter.ti
            ? [
                'wrong-ti',
                `tariff index ${formatTi(key.ti)}, but the meter has tariff index ${formatTi(meter.ti)}`,
              ]
            : ['wrong-base-date', `base date ${key.baseDate}, but the meter has base date ${meter.baseDate}`];
    add(
      mine ? 'warning' : 'reject',
      code,
      `Made with ${what} (${keyText(key)}).${before}${mine ? '' : ' The meter refuses it: the token must be made with the meter’s current key.'}`,
    );
  }

  if (payload.type === 'transfer-credit' && payload.resource !== meter.meterType) {
    add(
      'reject',
      'wrong-resource',
      `This is ${payload.resource} credit, but meter ${meter.meterNo} measures ${meter.meterType}: the meter refuses it.`,
    );
  }
  if (tid !== null) {
    if (Math.floor(tid / 65536) > key.ken) {
      add(
        'reject',
        'key-expired',
        `The token's TID is past the key expiry number (KEN ${key.ken}) of the key it was made with: the meter refuses it as expired. The meter needs a key change.`,
      );
    }
    explainTid(sqlite, meter, digits, tid, baseDate, mine, add);
  }
  if (candidate.role === 'current' && section === undefined && read.tokenClass !== 1) {
    const change = sqlite
      .prepare(
        "SELECT MAX(s.receipt_no) AS receiptNo FROM token t JOIN sale s ON s.id = t.sale_id WHERE t.meter_id = ? AND t.kind = 'key-change'",
      )
      .get(meter.id) as { receiptNo: number | null };
    if (change.receiptNo !== null) {
      add(
        'info',
        'key-change-first',
        `The meter's key was changed on receipt ${change.receiptNo}. If the meter refuses this token, the key change tokens from that receipt were not entered yet: enter them first, in order.`,
      );
    }
  }
  return {
    ...result,
    verdict: verdictOf(findings, candidate.role === 'current' || read.tokenClass === 1),
    findings,
  };
}

/** What the TID means to the meter, judged from the tokens the ledger issued to it under the same base date. */
function explainTid(
  sqlite: Database.Database,
  meter: MeterRow,
  digits: string,
  tid: number,
  baseDate: BaseDate,
  mine: LedgerToken | undefined,
  add: (severity: Finding['severity'], code: string, message: string) => void,
): void {
  const { newer } = sqlite
    .prepare('SELECT COUNT(*) AS newer FROM token WHERE meter_id = ? AND base_date = ? AND tid > ?')
    .get(meter.id, baseDate, tid) as { newer: number };
  const twin = sqlite
    .prepare(
      'SELECT s.receipt_no AS receiptNo FROM token t JOIN sale s ON s.id = t.sale_id WHERE t.meter_id = ? AND t.base_date = ? AND t.tid = ? AND t.digits <> ?',
    )
    .get(meter.id, baseDate, tid, digits) as { receiptNo: number } | undefined;
  if (!mine) {
    add(
      'warning',
      'not-issued-here',
      "This outlet's ledger did not issue this token to this meter: it comes from another vending point, or it was not sold.",
    );
  }
  if (twin) {
    add(
      'warning',
      'tid-used',
      `The ledger issued another token with the same TID to this meter (receipt ${twin.receiptNo}). A meter takes one token per TID: if that one was entered, this one shows as USED.`,
    );
  }
  if (newer >= TID_MEMORY) {
    add(
      'reject',
      'tid-old',
      `The ledger issued ${newer} later tokens to this meter. A meter remembers only its last ${TID_MEMORY} TIDs and refuses anything older than all of them: once those tokens were entered, this one shows as OLD, even if it was never used.`,
    );
  } else if (newer > 0) {
    add(
      'warning',
      'tid-older',
      `The ledger issued ${newer} later token(s) to this meter. If this token was already entered, the meter shows it as USED; if it never was, the meter still accepts it (it remembers its last ${TID_MEMORY} TIDs).`,
    );
  } else if (mine) {
    add(
      'info',
      'newest-token',
      'This is the newest token the ledger issued to this meter. If the meter shows it as USED, it was already entered and its credit is in the meter.',
    );
  }
}

/** Any refusal decides; a clean decode with the meter's key is an accept; anything doubtful stays unknown. */
function verdictOf(findings: Finding[], currentKey: boolean): TokenExplanation['verdict'] {
  if (findings.some((f) => f.severity === 'reject')) return 'reject';
  if (currentKey && !findings.some((f) => f.severity === 'warning')) return 'accept';
  return 'unknown';
}
