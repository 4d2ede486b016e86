import { wordsToBytes } from '../encoding/hex.ts';
import { currencyAmountToDecimal } from './amount.ts';
import type { BlockCipher64 } from './crypto/block-cipher.ts';
import { StsError } from './errors.ts';
import {
  decoderKeyBytes,
  type EncryptionAlgorithm,
  type KeyType,
  requireEncryptionAlgorithm,
  requireKen,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
} from './identifiers.ts';
import { decoderKeyCheckValue } from './key-check-value.ts';
import type { MeterPan } from './meter-pan.ts';
import { SecretKey } from './secret-key.ts';
import { type BaseDate, requireBaseDate } from './tid.ts';
import { createTokenCipher } from './token-cipher.ts';
import { decodeToken, type ReadToken } from './token-codec.ts';
import { CLEAR_CREDIT_REGISTERS, RESOURCES, type Resource, type TokenPayload } from './token-payload.ts';

/**
 * A simulated STS meter: it reads tokens the way a prepayment meter does (decrypt with its own key, CRC,
 * key expiry, TID history, then act), so tests can prove that issued tokens are accepted exactly once.
 *
 * A rejection is a normal outcome (`accepted: false` with a stable `outcome` code), never an exception;
 * only invalid construction or method arguments throw `StsError`. The meter never reveals key material:
 * it keeps the expanded cipher and the key's check value, and no response carries key words.
 *
 * Base-date moves (e.g. the 2024 roll-over of base date 1993): a meter cannot learn its new base date
 * from a token, so the test says which base date comes next with `expectBaseDate(date)`. The next
 * complete key change with RO = 1 moves the meter to it (and clears the TID history); a key change with
 * RO = 0 leaves it pending.
 */

export interface VirtualMeterOptions {
  /** Informational only: the decoder key already reflects the PAN. */
  pan?: MeterPan;
  decoderKey: SecretKey;
  ea: EncryptionAlgorithm;
  baseDate: BaseDate;
  /** Key expiry number; 255 (the default) never expires. */
  ken?: number;
  krn: number;
  keyType: KeyType;
  ti: number;
  sgc: string;
  /** How many recent TIDs the meter remembers; 20 in one meter firmware (the default). */
  historySize?: number;
}

export const DEFAULT_TID_HISTORY_SIZE = 20;
const NEVER_EXPIRES_KEN = 255;

export type ClearCreditRegisterName = keyof typeof CLEAR_CREDIT_REGISTERS;
export type KeyChangeSection = 1 | 2 | 3 | 4;

/** What an accepted token did; the fields are plain JSON values (currency amounts as decimal text). */
export type MeterAcceptance =
  | { outcome: 'credit'; tid: number; resource: Resource; units: number }
  /** `amount` is the exact signed decimal, e.g. "100.00624" (10^-5 resolution). */
  | { outcome: 'currency-credit'; tid: number; resource: Resource; amount: string }
  | { outcome: 'test-display'; control: number; manufacturerCode: number }
  | { outcome: 'max-power-limit-set'; tid: number; watts: number }
  | { outcome: 'credit-cleared'; tid: number; register: number; registerName: ClearCreditRegisterName }
  | { outcome: 'tariff-rate-set'; tid: number; rate: number }
  | { outcome: 'tamper-cleared'; tid: number }
  | { outcome: 'phase-unbalance-limit-set'; tid: number; watts: number }
  | { outcome: 'water-meter-factor-set'; tid: number; factor: number }
  | { outcome: 'key-change-staged'; section: KeyChangeSection; missingSections: KeyChangeSection[] }
  | {
      outcome: 'key-changed';
      keyRevision: number;
      keyType: KeyType;
      tariffIndex: number;
      ken: number;
      supplyGroup: string;
      rollover: boolean;
      baseDate: BaseDate;
    };

