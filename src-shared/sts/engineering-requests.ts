import { z } from 'zod';
import { toHex } from '../encoding/hex.ts';
import {
  currencyAmountFromDecimal,
  currencyAmountToDecimal,
  decodeTransferAmount,
  transferUnitsFromDecimal,
} from './amount.ts';
import { createDecoderKeyDeriver, type DecoderKeyInputs } from './decoder-key.ts';
import { StsError } from './errors.ts';
import {
  type DecoderKeyAlgorithm,
  type EncryptionAlgorithm,
  formatTi,
  type KeyType,
  requireDecoderKeyAlgorithm,
  requireEncryptionAlgorithm,
  requireKen,
  requireKeyType,
  requireKrn,
  requireSgc,
  requireTi,
  requireUnsigned,
} from './identifiers.ts';
import { keyChangePayloads } from './key-change.ts';
import { decoderKeyCheckValue, vendingKeyCheckValue } from './key-check-value.ts';
import { type IinLength, type MeterPan, meterPanFromParts, parseMeterPan } from './meter-pan.ts';
import { SecretKey } from './secret-key.ts';
import {
  assertKeyNotExpired,
  type BaseDate,
  formatWallClock,
  nextIssuableTid,
  parseWallClock,
  requireBaseDate,
  requireTidInRange,
  tidFromWallClock,
  tidToWallClock,
  wallClockInZone,
} from './tid.ts';
import { createTokenCipher } from './token-cipher.ts';
import { crcHex, decodeToken, encodeToken, plainBlockHex } from './token-codec.ts';
import { describePayload } from './token-description.ts';
import { groupTokenDigits } from './token-number.ts';
import { RESOURCES, type TokenPayload } from './token-payload.ts';

/**
 * The engineering request contract behind `openvend sts …`: JSON in, JSON out. Shapes are checked with
 * zod (unknown fields are refused, so a typo never silently falls back to a default); values are checked
 * by the STS validators, which give cashier-language messages.
 */

const integer = z.number().int();
const digitsOrNumber = z.union([z.string(), integer]);

/** Where the meter's decoder key comes from: the key itself, or the inputs to derive it. */
export const meterKeySpecSchema = z.strictObject({
  decoderKey: z.string().optional().describe('decoder key, hex (8 bytes for EA07/EA09, 16 for EA11)'),
  vendingKey: z.string().optional().describe('vending key, hex (8 bytes DKGA02, 20 bytes DKGA04)'),
  dkga: z.string().optional().describe('DKGA02 or DKGA04'),
  pan: z.string().optional().describe('18-digit meter PAN with check digit'),
  iin: z.string().optional(),
  drn: z.string().optional().describe('11 or 13-digit meter number, without check digit (with iin)'),
  iinLength: z.union([z.literal(4), z.literal(6)]).optional(),
  keyType: integer.optional(),
  sgc: digitsOrNumber.optional(),
  ti: digitsOrNumber.optional(),
  krn: integer.optional(),
  baseDate: integer.optional(),
  ea: digitsOrNumber.optional(),
  ken: integer.optional(),
});
export type MeterKeySpec = z.infer<typeof meterKeySpecSchema>;

export interface ResolvedMeterKey {
  decoderKey: SecretKey;
  ea: EncryptionAlgorithm;
  baseDate: BaseDate;
  ken: number;
  dkga?: DecoderKeyAlgorithm;
  derivation?: DecoderKeyInputs;
}

export function parseRequest<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new StsError(
      'STS_INVALID_REQUEST',
      `The ${what} request is not valid: ${issues[0]}.`,
      issues.join('; '),
    );
  }
  return result.data;
}

const requireField = <T>(value: T | undefined, name: string, what: string): T => {
  if (value === undefined) {
    throw new StsError(
      'STS_INVALID_REQUEST',
      `The ${what} needs "${name}".`,
      `missing field ${name} in ${what}`,
    );
  }
  return value;
};

