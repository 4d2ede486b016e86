import {
  decodeCurrencyAmount,
  decodeTransferAmount,
  encodeCurrencyAmount,
  encodeTransferAmount,
} from './amount.ts';
import { tokenCrcField } from './crc.ts';
import { StsError } from './errors.ts';
import { type KeyType, requireKeyType, requireKrn, requireTi, requireUnsigned } from './identifiers.ts';
import { MAX_TID } from './tid.ts';

/**
 * What a token says, class by class (IEC 62055-41 §2.2 of sts-algorithms.md), and its 64-bit plain block:
 * `subclass(4) | data(44) | crc(16)`. Class 1 blocks go out unencrypted; classes 0 and 2 are encrypted.
 */

export type Resource = 'electricity' | 'water' | 'gas' | 'time';
export const RESOURCES: readonly Resource[] = ['electricity', 'water', 'gas', 'time'];

/** Register numbers of the clear-credit token (2/1). */
export const CLEAR_CREDIT_REGISTERS = {
  electricity: 0,
  water: 1,
  gas: 2,
  time: 3,
  'electricity-currency': 4,
  'water-currency': 5,
  'gas-currency': 6,
  // Time in currency (0/7); CTSA14 step 6 clears it.
  'time-currency': 7,
  all: 0xffff,
} as const;

interface Identified {
  /** 4-bit random number chosen by the vending side. */
  rnd: number;
  /** Token identifier: minutes since the base date. */
  tid: number;
}

export type TokenPayload =
  /** 0/0–0/3: credit in 0.1 kWh, 0.1 m³ or 0.1 min; `units` is what the meter credits (after rounding up). */
  | ({ type: 'transfer-credit'; resource: Resource; units: number } & Identified)
  /** 0/4–0/7: credit in 10^-5 currency units, signed (IEC 62055-41:2018). */
  | { type: 'currency-credit'; resource: Resource; tid: number; amount: bigint }
  /** 1/0 (2-digit manufacturer code, 36-bit control) and 1/1 (4-digit code, 28-bit control). */
  | { type: 'initiate-test'; manufacturerCodeDigits: 2 | 4; control: number; manufacturerCode: number }
  | ({ type: 'set-max-power-limit'; watts: number } & Identified)
  | ({ type: 'clear-credit'; register: number } & Identified)
  | ({ type: 'set-tariff-rate'; rate: number } & Identified)
  | ({ type: 'clear-tamper'; pad: number } & Identified)
  | ({ type: 'set-max-phase-unbalance-limit'; watts: number } & Identified)
  | ({ type: 'set-water-meter-factor'; factor: number } & Identified)
  /** 2/3: KEN high nibble, new KRN, roll-over, reserved/3KCT bit, new KT, new-key word (bits 63..32 or 127..96). */
  | {
      type: 'key-change-1';
      kenHigh: number;
      krn: number;
      rollover: boolean;
      reserved: number;
      keyType: KeyType;
      keyWord: number;
    }
  /** 2/4: KEN low nibble, new TI, new-key word (bits 31..0). */
  | { type: 'key-change-2'; kenLow: number; ti: number; keyWord: number }
  /** 2/8: SGC low 12 bits, new-key bits 95..64 (128-bit keys). */
  | { type: 'key-change-3'; sgcLow: number; keyWord: number }
  /** 2/9: SGC high 12 bits, new-key bits 63..32 (128-bit keys). */
  | { type: 'key-change-4'; sgcHigh: number; keyWord: number };

export type TokenType = TokenPayload['type'];

/** Class and subclass of a payload. */
export function tokenClassOf(payload: TokenPayload): { tokenClass: number; subclass: number } {
  switch (payload.type) {
    case 'transfer-credit':
      return { tokenClass: 0, subclass: RESOURCES.indexOf(payload.resource) };
    case 'currency-credit':
      return { tokenClass: 0, subclass: 4 + RESOURCES.indexOf(payload.resource) };
    case 'initiate-test':
      return { tokenClass: 1, subclass: payload.manufacturerCodeDigits === 2 ? 0 : 1 };
    default:
      return { tokenClass: 2, subclass: CLASS2_SUBCLASS[payload.type] };
  }
}

const CLASS2_SUBCLASS = {
  'set-max-power-limit': 0,
  'clear-credit': 1,
  'set-tariff-rate': 2,
  'key-change-1': 3,
  'key-change-2': 4,
  'clear-tamper': 5,
  'set-max-phase-unbalance-limit': 6,
  'set-water-meter-factor': 7,
  'key-change-3': 8,
  'key-change-4': 9,
} as const;
const CLASS2_TYPES = Object.keys(CLASS2_SUBCLASS) as Array<keyof typeof CLASS2_SUBCLASS>;

/** A 64-bit plain block with its class; `lo` carries the CRC in its low 16 bits. */
export interface PlainBlock {
  tokenClass: number;
  hi: number;
  lo: number;
}

const TWO_16 = 65536;
const TWO_32 = 4294967296;

function requireIdentified(payload: Identified): void {
  requireUnsigned(payload.rnd, 4, 'random number (RND)');
  requireUnsigned(payload.tid, 24, 'token identifier (TID)');
}