export type RejectionOutcome =
  /** Not 20 digits, or above 2^66 − 1. */
  | 'invalid-token'
  /** The CRC fails under the current key: wrong meter, wrong key or a typing error. */
  | 'reject-crc'
  /** A class/subclass this meter does not implement (incl. 3rd/4th key sections on a 64-bit-key meter). */
  | 'unsupported'
  /** The TID is in the history. */
  | 'used'
  /** The history is full and the TID is older than every TID in it. */
  | 'old'
  /** (TID >> 16) > KEN. */
  | 'key-expired'
  /** Clear credit for a register number the meter does not have. */
  | 'invalid-register'
  /** Clear tamper with a non-zero pad. */
  | 'invalid-pad'
  /** A change to key type 0 (DITK) while the current key is not KT 0. */
  | 'key-type-refused'
  /** A complete key change set whose KRN, TI or SGC is out of range. */
  | 'invalid-key-change';

export type MeterResponse =
  | ({ accepted: true; display: string } & MeterAcceptance)
  | { accepted: false; outcome: RejectionOutcome; display: string; tid?: number };

export type MeterOutcome = MeterResponse['outcome'];

type PayloadOf<T extends TokenPayload['type']> = Extract<TokenPayload, { type: T }>;
type KeyChangePayload = PayloadOf<'key-change-1' | 'key-change-2' | 'key-change-3' | 'key-change-4'>;
type IdentifiedPayload = Exclude<TokenPayload, KeyChangePayload | PayloadOf<'initiate-test'>>;

interface StagedKeyChange {
  1?: PayloadOf<'key-change-1'>;
  2?: PayloadOf<'key-change-2'>;
  3?: PayloadOf<'key-change-3'>;
  4?: PayloadOf<'key-change-4'>;
}

const SECTION_OF = {
  'key-change-1': 1,
  'key-change-2': 2,
  'key-change-3': 3,
  'key-change-4': 4,
} as const satisfies Record<KeyChangePayload['type'], KeyChangeSection>;

const REJECTION_DISPLAY: Record<RejectionOutcome, string> = {
  'invalid-token': 'Rejected: not a valid token',
  'reject-crc': 'Rejected: token not for this meter',
  unsupported: 'Rejected: token type not supported',
  used: 'Rejected: token already used',
  old: 'Rejected: token too old',
  'key-expired': 'Rejected: meter key expired',
  'invalid-register': 'Rejected: unknown register',
  'invalid-pad': 'Rejected: invalid clear-tamper token',
  'key-type-refused': 'Rejected: key type change refused',
  'invalid-key-change': 'Rejected: invalid key change',
};

const UNIT_NAMES: Record<Resource, string> = { electricity: 'kWh', water: 'm³', gas: 'm³', time: 'min' };
const REGISTER_NAMES = new Map<number, ClearCreditRegisterName>(
  Object.entries(CLEAR_CREDIT_REGISTERS).map(([name, register]) => [
    register,
    name as ClearCreditRegisterName,
  ]),
);
const MAX_SGC = 999_999;

const formatTenths = (units: number): string => `${Math.floor(units / 10)}.${units % 10}`;

function reject(outcome: RejectionOutcome, tid?: number): MeterResponse {
  const display = REJECTION_DISPLAY[outcome];
  return tid === undefined
    ? { accepted: false, outcome, display }
    : { accepted: false, outcome, display, tid };
}

const accept = (display: string, acceptance: MeterAcceptance): MeterResponse => ({
  accepted: true,
  display,
  ...acceptance,
});

/** Maps a decoding failure to the meter's rejection; anything unexpected is a bug and propagates. */
function rejectionForDecodeError(error: unknown): MeterResponse {
  if (error instanceof StsError) {
    switch (error.code) {
      case 'STS_INVALID_TOKEN':
      case 'STS_TOKEN_OUT_OF_RANGE':
        return reject('invalid-token');
      case 'STS_BAD_CRC':
        return reject('reject-crc');
      case 'STS_UNSUPPORTED_TOKEN':
        return reject('unsupported');
    }
  }
  throw error;
}

const zeroCredit = (): Record<Resource, number> => ({ electricity: 0, water: 0, gas: 0, time: 0 });
const zeroCurrency = (): Record<Resource, bigint> => ({ electricity: 0n, water: 0n, gas: 0n, time: 0n });

export class VirtualMeter {
  readonly pan: MeterPan | undefined;
  readonly ea: EncryptionAlgorithm;
  readonly historySize: number;