function resolvePan(spec: MeterKeySpec): MeterPan {
  if (spec.pan !== undefined) return parseMeterPan(spec.pan, (spec.iinLength ?? 6) as IinLength);
  if (spec.iin !== undefined && spec.drn !== undefined) return meterPanFromParts(spec.iin, spec.drn);
  throw new StsError(
    'STS_INVALID_REQUEST',
    'Give the meter number: "pan" (18 digits), or "iin" and "drn".',
    'derivation needs pan, or iin + drn',
  );
}

export function resolveMeterKey(spec: MeterKeySpec, what = 'meter key'): ResolvedMeterKey {
  const ea = requireEncryptionAlgorithm(spec.ea ?? 'EA07');
  const baseDate = requireBaseDate(spec.baseDate ?? 1993);
  const ken = requireKen(spec.ken ?? 255);
  if (spec.decoderKey !== undefined) {
    if (spec.vendingKey !== undefined) {
      throw new StsError(
        'STS_INVALID_REQUEST',
        `Give either a decoder key or a vending key for the ${what}, not both.`,
        `${what}: both decoderKey and vendingKey given`,
      );
    }
    const decoderKey = SecretKey.fromHex(spec.decoderKey, 'decoder key', [ea === 'EA11' ? 16 : 8]);
    return { decoderKey, ea, baseDate, ken };
  }
  if (spec.vendingKey === undefined) {
    throw new StsError(
      'STS_INVALID_REQUEST',
      `Give the ${what}: a "decoderKey", or a "vendingKey" with the derivation inputs.`,
      `${what}: neither decoderKey nor vendingKey given`,
    );
  }
  const dkga = requireDecoderKeyAlgorithm(requireField(spec.dkga, 'dkga', what));
  const derivation: DecoderKeyInputs = {
    pan: resolvePan(spec),
    keyType: requireKeyType(requireField(spec.keyType, 'keyType', what)),
    sgc: requireSgc(requireField(spec.sgc, 'sgc', what)),
    ti: requireTi(requireField(spec.ti, 'ti', what)),
    krn: requireKrn(requireField(spec.krn, 'krn', what)),
    baseDate,
    ea,
  };
  if (dkga === 'DKGA02' && ea === 'EA11') {
    throw new StsError(
      'STS_INVALID_ALGORITHM',
      'EA11 meters use DKGA04 keys.',
      'DKGA02 yields a 64-bit key; EA11 needs 128 bits',
    );
  }
  const vendingKey = SecretKey.fromHex(spec.vendingKey, 'vending key');
  const decoderKey = createDecoderKeyDeriver(dkga, vendingKey).derive(derivation);
  return { decoderKey, ea, baseDate, ken, dkga, derivation };
}

/** Time and randomness come from the caller, so this module stays pure and tests stay deterministic. */
export interface RequestContext {
  now(): Date;
  randomNibble(): number;
}

// --- token ----------------------------------------------------------------------------------------

export const tokenRequestSchema = meterKeySpecSchema.extend({
  class: integer.describe('token class 0, 1 or 2'),
  subclass: integer.describe('token subclass'),
  rnd: integer.optional().describe('4-bit random number; random when omitted'),
  tid: integer.optional().describe('token identifier in minutes since the base date, used as given'),
  issuedAt: z
    .string()
    .optional()
    .describe('local issue time YYYY-MM-DDTHH:MM; now when neither tid nor issuedAt'),
  timeZone: z.string().optional().describe('IANA zone for "now" (default UTC)'),
  lastIssuedTid: integer.optional().describe('last TID issued to this meter; a new TID is moved past it'),
  units: integer.optional().describe('credit in 0.1 units (kWh, m³, minutes)'),
  kwh: z
    .union([z.string(), z.number()])
    .optional()
    .describe('credit as a decimal quantity; rounded up to 0.1'),
  transferAmount: digitsOrNumber
    .optional()
    .describe('raw 16-bit transfer amount field: a number or "0x" hex'),
  amount: z.string().optional().describe('currency credit (subclasses 4-7), decimal, at most 5 decimals'),
  mpl: integer.optional(),
  mppul: integer.optional(),
  register: integer.optional(),
  rate: integer.optional(),
  pad: integer.optional(),
  wmf: integer.optional(),
  control: integer.optional(),
  manufacturerCode: integer.optional(),
});
export type TokenRequest = z.infer<typeof tokenRequestSchema>;