/** Builds the block from the 44-bit data field (exact in a double: 44 < 53 bits). */
function assemble(tokenClass: number, subclass: number, data44: number, currency = false): PlainBlock {
  const hi = ((subclass << 28) | Math.floor(data44 / TWO_16)) >>> 0;
  const dataLow = data44 % TWO_16;
  const crc = tokenCrcField(tokenClass, hi, (dataLow << 16) >>> 0, currency);
  return { tokenClass, hi, lo: ((dataLow << 16) | crc) >>> 0 };
}

const identifiedData = (payload: Identified, value16: number): number =>
  payload.rnd * 2 ** 40 + payload.tid * TWO_16 + value16;

export function encodePlainBlock(payload: TokenPayload): PlainBlock {
  const { subclass } = tokenClassOf(payload);
  if (subclass < 0) {
    throw new StsError(
      'STS_INVALID_FIELD',
      'The token resource is not known.',
      `unknown resource in ${payload.type}`,
    );
  }
  switch (payload.type) {
    case 'transfer-credit':
      requireIdentified(payload);
      return assemble(
        0,
        subclass,
        identifiedData(payload, encodeTransferAmount(payload.units, 'credit amount').field),
      );
    case 'currency-credit': {
      requireUnsigned(payload.tid, 24, 'token identifier (TID)');
      const amount = encodeCurrencyAmount(payload.amount);
      return assemble(
        0,
        subclass,
        amount.signAndExponentNibble * 2 ** 40 + payload.tid * TWO_16 + amount.field,
        true,
      );
    }
    case 'initiate-test': {
      const controlBits = payload.manufacturerCodeDigits === 2 ? 36 : 28;
      const codeBits = 44 - controlBits;
      requireUnsigned(payload.control, controlBits, 'test/display control');
      requireUnsigned(payload.manufacturerCode, codeBits, 'manufacturer code');
      if (payload.manufacturerCode >= 10 ** payload.manufacturerCodeDigits) {
        throw new StsError(
          'STS_INVALID_FIELD',
          `The manufacturer code must have at most ${payload.manufacturerCodeDigits} digits.`,
          `manufacturer code ${payload.manufacturerCode} does not fit ${payload.manufacturerCodeDigits} digits`,
        );
      }
      return assemble(1, subclass, payload.control * 2 ** codeBits + payload.manufacturerCode);
    }
    case 'set-max-power-limit':
      requireIdentified(payload);
      return assemble(
        2,
        subclass,
        identifiedData(payload, encodeTransferAmount(payload.watts, 'power limit').field),
      );
    case 'set-max-phase-unbalance-limit':
      requireIdentified(payload);
      return assemble(
        2,
        subclass,
        identifiedData(payload, encodeTransferAmount(payload.watts, 'phase unbalance limit').field),
      );
    case 'clear-credit':
      requireIdentified(payload);
      return assemble(
        2,
        subclass,
        identifiedData(payload, requireUnsigned(payload.register, 16, 'register')),
      );
    case 'set-tariff-rate':
      requireIdentified(payload);
      return assemble(2, subclass, identifiedData(payload, requireUnsigned(payload.rate, 16, 'tariff rate')));
    case 'clear-tamper':
      requireIdentified(payload);
      return assemble(2, subclass, identifiedData(payload, requireUnsigned(payload.pad, 16, 'pad')));
    case 'set-water-meter-factor':
      requireIdentified(payload);
      return assemble(
        2,
        subclass,
        identifiedData(payload, requireUnsigned(payload.factor, 16, 'water meter factor')),
      );
    case 'key-change-1':
      requireUnsigned(payload.kenHigh, 4, 'KEN high nibble');
      requireKrn(payload.krn);
      requireUnsigned(payload.reserved, 1, 'reserved bit');
      requireKeyType(payload.keyType);
      requireUnsigned(payload.keyWord, 32, 'new key word');
      return assemble(
        2,
        subclass,
        payload.kenHigh * 2 ** 40 +
          payload.krn * 2 ** 36 +
          (payload.rollover ? 2 ** 35 : 0) +
          payload.reserved * 2 ** 34 +
          payload.keyType * TWO_32 +
          payload.keyWord,
      );
    case 'key-change-2':
      requireUnsigned(payload.kenLow, 4, 'KEN low nibble');
      requireTi(payload.ti);
      requireUnsigned(payload.keyWord, 32, 'new key word');
      return assemble(2, subclass, payload.kenLow * 2 ** 40 + payload.ti * TWO_32 + payload.keyWord);
    case 'key-change-3':
      requireUnsigned(payload.sgcLow, 12, 'SGC low bits');
      requireUnsigned(payload.keyWord, 32, 'new key word');
      return assemble(2, subclass, payload.sgcLow * TWO_32 + payload.keyWord);
    case 'key-change-4':
      requireUnsigned(payload.sgcHigh, 12, 'SGC high bits');
      requireUnsigned(payload.keyWord, 32, 'new key word');
      return assemble(2, subclass, payload.sgcHigh * TWO_32 + payload.keyWord);
  }
}