  // Only the expanded cipher and the check value are kept, never the key itself.
  #cipher: BlockCipher64;
  #keyCheckValue: string;
  #keyRevision: number;
  #keyType: KeyType;
  #tariffIndex: number;
  #supplyGroup: string;
  #ken: number;
  #baseDate: BaseDate;
  #expectedBaseDate: BaseDate | undefined;
  /** Ascending, so the oldest kept TID is at index 0. */
  #tids: number[] = [];
  #staged: StagedKeyChange = {};
  #credit = zeroCredit();
  #currencyCredit = zeroCurrency();
  #maxPowerLimit: number | undefined;
  #maxPhaseUnbalanceLimit: number | undefined;
  #tariffRate: number | undefined;
  #waterMeterFactor: number | undefined;
  #tampered = false;

  constructor(options: VirtualMeterOptions) {
    this.pan = options.pan;
    this.ea = requireEncryptionAlgorithm(options.ea);
    this.#baseDate = requireBaseDate(options.baseDate);
    this.#ken = requireKen(options.ken ?? NEVER_EXPIRES_KEN);
    this.#keyRevision = requireKrn(options.krn);
    this.#keyType = requireKeyType(options.keyType);
    this.#tariffIndex = requireTi(options.ti);
    this.#supplyGroup = requireSgc(options.sgc);
    this.historySize = requireHistorySize(options.historySize ?? DEFAULT_TID_HISTORY_SIZE);
    this.#cipher = createTokenCipher(this.ea, options.decoderKey);
    this.#keyCheckValue = decoderKeyCheckValue(options.decoderKey, this.ea);
  }

  // --- read-only state ---------------------------------------------------------------------------

  /** Credit register in 0.1 units (kWh, m³ or minutes). */
  credit(resource: Resource): number {
    return this.#credit[resource];
  }

  /** Currency credit register in 10^-5 currency units. */
  currencyCredit(resource: Resource): bigint {
    return this.#currencyCredit[resource];
  }