/** The raw 16-bit field: a number, or a "0x"-prefixed hex string (so "100" is never ambiguous). */
function rawField(value: string | number): number {
  const n =
    typeof value === 'number'
      ? value
      : /^0x[0-9a-f]{1,4}$/i.test(value)
        ? Number.parseInt(value.slice(2), 16)
        : Number.NaN;
  if (Number.isNaN(n)) {
    throw new StsError(
      'STS_INVALID_FIELD',
      'The raw transfer amount must be a number or hex like "0x416A".',
      `transferAmount ${JSON.stringify(value)} is neither a number nor 0x-prefixed hex`,
    );
  }
  return requireUnsigned(n, 16, 'raw transfer amount');
}

function creditUnits(request: TokenRequest): number {
  const given = [request.units, request.kwh, request.transferAmount].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new StsError(
      'STS_INVALID_REQUEST',
      'Give the credit exactly one way: "units" (0.1 units), "kwh" or "transferAmount".',
      `credit token needs exactly one of units, kwh, transferAmount (got ${given})`,
    );
  }
  if (request.units !== undefined) return request.units;
  if (request.kwh !== undefined) return transferUnitsFromDecimal(request.kwh);
  return decodeTransferAmount(rawField(request.transferAmount!));
}

function resolveTid(request: TokenRequest, baseDate: BaseDate, context: RequestContext): number {
  if (request.tid !== undefined) {
    if (request.issuedAt !== undefined) {
      throw new StsError(
        'STS_INVALID_REQUEST',
        'Give either "tid" or "issuedAt", not both.',
        'both tid and issuedAt given',
      );
    }
    return requireTidInRange(request.tid, baseDate);
  }
  const wall =
    request.issuedAt !== undefined
      ? parseWallClock(request.issuedAt)
      : wallClockInZone(context.now(), request.timeZone ?? 'UTC');
  return nextIssuableTid(tidFromWallClock(wall, baseDate), baseDate, request.lastIssuedTid);
}

function buildPayload(request: TokenRequest, identified: () => { rnd: number; tid: number }): TokenPayload {
  const need = <K extends keyof TokenRequest>(key: K): NonNullable<TokenRequest[K]> =>
    requireField(
      request[key],
      String(key),
      `class ${request.class}/${request.subclass} token`,
    ) as NonNullable<TokenRequest[K]>;
  const { class: tokenClass, subclass } = request;
  if (tokenClass === 0 && subclass >= 0 && subclass <= 3) {
    const units = creditUnits(request);
    return { type: 'transfer-credit', resource: RESOURCES[subclass]!, units, ...identified() };
  }
  if (tokenClass === 0 && subclass >= 4 && subclass <= 7) {
    return {
      type: 'currency-credit',
      resource: RESOURCES[subclass - 4]!,
      amount: currencyAmountFromDecimal(need('amount')),
      tid: identified().tid,
    };
  }
  if (tokenClass === 1 && (subclass === 0 || subclass === 1)) {
    return {
      type: 'initiate-test',
      manufacturerCodeDigits: subclass === 0 ? 2 : 4,
      control: need('control'),
      manufacturerCode: request.manufacturerCode ?? 0,
    };
  }
  if (tokenClass === 2) {
    switch (subclass) {
      case 0:
        return { type: 'set-max-power-limit', watts: need('mpl'), ...identified() };
      case 1:
        return { type: 'clear-credit', register: need('register'), ...identified() };
      case 2:
        return { type: 'set-tariff-rate', rate: need('rate'), ...identified() };
      case 5:
        return { type: 'clear-tamper', pad: request.pad ?? 0, ...identified() };
      case 6:
        return { type: 'set-max-phase-unbalance-limit', watts: need('mppul'), ...identified() };
      case 7:
        return { type: 'set-water-meter-factor', factor: need('wmf'), ...identified() };
      case 3:
      case 4:
      case 8:
      case 9:
        throw new StsError(
          'STS_INVALID_REQUEST',
          'Key change tokens come as a set: use the key-change command.',
          `class 2 subclass ${subclass} is a key change section; generate the whole set with sts key-change`,
        );
    }
  }
  throw new StsError(
    'STS_UNSUPPORTED_TOKEN',
    'This token class and subclass are not supported.',
    `class ${tokenClass} subclass ${subclass}`,
  );
}