export interface DecodedBlock {
  tokenClass: number;
  subclass: number;
  payload: TokenPayload;
  /** The raw 16-bit value field where the layout has one (amount, register, rate, …). */
  valueField?: number;
}

/** Splits a decrypted block into fields; a CRC mismatch or an unknown class/subclass is an error. */
export function decodePlainBlock(block: PlainBlock): DecodedBlock {
  const { tokenClass, hi, lo } = block;
  const subclass = hi >>> 28;
  const data44 = (hi & 0x0fffffff) * TWO_16 + (lo >>> 16);
  const currency = tokenClass === 0 && subclass >= 4 && subclass <= 7;
  const expectedCrc = tokenCrcField(tokenClass, hi, lo, currency);
  if (expectedCrc !== (lo & 0xffff)) {
    throw new StsError(
      'STS_BAD_CRC',
      'This token does not belong to this meter or was mistyped (check failed).',
      `CRC mismatch: block carries 0x${(lo & 0xffff).toString(16)}, computed 0x${expectedCrc.toString(16)} (wrong key, wrong meter or a typing error)`,
    );
  }
  const rnd = (hi >>> 24) & 15;
  const tid = (hi & 0x00ffffff) >>> 0;
  const value16 = lo >>> 16;
  const unsupported = (): never => {
    throw new StsError(
      'STS_UNSUPPORTED_TOKEN',
      'This token type is not supported.',
      `class ${tokenClass} subclass ${subclass} has no public definition`,
    );
  };
  if (tokenClass === 0) {
    if (subclass <= 3) {
      const payload: TokenPayload = {
        type: 'transfer-credit',
        resource: RESOURCES[subclass]!,
        rnd,
        tid,
        units: decodeTransferAmount(value16),
      };
      return { tokenClass, subclass, payload, valueField: value16 };
    }
    if (subclass <= 7) {
      const amount = decodeCurrencyAmount(rnd, value16);
      return {
        tokenClass,
        subclass,
        payload: { type: 'currency-credit', resource: RESOURCES[subclass - 4]!, tid, amount },
        valueField: value16,
      };
    }
    return unsupported();
  }
  if (tokenClass === 1) {
    if (subclass > 1) return unsupported();
    const codeBits = subclass === 0 ? 8 : 16;
    const codeSpan = 2 ** codeBits;
    const payload: TokenPayload = {
      type: 'initiate-test',
      manufacturerCodeDigits: subclass === 0 ? 2 : 4,
      control: Math.floor(data44 / codeSpan),
      manufacturerCode: data44 % codeSpan,
    };
    return { tokenClass, subclass, payload };
  }
  if (tokenClass !== 2 || subclass > 9) return unsupported();
  const type = CLASS2_TYPES[subclass]!;
  const keyWord = (lo >>> 16) | ((hi & 0xffff) << 16);
  switch (type) {
    case 'set-max-power-limit':
      return {
        tokenClass,
        subclass,
        payload: { type, rnd, tid, watts: decodeTransferAmount(value16) },
        valueField: value16,
      };
    case 'set-max-phase-unbalance-limit':
      return {
        tokenClass,
        subclass,
        payload: { type, rnd, tid, watts: decodeTransferAmount(value16) },
        valueField: value16,
      };
    case 'clear-credit':
      return { tokenClass, subclass, payload: { type, rnd, tid, register: value16 }, valueField: value16 };
    case 'set-tariff-rate':
      return { tokenClass, subclass, payload: { type, rnd, tid, rate: value16 }, valueField: value16 };
    case 'clear-tamper':
      return { tokenClass, subclass, payload: { type, rnd, tid, pad: value16 }, valueField: value16 };
    case 'set-water-meter-factor':
      return { tokenClass, subclass, payload: { type, rnd, tid, factor: value16 }, valueField: value16 };
    case 'key-change-1':
      return {
        tokenClass,
        subclass,
        payload: {
          type,
          kenHigh: (hi >>> 24) & 15,
          krn: (hi >>> 20) & 15,
          rollover: ((hi >>> 19) & 1) === 1,
          reserved: (hi >>> 18) & 1,
          keyType: ((hi >>> 16) & 3) as KeyType,
          keyWord: keyWord >>> 0,
        },
      };
    case 'key-change-2':
      return {
        tokenClass,
        subclass,
        payload: { type, kenLow: (hi >>> 24) & 15, ti: (hi >>> 16) & 0xff, keyWord: keyWord >>> 0 },
      };
    case 'key-change-3':
      return { tokenClass, subclass, payload: { type, sgcLow: (hi >>> 16) & 0xfff, keyWord: keyWord >>> 0 } };
    case 'key-change-4':
      return {
        tokenClass,
        subclass,
        payload: { type, sgcHigh: (hi >>> 16) & 0xfff, keyWord: keyWord >>> 0 },
      };
  }
}

/** TID-carrying payloads (all credit and class-2 management tokens except key changes). */
export function payloadTid(payload: TokenPayload): number | undefined {
  return 'tid' in payload ? payload.tid : undefined;
}

export { MAX_TID };