  /** The remembered TIDs, oldest first (a copy). */
  tidHistory(): number[] {
    return [...this.#tids];
  }

  /** Key change sections received and waiting for the rest of their set. */
  stagedKeyChangeSections(): KeyChangeSection[] {
    return this.#sections().filter((section) => this.#staged[section] !== undefined);
  }

  /** Check value of the current decoder key (identifies it without revealing it). */
  decoderKeyKcv(): string {
    return this.#keyCheckValue;
  }

  get keyRevision(): number {
    return this.#keyRevision;
  }
  get keyType(): KeyType {
    return this.#keyType;
  }
  get tariffIndex(): number {
    return this.#tariffIndex;
  }
  get supplyGroup(): string {
    return this.#supplyGroup;
  }
  get ken(): number {
    return this.#ken;
  }
  get baseDate(): BaseDate {
    return this.#baseDate;
  }
  /** The base date the next roll-over key change moves to, if one was announced. */
  get expectedBaseDate(): BaseDate | undefined {
    return this.#expectedBaseDate;
  }
  /** Watts; undefined until a set-MPL token is accepted. */
  get maxPowerLimit(): number | undefined {
    return this.#maxPowerLimit;
  }
  get maxPhaseUnbalanceLimit(): number | undefined {
    return this.#maxPhaseUnbalanceLimit;
  }
  get tariffRate(): number | undefined {
    return this.#tariffRate;
  }
  get waterMeterFactor(): number | undefined {
    return this.#waterMeterFactor;
  }
  get tampered(): boolean {
    return this.#tampered;
  }

  // --- test controls -----------------------------------------------------------------------------

  /** Raises the tamper condition, as opening the cover would. */
  setTamper(): void {
    this.#tampered = true;
  }

  /** Announces the base date that the next key change with RO = 1 moves to; it must be later. */
  expectBaseDate(baseDate: BaseDate): void {
    const next = requireBaseDate(baseDate);
    if (next <= this.#baseDate) {
      throw new StsError(
        'STS_INVALID_BASE_DATE',
        'A meter can only move to a later base date.',
        `base date ${next} is not after the meter's current base date ${this.#baseDate}`,
      );
    }
    this.#expectedBaseDate = next;
  }

  // --- token entry -------------------------------------------------------------------------------

  /** Enters one token, as a customer types it on the keypad (spaces and dashes are allowed). */
  apply(tokenDigits: string): MeterResponse {
    let token: ReadToken;
    try {
      // Class 1 tokens are not encrypted; decodeToken skips the cipher for them.
      token = decodeToken(tokenDigits, this.#cipher);
    } catch (error) {
      return rejectionForDecodeError(error);
    }
    const { payload } = token;
    switch (payload.type) {
      case 'initiate-test':
        return accept('Test/display', {
          outcome: 'test-display',
          control: payload.control,
          manufacturerCode: payload.manufacturerCode,
        });
      case 'key-change-1':
      case 'key-change-2':
      case 'key-change-3':
      case 'key-change-4':
        return this.#stageKeyChange(payload);
      default:
        return this.#applyIdentified(payload);
    }
  }

  /** Credit and management tokens: key expiry, then the TID history, then the token's own checks. */
  #applyIdentified(payload: IdentifiedPayload): MeterResponse {
    const { tid } = payload;
    if (Math.floor(tid / 65536) > this.#ken) return reject('key-expired', tid);
    if (this.#tids.includes(tid)) return reject('used', tid);
    if (this.#tids.length >= this.historySize && tid < this.#tids[0]!) return reject('old', tid);
    const response = this.#execute(payload);
    // A token refused for its content does not use up its TID.
    if (response.accepted) this.#rememberTid(tid);
    return response;
  }

  #rememberTid(tid: number): void {
    const at = this.#tids.findIndex((kept) => kept > tid);
    this.#tids.splice(at < 0 ? this.#tids.length : at, 0, tid);
    if (this.#tids.length > this.historySize) this.#tids.shift();
  }

  #execute(payload: IdentifiedPayload): MeterResponse {
    const { tid } = payload;
    switch (payload.type) {
      case 'transfer-credit': {
        const { resource, units } = payload;
        this.#credit[resource] += units;
        return accept(`Credit added: ${formatTenths(units)} ${UNIT_NAMES[resource]}`, {
          outcome: 'credit',
          tid,
          resource,
          units,
        });
      }
      case 'currency-credit': {
        const { resource } = payload;
        this.#currencyCredit[resource] += payload.amount;
        const amount = currencyAmountToDecimal(payload.amount);
        return accept(`Credit added: ${amount}`, { outcome: 'currency-credit', tid, resource, amount });
      }
      case 'set-max-power-limit':
        this.#maxPowerLimit = payload.watts;
        return accept(`Power limit: ${payload.watts} W`, {
          outcome: 'max-power-limit-set',
          tid,
          watts: payload.watts,
        });
      case 'clear-credit':
        return this.#clearCredit(payload.register, tid);
      case 'set-tariff-rate':
        this.#tariffRate = payload.rate;
        return accept(`Tariff rate: ${payload.rate}`, {
          outcome: 'tariff-rate-set',
          tid,
          rate: payload.rate,
        });
      case 'clear-tamper':
        // One meter firmware refuses a clear-tamper token whose pad is not 0.
        if (payload.pad !== 0) return reject('invalid-pad', tid);
        this.#tampered = false;
        return accept('Tamper cleared', { outcome: 'tamper-cleared', tid });
      case 'set-max-phase-unbalance-limit':
        this.#maxPhaseUnbalanceLimit = payload.watts;
        return accept(`Phase unbalance limit: ${payload.watts} W`, {
          outcome: 'phase-unbalance-limit-set',
          tid,
          watts: payload.watts,
        });
      case 'set-water-meter-factor':
        this.#waterMeterFactor = payload.factor;
        return accept(`Water meter factor: ${payload.factor}`, {
          outcome: 'water-meter-factor-set',
          tid,
          factor: payload.factor,
        });
    }
  }

  #clearCredit(register: number, tid: number): MeterResponse {
    const registerName = REGISTER_NAMES.get(register);
    if (registerName === undefined) return reject('invalid-register', tid);
    if (registerName === 'all') {
      this.#credit = zeroCredit();
      this.#currencyCredit = zeroCurrency();
    } else if (register < 4) {
      this.#credit[RESOURCES[register]!] = 0;
    } else {
      this.#currencyCredit[RESOURCES[register - 4]!] = 0n;
    }
    return accept(`Credit cleared: ${registerName}`, {
      outcome: 'credit-cleared',
      tid,
      register,
      registerName,
    });
  }

  // --- key change --------------------------------------------------------------------------------

  /** Sections a complete set needs: 1–2 for 64-bit keys (EA07/EA09), 1–4 for 128-bit keys (EA11). */
  #sections(): KeyChangeSection[] {
    return decoderKeyBytes(this.ea) === 16 ? [1, 2, 3, 4] : [1, 2];
  }

  #stageKeyChange(payload: KeyChangePayload): MeterResponse {
    const section = SECTION_OF[payload.type];
    const sections = this.#sections();
    if (!sections.includes(section)) return reject('unsupported');
    // Res/3KCT = 1 announces a 3-token EA07 set (unverified in public sources): refused as unsupported.
    if (payload.type === 'key-change-1' && payload.reserved !== 0) return reject('unsupported');
    this.#store(payload);
    const missingSections = sections.filter((needed) => this.#staged[needed] === undefined);
    if (missingSections.length > 0) {
      return accept(`Key section ${section} of ${sections.length} stored`, {
        outcome: 'key-change-staged',
        section,
        missingSections,
      });
    }
    return this.#completeKeyChange();
  }

  /** Sections arrive in any order; a newer copy of a section replaces the staged one. */
  #store(payload: KeyChangePayload): void {
    switch (payload.type) {
      case 'key-change-1':
        this.#staged[1] = payload;
        break;
      case 'key-change-2':
        this.#staged[2] = payload;
        break;
      case 'key-change-3':
        this.#staged[3] = payload;
        break;
      case 'key-change-4':
        this.#staged[4] = payload;
        break;
    }
  }