export function executeTokenRequest(input: unknown, context: RequestContext) {
  const request = parseRequest(tokenRequestSchema, input, 'token');
  const needsKey = request.class !== 1;
  const meter = needsKey ? resolveMeterKey(request) : undefined;
  const baseDate = meter?.baseDate ?? 1993;
  const payload = buildPayload(request, () => {
    const tid = resolveTid(request, baseDate, context);
    assertKeyNotExpired(tid, meter?.ken ?? 255);
    const rnd = request.rnd ?? context.randomNibble();
    return { rnd: requireUnsigned(rnd, 4, 'random number (RND)'), tid };
  });
  const token = encodeToken(payload, meter ? createTokenCipher(meter.ea, meter.decoderKey) : null);
  return {
    token: token.digits,
    display: groupTokenDigits(token.digits),
    class: token.tokenClass,
    subclass: token.subclass,
    fields: jsonSafe(describePayload(payload, token.subclass, baseDate)),
    valueField: toHex(token.plain.lo >>> 16, 4),
    plainBlock: plainBlockHex(token.plain),
    crc: crcHex(token.plain),
    ...(meter
      ? { ea: meter.ea, baseDate, decoderKeyKcv: decoderKeyCheckValue(meter.decoderKey, meter.ea) }
      : {}),
  };
}

const jsonSafe = (fields: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]));

// --- key change -----------------------------------------------------------------------------------

export const keyChangeRequestSchema = z.strictObject({
  current: meterKeySpecSchema.describe("the meter's present key"),
  next: meterKeySpecSchema.describe('the new key; its keyType, krn, ti, sgc and ken go into the tokens'),
  rollover: z
    .boolean()
    .optional()
    .describe('RO: clear the meter TID history (base-date move); default: when the base date changes'),
  reserved: integer.optional().describe('Res/3KCT bit, default 0'),
});

const KEY_WORD_FIELDS = new Set(['nkho_hex', 'nklo_hex', 'key_word_hex']);
const withoutKeyMaterial = (fields: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).filter(([name]) => !KEY_WORD_FIELDS.has(name)));

const SECTION_NAMES = ['1st section (2/3)', '2nd section (2/4)', '3rd section (2/8)', '4th section (2/9)'];

export function executeKeyChangeRequest(input: unknown) {
  const request = parseRequest(keyChangeRequestSchema, input, 'key change');
  const current = resolveMeterKey(request.current, 'current key');
  const next = resolveMeterKey(request.next, 'new key');
  const nextSpec = request.next;
  const keyType: KeyType =
    next.derivation?.keyType ?? requireKeyType(requireField(nextSpec.keyType, 'keyType', 'new key'));
  const krn = next.derivation?.krn ?? requireKrn(requireField(nextSpec.krn, 'krn', 'new key'));
  const ti = next.derivation?.ti ?? requireTi(requireField(nextSpec.ti, 'ti', 'new key'));
  const sgc = next.derivation?.sgc ?? requireSgc(requireField(nextSpec.sgc, 'sgc', 'new key'));
  const rollover = request.rollover ?? next.baseDate !== current.baseDate;
  const cipher = createTokenCipher(current.ea, current.decoderKey);
  const payloads = keyChangePayloads({
    newKey: next.decoderKey,
    ken: next.ken,
    krn,
    keyType,
    ti,
    sgc,
    rollover,
    reserved: request.reserved ?? 0,
  });
  const tokens = payloads.map((payload, index) => {
    const token = encodeToken(payload, cipher);
    return {
      section: SECTION_NAMES[index],
      token: token.digits,
      display: groupTokenDigits(token.digits),
      class: token.tokenClass,
      subclass: token.subclass,
      // The plain block and key words carry the new key itself: never part of this output.
      fields: withoutKeyMaterial(describePayload(payload, token.subclass, next.baseDate)),
    };
  });
  return {
    instructions:
      'Enter these key change tokens first, in this order, then any credit token made with the new key.',
    tokens,
    next: {
      keyType,
      krn,
      ti: formatTi(ti),
      sgc,
      ken: next.ken,
      ea: next.ea,
      baseDate: next.baseDate,
      rollover,
      decoderKeyKcv: decoderKeyCheckValue(next.decoderKey, next.ea),
    },
    currentDecoderKeyKcv: decoderKeyCheckValue(current.decoderKey, current.ea),
  };
}

// --- decode ---------------------------------------------------------------------------------------

export const decodeRequestSchema = meterKeySpecSchema.extend({
  token: z.string().describe('the 20-digit token'),
});

export function executeDecodeRequest(input: unknown) {
  const request = parseRequest(decodeRequestSchema, input, 'decode');
  const meter = resolveMeterKey(request);
  const read = decodeToken(request.token, createTokenCipher(meter.ea, meter.decoderKey));
  const fields = jsonSafe(describePayload(read.payload, read.subclass, meter.baseDate));
  if (read.payload.type === 'currency-credit') fields.amount = currencyAmountToDecimal(read.payload.amount);
  return {
    class: read.tokenClass,
    subclass: read.subclass,
    crcOk: true,
    fields,
    plainBlock: plainBlockHex(read.plain),
    ...('tid' in read.payload
      ? {
          keyExpired: Math.floor(read.payload.tid / 65536) > meter.ken,
          tidDateTime: formatWallClock(tidToWallClock(read.payload.tid, meter.baseDate)),
        }
      : {}),
  };
}

// --- decoder key ----------------------------------------------------------------------------------

export function executeDecoderKeyRequest(input: unknown, options: { reveal: boolean }) {
  const spec = parseRequest(meterKeySpecSchema, input, 'decoder key');
  if (spec.vendingKey === undefined) {
    throw new StsError(
      'STS_INVALID_REQUEST',
      'Give the vending key and the derivation inputs.',
      'decoder-key needs vendingKey',
    );
  }
  const meter = resolveMeterKey(spec);
  const vendingKey = SecretKey.fromHex(spec.vendingKey, 'vending key');
  return {
    dkga: meter.dkga,
    ea: meter.ea,
    pan: meter.derivation?.pan.pan,
    keyType: meter.derivation?.keyType,
    sgc: meter.derivation?.sgc,
    ti: meter.derivation ? formatTi(meter.derivation.ti) : undefined,
    krn: meter.derivation?.krn,
    baseDate: meter.baseDate,
    keyBytes: meter.decoderKey.length,
    decoderKeyKcv: decoderKeyCheckValue(meter.decoderKey, meter.ea),
    vendingKeyKcv: vendingKeyCheckValue(vendingKey, meter.dkga!),
    ...(options.reveal ? { decoderKey: meter.decoderKey.revealHex() } : {}),
  };
}