  /** Applies a complete set. A refused set is discarded, so its sections cannot trigger it again. */
  #completeKeyChange(): MeterResponse {
    const staged = this.#staged;
    this.#staged = {};
    const first = staged[1]!;
    const second = staged[2]!;
    const third = staged[3];
    const fourth = staged[4];
    // 128-bit keys also carry the supply group code, split across the 3rd and 4th sections.
    const sgcValue = third && fourth ? (fourth.sgcHigh << 12) | third.sgcLow : undefined;
    const krnValid = first.krn >= 1 && first.krn <= 9;
    if (!krnValid || second.ti > 99 || (sgcValue !== undefined && sgcValue > MAX_SGC)) {
      return reject('invalid-key-change');
    }
    // One meter firmware refuses to go back to an initialisation key (KT 0) from any other key type.
    if (first.keyType === 0 && this.#keyType !== 0) return reject('key-type-refused');

    const keyBytes =
      third && fourth
        ? Uint8Array.from([
            ...wordsToBytes(first.keyWord, third.keyWord), // bits 127..64
            ...wordsToBytes(fourth.keyWord, second.keyWord), // bits 63..0
          ])
        : wordsToBytes(first.keyWord, second.keyWord);
    const newKey = SecretKey.fromBytes(keyBytes);
    keyBytes.fill(0);
    this.#cipher = createTokenCipher(this.ea, newKey);
    this.#keyCheckValue = decoderKeyCheckValue(newKey, this.ea);
    this.#keyRevision = first.krn;
    this.#keyType = first.keyType;
    this.#tariffIndex = second.ti;
    this.#ken = (first.kenHigh << 4) | second.kenLow;
    if (sgcValue !== undefined) this.#supplyGroup = String(sgcValue).padStart(6, '0');
    if (first.rollover) {
      this.#tids = [];
      if (this.#expectedBaseDate !== undefined) {
        this.#baseDate = this.#expectedBaseDate;
        this.#expectedBaseDate = undefined;
      }
    }
    return accept(`Key changed: KRN ${this.#keyRevision}`, {
      outcome: 'key-changed',
      keyRevision: this.#keyRevision,
      keyType: this.#keyType,
      tariffIndex: this.#tariffIndex,
      ken: this.#ken,
      supplyGroup: this.#supplyGroup,
      rollover: first.rollover,
      baseDate: this.#baseDate,
    });
  }
}

function requireHistorySize(value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new StsError(
      'STS_INVALID_FIELD',
      'The meter TID history size must be a whole number of at least 1.',
      `TID history size ${JSON.stringify(value)} is not a positive integer`,
    );
  }
  return value;
}
