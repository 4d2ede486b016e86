import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTransferAmount,
  encodeCurrencyAmount,
  encodeTransferAmount,
  MAX_TRANSFER_UNITS,
} from '../../../src-shared/sts/amount.ts';
import { tokenCrcField } from '../../../src-shared/sts/crc.ts';
import type { BlockCipher64 } from '../../../src-shared/sts/crypto/block-cipher.ts';
import { createDecoderKeyDeriver, type DecoderKeyDeriver } from '../../../src-shared/sts/decoder-key.ts';
import { StsError } from '../../../src-shared/sts/errors.ts';
import type { EncryptionAlgorithm, KeyType } from '../../../src-shared/sts/identifiers.ts';
import { type KeyChangeTarget, keyChangePayloads } from '../../../src-shared/sts/key-change.ts';
import { decoderKeyCheckValue } from '../../../src-shared/sts/key-check-value.ts';
import { type MeterPan, meterPanFromParts, parseMeterPan } from '../../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';
import { type BaseDate, tidFromWallClock } from '../../../src-shared/sts/tid.ts';
import { createTokenCipher } from '../../../src-shared/sts/token-cipher.ts';
import { encodeToken } from '../../../src-shared/sts/token-codec.ts';
import { groupTokenDigits, tokenToDigits } from '../../../src-shared/sts/token-number.ts';
import { RESOURCES, type Resource, type TokenPayload } from '../../../src-shared/sts/token-payload.ts';
import {
  type MeterResponse,
  VirtualMeter,
  type VirtualMeterOptions,
} from '../../../src-shared/sts/virtual-meter.ts';

// --- key material, remembered so every response can be checked for leaks ---------------------------

const secretTexts = new Set<string>();

function remember(key: SecretKey): SecretKey {
  const hex = key.revealHex();
  secretTexts.add(hex);
  for (let i = 0; i < hex.length; i += 8) {
    const word = hex.slice(i, i + 8);
    secretTexts.add(word);
    // Short decimals would match ordinary numbers (TIDs, units); only long ones are telling.
    const decimal = String(Number.parseInt(word, 16));
    if (decimal.length >= 9) secretTexts.add(decimal);
  }
  return key;
}

function expectNoKeyMaterial(value: unknown): void {
  const text = JSON.stringify(value).toLowerCase();
  for (const secret of secretTexts) expect(text).not.toContain(secret);
}

// --- meters and the vending side ---------------------------------------------------------------------

const PAN = parseMeterPan('600727000000000009');
const OTHER_PAN = meterPanFromParts('600727', '00000000001');

const dkga02 = createDecoderKeyDeriver(
  'DKGA02',
  remember(SecretKey.fromHex('abababababababab', 'vending key')),
);
const dkga04 = createDecoderKeyDeriver(
  'DKGA04',
  remember(SecretKey.fromHex('abababababababab949494949494949401234567', 'vending key')),
);

interface MeterProfile {
  deriver: DecoderKeyDeriver;
  ea: EncryptionAlgorithm;
  pan: MeterPan;
  keyType: KeyType;
  sgc: string;
  ti: number;
  krn: number;
  baseDate: BaseDate;
}

const EA07_PROFILE: MeterProfile = {
  deriver: dkga02,
  ea: 'EA07',
  pan: PAN,
  keyType: 2,
  sgc: '123456',
  ti: 1,
  krn: 1,
  baseDate: 1993,
};
const EA11_PROFILE: MeterProfile = { ...EA07_PROFILE, deriver: dkga04, ea: 'EA11', sgc: '123457' };

const keyFor = (profile: MeterProfile): SecretKey => remember(profile.deriver.derive(profile));

function meterFor(profile: MeterProfile, options: Partial<VirtualMeterOptions> = {}): VirtualMeter {
  const { pan, ea, baseDate, krn, keyType, ti, sgc } = profile;
  return new VirtualMeter({
    pan,
    decoderKey: keyFor(profile),
    ea,
    baseDate,
    krn,
    keyType,
    ti,
    sgc,
    ...options,
  });
}

/** The vending side for one decoder key: makes tokens with the real engine. */
class Issuer {
  readonly #cipher: BlockCipher64;

  constructor(key: SecretKey, ea: EncryptionAlgorithm) {
    this.#cipher = createTokenCipher(ea, key);
  }

  token(payload: TokenPayload): string {
    return encodeToken(payload, this.#cipher).digits;
  }

  credit(tid: number, units: number, resource: Resource = 'electricity'): string {
    return this.token({ type: 'transfer-credit', resource, units, tid, rnd: tid % 16 });
  }

  keyChange(target: KeyChangeTarget): string[] {
    return keyChangePayloads(target).map((payload) => this.token(payload));
  }

  /** A class 2 block the payload encoder would refuse (out-of-range fields), encrypted and transposed. */
  rawClass2(subclass: number, data44: number): string {
    const hi = ((subclass << 28) | Math.floor(data44 / 65536)) >>> 0;
    const dataLow = data44 % 65536;
    const crc = tokenCrcField(2, hi, (dataLow << 16) >>> 0);
    const block = new Uint32Array([hi, ((dataLow << 16) | crc) >>> 0]);
    this.#cipher.encryptBlock(block);
    return tokenToDigits(2, block[0]!, block[1]!);
  }
}

const issuerFor = (profile: MeterProfile): Issuer => new Issuer(keyFor(profile), profile.ea);

/** Enters a token and checks that the response never carries key material. */
function enter(meter: VirtualMeter, digits: string): MeterResponse {
  const response = meter.apply(digits);
  expectNoKeyMaterial(response);
  return response;
}

const enterAll = (meter: VirtualMeter, tokens: string[]): MeterResponse[] =>
  tokens.map((digits) => enter(meter, digits));

function keyChangeTo(profile: MeterProfile, overrides: Partial<KeyChangeTarget> = {}): KeyChangeTarget {
  return {
    newKey: keyFor(profile),
    ken: 255,
    krn: profile.krn,
    keyType: profile.keyType,
    ti: profile.ti,
    sgc: profile.sgc,
    rollover: false,
    ...overrides,
  };
}

const TID = 5871715; // CTSA01 step 1: 2004-03-01 13:55, base date 1993

// --- fixtures ----------------------------------------------------------------------------------------

interface Vector {
  id: string;
  kind: string;
  confidence: string;
  inputs: Record<string, unknown> & { decoder_key_derivation?: Record<string, unknown> };
  expected: Record<string, string>;
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/fixtures/sts-vectors.json', import.meta.url), 'utf8'),
) as Vector[];
const vectorsOf = (kind: string) => vectors.filter((vector) => vector.kind === kind);

/** A meter holding a fixture's (already derived) decoder key. */
function fixtureMeter(
  keyHex: string,
  ea: EncryptionAlgorithm,
  derivation: Record<string, unknown>,
  baseDate: unknown,
): VirtualMeter {
  return new VirtualMeter({
    decoderKey: remember(SecretKey.fromHex(keyHex, 'decoder key')),
    ea,
    baseDate: (baseDate ?? derivation.base_date ?? 2014) as BaseDate,
    krn: (derivation.krn as number | undefined) ?? 1,
    keyType: (derivation.key_type as KeyType | undefined) ?? 2,
    ti: Number(derivation.ti ?? 1),
    sgc: (derivation.sgc as string | undefined) ?? '000000',
  });
}

// ======================================================================================================

describe('VirtualMeter: construction and state', () => {
  it('starts from its options with firmware defaults (KEN 255, 20 TIDs) and empty registers', () => {
    const meter = meterFor(EA07_PROFILE);
    expect(meter.pan?.pan).toBe('600727000000000009');
    expect(meter.ea).toBe('EA07');
    expect(meter.ken).toBe(255);
    expect(meter.historySize).toBe(20);
    expect(meter.keyRevision).toBe(1);
    expect(meter.keyType).toBe(2);
    expect(meter.tariffIndex).toBe(1);
    expect(meter.supplyGroup).toBe('123456');
    expect(meter.baseDate).toBe(1993);
    expect(meter.expectedBaseDate).toBeUndefined();
    expect(meter.tidHistory()).toEqual([]);
    expect(meter.stagedKeyChangeSections()).toEqual([]);
    expect(meter.maxPowerLimit).toBeUndefined();
    expect(meter.tampered).toBe(false);
    for (const resource of RESOURCES) {
      expect(meter.credit(resource)).toBe(0);
      expect(meter.currencyCredit(resource)).toBe(0n);
    }
    expect(meter.decoderKeyKcv()).toBe(decoderKeyCheckValue(keyFor(EA07_PROFILE), 'EA07'));
  });

  it('refuses invalid options with StsError and no key material in the message', () => {
    const decoderKey = keyFor(EA07_PROFILE);
    const base: VirtualMeterOptions = {
      decoderKey,
      ea: 'EA07',
      baseDate: 1993,
      krn: 1,
      keyType: 2,
      ti: 1,
      sgc: '123456',
    };
    const invalid: Array<Partial<VirtualMeterOptions>> = [
      { ea: 'EA11' }, // 8-byte key for a 128-bit algorithm
      { krn: 0 },
      { ti: 100 },
      { sgc: '12345' },
      { ken: 256 },
      { baseDate: 2000 as BaseDate },
      { historySize: 0 },
      { historySize: 2.5 },
    ];
    for (const options of invalid) {
      let thrown: unknown;
      try {
        new VirtualMeter({ ...base, ...options });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(StsError);
      expectNoKeyMaterial({ message: (thrown as StsError).message, detail: (thrown as StsError).detail });
    }
  });

  it('never shows its key when printed or serialised', () => {
    const meter = meterFor(EA11_PROFILE);
    expectNoKeyMaterial(meter);
    expectNoKeyMaterial(String(meter));
  });
});

describe('VirtualMeter: credit tokens', () => {
  it('accepts the CTSA01 step 1 token once and rejects the replay as used', () => {
    const meter = meterFor(EA07_PROFILE);
    const token = '23716100501183194197';
    const issued = issuerFor(EA07_PROFILE).token({
      type: 'transfer-credit',
      resource: 'electricity',
      units: 1,
      tid: TID,
      rnd: 5,
    });
    expect(issued).toBe(token);
    expect(enter(meter, token)).toEqual({
      accepted: true,
      outcome: 'credit',
      display: 'Credit added: 0.1 kWh',
      tid: TID,
      resource: 'electricity',
      units: 1,
    });
    expect(enter(meter, token)).toEqual({
      accepted: false,
      outcome: 'used',
      display: 'Rejected: token already used',
      tid: TID,
    });
    expect(meter.credit('electricity')).toBe(1);
    expect(meter.tidHistory()).toEqual([TID]);
  });

  it('accepts a token typed in groups of four', () => {
    const meter = meterFor(EA07_PROFILE);
    const token = issuerFor(EA07_PROFILE).credit(TID, 5);
    expect(enter(meter, groupTokenDigits(token))).toMatchObject({ accepted: true, units: 5 });
    expect(enter(meter, groupTokenDigits(token, '-'))).toMatchObject({ accepted: false, outcome: 'used' });
  });

  it('adds credit exactly per resource, rounding up as the amount field does', () => {
    const meter = meterFor(EA11_PROFILE);
    const issuer = issuerFor(EA11_PROFILE);
    const sales: Array<[Resource, number]> = [
      ['electricity', 1],
      ['electricity', 256],
      ['water', 20000],
      ['gas', 180223], // encodes as 180224
      ['time', 7],
      ['electricity', 16384],
    ];
    const expected: Record<Resource, number> = { electricity: 0, water: 0, gas: 0, time: 0 };
    sales.forEach(([resource, units], index) => {
      const encoded = encodeTransferAmount(units).encodedUnits;
      const response = enter(meter, issuer.credit(TID + index, units, resource));
      expect(response).toMatchObject({ accepted: true, outcome: 'credit', resource, units: encoded });
      expected[resource] += encoded;
    });
    for (const resource of RESOURCES) expect(meter.credit(resource)).toBe(expected[resource]);
    expect(meter.credit('gas')).toBe(180224);
  });

  it('keeps currency registers in 10^-5 units, reported as exact decimals', () => {
    const meter = meterFor(EA07_PROFILE);
    const issuer = issuerFor(EA07_PROFILE);
    const hundred = issuer.token({
      type: 'currency-credit',
      resource: 'electricity',
      tid: TID,
      amount: 10_000_000n,
    });
    expect(enter(meter, hundred)).toEqual({
      accepted: true,
      outcome: 'currency-credit',
      display: 'Credit added: 100.00624',
      tid: TID,
      resource: 'electricity',
      amount: '100.00624',
    });
    const refund = issuer.token({
      type: 'currency-credit',
      resource: 'electricity',
      tid: TID + 1,
      amount: -5n,
    });
    expect(enter(meter, refund)).toMatchObject({ accepted: true, amount: '-0.00005' });
    expect(meter.currencyCredit('electricity')).toBe(encodeCurrencyAmount(10_000_000n).encodedAmount - 5n);
    expect(enter(meter, hundred)).toMatchObject({ accepted: false, outcome: 'used' });
    expect(meter.credit('electricity')).toBe(0);
  });
});

describe('VirtualMeter: tokens it cannot read', () => {
  it('rejects tokens for another meter, under another key or mistyped as reject-crc', () => {
    const meter = meterFor(EA07_PROFILE);
    const good = issuerFor(EA07_PROFILE).credit(TID, 10);
    const otherMeter = issuerFor({ ...EA07_PROFILE, pan: OTHER_PAN }).credit(TID, 10);
    const otherRevision = issuerFor({ ...EA07_PROFILE, krn: 2 }).credit(TID, 10);
    const otherAlgorithm = issuerFor(EA11_PROFILE).credit(TID, 10);
    const lastDigit = Number(good.at(-1));
    const typo = good.slice(0, -1) + String((lastDigit + 1) % 10);
    for (const token of [otherMeter, otherRevision, otherAlgorithm, typo]) {
      expect(enter(meter, token)).toEqual({
        accepted: false,
        outcome: 'reject-crc',
        display: 'Rejected: token not for this meter',
      });
    }
    expect(meter.tidHistory()).toEqual([]);
    expect(meter.credit('electricity')).toBe(0);
    expect(enter(meter, good)).toMatchObject({ accepted: true });
  });

  it('rejects garbage, wrong lengths and values above 2^66 - 1 as invalid-token', () => {
    const meter = meterFor(EA07_PROFILE);
    const inputs = [
      '',
      'garbage',
      '2371610050118319419x',
      '2371610050118319419', // 19 digits
      '237161005011831941970', // 21 digits
      (2n ** 66n).toString(), // 73786976294838206464
      '99999999999999999999',
    ];
    for (const input of inputs) {
      expect(enter(meter, input)).toEqual({
        accepted: false,
        outcome: 'invalid-token',
        display: 'Rejected: not a valid token',
      });
    }
    expect(meter.tidHistory()).toEqual([]);
  });

  it('rejects token types it does not implement as unsupported', () => {
    const meter = meterFor(EA07_PROFILE);
    const issuer = issuerFor(EA07_PROFILE);
    expect(enter(meter, issuer.rawClass2(10, TID * 65536))).toMatchObject({
      accepted: false,
      outcome: 'unsupported',
    });
  });
});

describe('VirtualMeter: TID history', () => {
  it('honours the default size of 20: once full, older TIDs are old and the oldest is evicted', () => {
    const meter = meterFor(EA07_PROFILE);
    const issuer = issuerFor(EA07_PROFILE);
    const tids = Array.from({ length: 20 }, (_, i) => TID + 10 * i);
    for (const tid of tids) expect(enter(meter, issuer.credit(tid, 1))).toMatchObject({ accepted: true });
    expect(meter.tidHistory()).toEqual(tids);

    expect(enter(meter, issuer.credit(TID - 1, 1))).toMatchObject({
      accepted: false,
      outcome: 'old',
      tid: TID - 1,
    });
    // Not in the list and newer than its minimum: accepted, and the minimum is evicted.
    expect(enter(meter, issuer.credit(TID + 5, 1))).toMatchObject({ accepted: true });
    expect(meter.tidHistory()).toHaveLength(20);
    expect(meter.tidHistory()[0]).toBe(TID + 5);
    expect(enter(meter, issuer.credit(TID, 1))).toMatchObject({ accepted: false, outcome: 'old' });
    expect(enter(meter, issuer.credit(TID + 10, 1))).toMatchObject({ accepted: false, outcome: 'used' });
    expect(meter.credit('electricity')).toBe(21);
  });

  it('honours a custom history size and accepts out-of-order TIDs until the list is full', () => {
    const meter = meterFor(EA07_PROFILE, { historySize: 3 });
    const issuer = issuerFor(EA07_PROFILE);
    const enterTid = (tid: number) => enter(meter, issuer.credit(tid, 1));
    expect(enterTid(TID + 100)).toMatchObject({ accepted: true });
    expect(enterTid(TID + 50)).toMatchObject({ accepted: true }); // older, but the list is not full
    expect(enterTid(TID + 300)).toMatchObject({ accepted: true });
    expect(meter.tidHistory()).toEqual([TID + 50, TID + 100, TID + 300]);
    expect(enterTid(TID + 10)).toMatchObject({ outcome: 'old' });
    expect(enterTid(TID + 200)).toMatchObject({ accepted: true });
    expect(meter.tidHistory()).toEqual([TID + 100, TID + 200, TID + 300]);
    expect(enterTid(TID + 50)).toMatchObject({ outcome: 'old' });
  });

  it('shares one history between credit and management tokens', () => {
    const meter = meterFor(EA07_PROFILE);
    const issuer = issuerFor(EA07_PROFILE);
    const limit = issuer.token({ type: 'set-max-power-limit', watts: 5000, tid: TID, rnd: 3 });
    expect(enter(meter, limit)).toMatchObject({ accepted: true, outcome: 'max-power-limit-set' });
    expect(enter(meter, issuer.credit(TID, 10))).toMatchObject({ accepted: false, outcome: 'used' });
    const clear = issuer.token({ type: 'clear-credit', register: 0, tid: TID, rnd: 3 });
    expect(enter(meter, clear)).toMatchObject({ accepted: false, outcome: 'used' });
    expect(meter.tidHistory()).toEqual([TID]);
  });
});

describe('VirtualMeter: key expiry', () => {
  it('rejects TID 5916090 on a KEN 85 meter as key-expired (CTSA16)', () => {
    const meter = meterFor(EA07_PROFILE, { ken: 85 });
    const issuer = issuerFor(EA07_PROFILE);
    expect(enter(meter, issuer.credit(5916090, 10))).toEqual({
      accepted: false,
      outcome: 'key-expired',
      display: 'Rejected: meter key expired',
      tid: 5916090,
    });
    const limit = issuer.token({ type: 'set-max-power-limit', watts: 100, tid: 5916090, rnd: 1 });
    expect(enter(meter, limit)).toMatchObject({ accepted: false, outcome: 'key-expired' });
    // The boundary: TID >> 16 = 85 is still valid, 86 is not.
    expect(enter(meter, issuer.credit(85 * 65536 + 65535, 1))).toMatchObject({ accepted: true });
    expect(enter(meter, issuer.credit(86 * 65536, 1))).toMatchObject({ outcome: 'key-expired' });
    expect(meter.tidHistory()).toEqual([85 * 65536 + 65535]);
    expect(meter.maxPowerLimit).toBeUndefined();
  });

  it('never expires with KEN 255', () => {
    const meter = meterFor(EA07_PROFILE);
    expect(enter(meter, issuerFor(EA07_PROFILE).credit(0xffffff, 1))).toMatchObject({ accepted: true });
  });
});

describe('VirtualMeter: management tokens', () => {
  const issuer = issuerFor(EA07_PROFILE);
  const manage = (payload: TokenPayload) => issuer.token(payload);

  it('sets the power limit, phase unbalance limit, tariff rate and water meter factor', () => {
    const meter = meterFor(EA07_PROFILE);
    expect(enter(meter, manage({ type: 'set-max-power-limit', watts: 180223, tid: TID, rnd: 1 }))).toEqual({
      accepted: true,
      outcome: 'max-power-limit-set',
      display: 'Power limit: 180224 W',
      tid: TID,
      watts: 180224,
    });
    expect(meter.maxPowerLimit).toBe(180224);
    const unbalance = manage({ type: 'set-max-phase-unbalance-limit', watts: 20000, tid: TID + 1, rnd: 1 });
    expect(enter(meter, unbalance)).toMatchObject({ outcome: 'phase-unbalance-limit-set', watts: 20004 });
    expect(meter.maxPhaseUnbalanceLimit).toBe(20004); // 0x416A: the amount field rounds up
    const rate = manage({ type: 'set-tariff-rate', rate: 0xffff, tid: TID + 2, rnd: 1 });
    expect(enter(meter, rate)).toMatchObject({ accepted: true, outcome: 'tariff-rate-set', rate: 0xffff });
    expect(meter.tariffRate).toBe(0xffff);
    const factor = manage({ type: 'set-water-meter-factor', factor: 1234, tid: TID + 3, rnd: 1 });
    expect(enter(meter, factor)).toMatchObject({ outcome: 'water-meter-factor-set', factor: 1234 });
    expect(meter.waterMeterFactor).toBe(1234);
    expect(meter.tidHistory()).toEqual([TID, TID + 1, TID + 2, TID + 3]);
  });

  it('clears the tamper flag only with pad 0; a refused token does not use up its TID', () => {
    const meter = meterFor(EA07_PROFILE);
    meter.setTamper();
    expect(meter.tampered).toBe(true);
    const badPad = manage({ type: 'clear-tamper', pad: 1, tid: TID, rnd: 2 });
    expect(enter(meter, badPad)).toMatchObject({ accepted: false, outcome: 'invalid-pad', tid: TID });
    expect(meter.tampered).toBe(true);
    expect(meter.tidHistory()).toEqual([]);
    const clear = manage({ type: 'clear-tamper', pad: 0, tid: TID, rnd: 2 });
    expect(enter(meter, clear)).toEqual({
      accepted: true,
      outcome: 'tamper-cleared',
      display: 'Tamper cleared',
      tid: TID,
    });
    expect(meter.tampered).toBe(false);
    expect(enter(meter, clear)).toMatchObject({ accepted: false, outcome: 'used' });
  });

  describe('clear credit', () => {
    /** A meter with something in every register; returns the next free TID. */
    function fundedMeter(): { meter: VirtualMeter; nextTid: () => number } {
      const meter = meterFor(EA07_PROFILE);
      let tid = TID;
      RESOURCES.forEach((resource, index) => {
        enter(meter, issuer.credit(tid++, 100 + index, resource));
        const amount = BigInt(1000 + index);
        enter(meter, manage({ type: 'currency-credit', resource, tid: tid++, amount }));
      });
      return { meter, nextTid: () => tid++ };
    }
    const clearToken = (register: number, tid: number) =>
      manage({ type: 'clear-credit', register, tid, rnd: 7 });
    const snapshot = (meter: VirtualMeter) => ({
      credit: RESOURCES.map((resource) => meter.credit(resource)),
      currency: RESOURCES.map((resource) => meter.currencyCredit(resource)),
    });

    it.each([
      [0, 'electricity', { credit: [0, 101, 102, 103], currency: [1000n, 1001n, 1002n, 1003n] }],
      [1, 'water', { credit: [100, 0, 102, 103], currency: [1000n, 1001n, 1002n, 1003n] }],
      [2, 'gas', { credit: [100, 101, 0, 103], currency: [1000n, 1001n, 1002n, 1003n] }],
      [3, 'time', { credit: [100, 101, 102, 0], currency: [1000n, 1001n, 1002n, 1003n] }],
      [4, 'electricity-currency', { credit: [100, 101, 102, 103], currency: [0n, 1001n, 1002n, 1003n] }],
      [5, 'water-currency', { credit: [100, 101, 102, 103], currency: [1000n, 0n, 1002n, 1003n] }],
      [6, 'gas-currency', { credit: [100, 101, 102, 103], currency: [1000n, 1001n, 0n, 1003n] }],
      [7, 'time-currency', { credit: [100, 101, 102, 103], currency: [1000n, 1001n, 1002n, 0n] }],
      [0xffff, 'all', { credit: [0, 0, 0, 0], currency: [0n, 0n, 0n, 0n] }],
    ])('register %i clears %s only', (register, registerName, after) => {
      const { meter, nextTid } = fundedMeter();
      const tid = nextTid();
      expect(enter(meter, clearToken(register, tid))).toEqual({
        accepted: true,
        outcome: 'credit-cleared',
        display: `Credit cleared: ${registerName}`,
        tid,
        register,
        registerName,
      });
      expect(snapshot(meter)).toEqual(after);
    });

    it('rejects an unknown register and changes nothing', () => {
      const { meter, nextTid } = fundedMeter();
      const before = snapshot(meter);
      for (const register of [8, 9, 0xfffe]) {
        const tid = nextTid();
        expect(enter(meter, clearToken(register, tid))).toEqual({
          accepted: false,
          outcome: 'invalid-register',
          display: 'Rejected: unknown register',
          tid,
        });
      }
      expect(snapshot(meter)).toEqual(before);
      expect(meter.tidHistory()).toHaveLength(8);
    });
  });

  it('accepts class 1 test tokens without a key and without touching the TID history', () => {
    for (const profile of [EA07_PROFILE, EA11_PROFILE]) {
      const meter = meterFor(profile);
      enter(meter, issuerFor(profile).credit(TID, 1));
      const test = encodeToken(
        { type: 'initiate-test', manufacturerCodeDigits: 4, control: 4, manufacturerCode: 1234 },
        null,
      ).digits;
      expect(enter(meter, test)).toEqual({
        accepted: true,
        outcome: 'test-display',
        display: 'Test/display',
        control: 4,
        manufacturerCode: 1234,
      });
      // Test tokens carry no TID, so entering one again is fine.
      expect(enter(meter, test)).toMatchObject({ accepted: true, outcome: 'test-display' });
      expect(meter.tidHistory()).toEqual([TID]);
    }
  });
});

describe('VirtualMeter: key change', () => {
  const NEW_EA07 = { ...EA07_PROFILE, krn: 2 };
  const NEW_EA11 = { ...EA11_PROFILE, krn: 2, sgc: '123461' };

  it.each([
    ['1st, 2nd', [0, 1]],
    ['2nd, 1st', [1, 0]],
  ])('changes a 64-bit key with the pair in order %s', (_label, order) => {
    const meter = meterFor(EA07_PROFILE);
    const oldIssuer = issuerFor(EA07_PROFILE);
    const newIssuer = issuerFor(NEW_EA07);
    const kcts = oldIssuer.keyChange(keyChangeTo(NEW_EA07, { ken: 200, ti: 7 }));
    const [first, second] = order.map((index) => kcts[index]!);
    expect(enter(meter, first!)).toEqual({
      accepted: true,
      outcome: 'key-change-staged',
      display: `Key section ${order[0]! + 1} of 2 stored`,
      section: order[0]! + 1,
      missingSections: [order[1]! + 1],
    });
    expect(meter.keyRevision).toBe(1);
    expect(enter(meter, second!)).toEqual({
      accepted: true,
      outcome: 'key-changed',
      display: 'Key changed: KRN 2',
      keyRevision: 2,
      keyType: 2,
      tariffIndex: 7,
      ken: 200,
      supplyGroup: '123456',
      rollover: false,
      baseDate: 1993,
    });
    expect(meter.decoderKeyKcv()).toBe(decoderKeyCheckValue(keyFor(NEW_EA07), 'EA07'));
    expect(meter.stagedKeyChangeSections()).toEqual([]);
    expect(enter(meter, oldIssuer.credit(TID, 5))).toMatchObject({ accepted: false, outcome: 'reject-crc' });
    expect(enter(meter, newIssuer.credit(TID, 5))).toMatchObject({ accepted: true, units: 5 });
  });

  it('changes a 128-bit key and the SGC with the 4 sections in shuffled order', () => {
    const meter = meterFor(EA11_PROFILE);
    const oldIssuer = issuerFor(EA11_PROFILE);
    const kcts = oldIssuer.keyChange(keyChangeTo(NEW_EA11));
    const responses = enterAll(meter, [kcts[2]!, kcts[0]!, kcts[3]!, kcts[1]!]);
    expect(responses.slice(0, 3)).toEqual([
      expect.objectContaining({ outcome: 'key-change-staged', section: 3, missingSections: [1, 2, 4] }),
      expect.objectContaining({ outcome: 'key-change-staged', section: 1, missingSections: [2, 4] }),
      expect.objectContaining({ outcome: 'key-change-staged', section: 4, missingSections: [2] }),
    ]);
    expect(responses[3]).toMatchObject({
      accepted: true,
      outcome: 'key-changed',
      keyRevision: 2,
      supplyGroup: '123461',
    });
    expect(meter.supplyGroup).toBe('123461');
    expect(meter.decoderKeyKcv()).toBe(decoderKeyCheckValue(keyFor(NEW_EA11), 'EA11'));
    expect(enter(meter, oldIssuer.credit(TID, 5))).toMatchObject({ outcome: 'reject-crc' });
    expect(enter(meter, issuerFor(NEW_EA11).credit(TID, 5))).toMatchObject({ accepted: true });
  });

  it('applies the conformance key change sets (entered last section first)', () => {
    const sets = vectorsOf('keychange_token');
    expect(sets.length).toBeGreaterThanOrEqual(5);
    for (const vector of sets) {
      const { inputs, expected } = vector;
      const ea = inputs.encryption_algorithm as EncryptionAlgorithm;
      const current = inputs.current_decoder_key_derivation as Record<string, unknown>;
      const meter = fixtureMeter(
        expected.intermediate_current_decoder_key_hex_msb_first!,
        ea,
        current,
        undefined,
      );
      const tokens =
        ea === 'EA11'
          ? [1, 2, 3, 4].map((n) => expected[`set${n}${['st', 'nd', 'rd', 'th'][n - 1]}_section_token`]!)
          : [expected.set1st_section_token_class2_sub3!, expected.set2nd_section_token_class2_sub4!];
      const responses = enterAll(meter, [...tokens].reverse());
      expect(responses.at(-1), vector.id).toMatchObject({
        accepted: true,
        outcome: 'key-changed',
        keyRevision: inputs.krn_new,
        keyType: inputs.key_type_new,
        tariffIndex: Number(inputs.ti_new),
        ken: ((inputs.kenho as number) << 4) | (inputs.kenlo as number),
        rollover: inputs.ro === 1,
        supplyGroup: ea === 'EA11' ? inputs.sgc_for_3rd_section : current.sgc,
      });
      const newKey = remember(SecretKey.fromHex(expected.intermediate_new_decoder_key_hex_msb_first!, 'key'));
      expect(meter.decoderKeyKcv(), vector.id).toBe(decoderKeyCheckValue(newKey, ea));
    }
  });

  it('keeps the TID history on a key change with RO = 0', () => {
    const meter = meterFor(EA07_PROFILE);
    enter(meter, issuerFor(EA07_PROFILE).credit(TID, 1));
    meter.expectBaseDate(2014);
    enterAll(meter, issuerFor(EA07_PROFILE).keyChange(keyChangeTo(NEW_EA07)));
    expect(meter.keyRevision).toBe(2);
    expect(meter.tidHistory()).toEqual([TID]);
    expect(meter.baseDate).toBe(1993);
    expect(meter.expectedBaseDate).toBe(2014); // still waiting for a roll-over key change
    expect(enter(meter, issuerFor(NEW_EA07).credit(TID, 1))).toMatchObject({ outcome: 'used' });
  });

  it('rolls over to a new base date with RO = 1: history cleared, an old TID accepted again', () => {
    const meter = meterFor(EA11_PROFILE);
    const oldIssuer = issuerFor(EA11_PROFILE);
    const lastMinute = 0xffffff; // 2024-11-24 20:15 on base date 1993
    expect(enter(meter, oldIssuer.credit(lastMinute, 10))).toMatchObject({ accepted: true });

    const rolled = { ...EA11_PROFILE, krn: 2, baseDate: 2014 as const }; // DKGA04 keys depend on the base date
    meter.expectBaseDate(2014);
    const responses = enterAll(meter, oldIssuer.keyChange(keyChangeTo(rolled, { rollover: true })));
    expect(responses.at(-1)).toMatchObject({ outcome: 'key-changed', rollover: true, baseDate: 2014 });
    expect(meter.baseDate).toBe(2014);
    expect(meter.expectedBaseDate).toBeUndefined();
    expect(meter.tidHistory()).toEqual([]);

    const newIssuer = issuerFor(rolled);
    const afterRollover = tidFromWallClock({ year: 2024, month: 11, day: 25, hour: 8, minute: 0 }, 2014);
    expect(enter(meter, newIssuer.credit(afterRollover, 10))).toMatchObject({ accepted: true });
    // The same TID value that was used under the old base date is fresh again.
    expect(enter(meter, newIssuer.credit(lastMinute, 10))).toMatchObject({ accepted: true, tid: lastMinute });
    expect(enter(meter, newIssuer.credit(lastMinute, 10))).toMatchObject({ outcome: 'used' });
    expect(meter.credit('electricity')).toBe(30);
  });

  it('clears the history on RO = 1 without a new base date when none was announced', () => {
    const meter = meterFor(EA07_PROFILE);
    enter(meter, issuerFor(EA07_PROFILE).credit(TID, 1));
    enterAll(meter, issuerFor(EA07_PROFILE).keyChange(keyChangeTo(NEW_EA07, { rollover: true })));
    expect(meter.tidHistory()).toEqual([]);
    expect(meter.baseDate).toBe(1993);
  });

  it('refuses to announce a base date that is not later', () => {
    const meter = meterFor(EA07_PROFILE, { baseDate: 2014 });
    expect(() => meter.expectBaseDate(2014)).toThrow(StsError);
    expect(() => meter.expectBaseDate(1993)).toThrow(StsError);
    expect(() => meter.expectBaseDate(2000 as BaseDate)).toThrow(StsError);
    meter.expectBaseDate(2035);
    expect(meter.expectedBaseDate).toBe(2035);
  });

  it('changes nothing while a set is incomplete', () => {
    const ea07 = meterFor(EA07_PROFILE);
    const [first] = issuerFor(EA07_PROFILE).keyChange(keyChangeTo(NEW_EA07));
    enter(ea07, first!);
    expect(ea07.stagedKeyChangeSections()).toEqual([1]);

    const ea11 = meterFor(EA11_PROFILE);
    const kcts = issuerFor(EA11_PROFILE).keyChange(keyChangeTo(NEW_EA11));
    enterAll(ea11, [kcts[0]!, kcts[2]!, kcts[3]!]);
    expect(ea11.stagedKeyChangeSections()).toEqual([1, 3, 4]);

    for (const [meter, profile, next] of [
      [ea07, EA07_PROFILE, NEW_EA07],
      [ea11, EA11_PROFILE, NEW_EA11],
    ] as const) {
      expect(meter.keyRevision).toBe(1);
      expect(meter.supplyGroup).toBe(profile.sgc);
      expect(meter.decoderKeyKcv()).toBe(decoderKeyCheckValue(keyFor(profile), profile.ea));
      expect(enter(meter, issuerFor(next).credit(TID, 1))).toMatchObject({ outcome: 'reject-crc' });
      expect(enter(meter, issuerFor(profile).credit(TID, 1))).toMatchObject({ accepted: true });
    }
  });

  it('lets a new 1st section replace a staged one', () => {
    const meter = meterFor(EA07_PROFILE);
    const issuer = issuerFor(EA07_PROFILE);
    const third = { ...EA07_PROFILE, krn: 3 };
    const [staleFirst] = issuer.keyChange(keyChangeTo(NEW_EA07));
    const [first, second] = issuer.keyChange(keyChangeTo(third));
    enterAll(meter, [staleFirst!, first!]);
    expect(enter(meter, second!)).toMatchObject({ outcome: 'key-changed', keyRevision: 3 });
    expect(meter.decoderKeyKcv()).toBe(decoderKeyCheckValue(keyFor(third), 'EA07'));
  });

  it('refuses a change to KT 0 unless the current key is KT 0, and discards the set', () => {
    const meter = meterFor(EA07_PROFILE);
    const issuer = issuerFor(EA07_PROFILE);
    const initialisation = { ...EA07_PROFILE, keyType: 0 as const, krn: 2 };
    const [first, second] = issuer.keyChange(keyChangeTo(initialisation));
    expect(enter(meter, first!)).toMatchObject({ accepted: true, outcome: 'key-change-staged' });
    expect(enter(meter, second!)).toEqual({
      accepted: false,
      outcome: 'key-type-refused',
      display: 'Rejected: key type change refused',
    });
    expect(meter.keyType).toBe(2);
    expect(meter.keyRevision).toBe(1);
    expect(meter.stagedKeyChangeSections()).toEqual([]);
    expect(meter.decoderKeyKcv()).toBe(decoderKeyCheckValue(keyFor(EA07_PROFILE), 'EA07'));
    expect(enter(meter, issuer.credit(TID, 1))).toMatchObject({ accepted: true });

    // From a KT 0 key, another KT 0 key is fine.
    const kt0 = meterFor(initialisation);
    const next = { ...initialisation, krn: 3 };
    const responses = enterAll(kt0, issuerFor(initialisation).keyChange(keyChangeTo(next)));
    expect(responses.at(-1)).toMatchObject({ outcome: 'key-changed', keyType: 0, keyRevision: 3 });
  });

  it('rejects sections a 64-bit-key meter has no use for, and the 3KCT flag', () => {
    const meter = meterFor(EA07_PROFILE);
    const issuer = issuerFor(EA07_PROFILE);
    const third = issuer.token({ type: 'key-change-3', sgcLow: 0x241, keyWord: 0x12345678 });
    expect(enter(meter, third)).toMatchObject({ accepted: false, outcome: 'unsupported' });
    const [flagged] = issuer.keyChange(keyChangeTo(NEW_EA07, { reserved: 1 }));
    expect(enter(meter, flagged!)).toMatchObject({ accepted: false, outcome: 'unsupported' });
    expect(meter.stagedKeyChangeSections()).toEqual([]);
  });

  it('rejects a complete set with an out-of-range KRN, TI or SGC', () => {
    const ea07 = meterFor(EA07_PROFILE);
    const issuer = issuerFor(EA07_PROFILE);
    const [, second] = issuer.keyChange(keyChangeTo(NEW_EA07));
    // 1st section: KENHO 15, KRN 0, RO 0, Res 0, KT 2, key word 0x01020304.
    const krnZero = issuer.rawClass2(3, 15 * 2 ** 40 + 0 * 2 ** 36 + 2 * 2 ** 32 + 0x01020304);
    expect(enterAll(ea07, [krnZero, second!]).at(-1)).toMatchObject({ outcome: 'invalid-key-change' });
    const [first] = issuer.keyChange(keyChangeTo(NEW_EA07));
    const tiTooLarge = issuer.rawClass2(4, 15 * 2 ** 40 + 100 * 2 ** 32 + 0x05060708);
    expect(enterAll(ea07, [first!, tiTooLarge]).at(-1)).toMatchObject({ outcome: 'invalid-key-change' });
    expect(ea07.keyRevision).toBe(1);
    expect(ea07.tariffIndex).toBe(1);

    const ea11 = meterFor(EA11_PROFILE);
    const ea11Issuer = issuerFor(EA11_PROFILE);
    const payloads = keyChangePayloads(keyChangeTo(NEW_EA11));
    const fourth = payloads[3]!;
    if (fourth.type !== 'key-change-4') throw new Error('expected the 4th section last');
    const sgcTooLarge = [...payloads.slice(0, 3), { ...fourth, sgcHigh: 0xfff }];
    const responses = enterAll(
      ea11,
      sgcTooLarge.map((payload) => ea11Issuer.token(payload)),
    );
    expect(responses.at(-1)).toEqual({
      accepted: false,
      outcome: 'invalid-key-change',
      display: 'Rejected: invalid key change',
    });
    expect(ea11.supplyGroup).toBe('123457');
    expect(ea11.keyRevision).toBe(1);
    expect(ea11.stagedKeyChangeSections()).toEqual([]);
  });

  it('takes the KEN from the set and enforces it afterwards', () => {
    const meter = meterFor(EA07_PROFILE);
    enterAll(meter, issuerFor(EA07_PROFILE).keyChange(keyChangeTo(NEW_EA07, { ken: 85 })));
    expect(meter.ken).toBe(85);
    expect(enter(meter, issuerFor(NEW_EA07).credit(5916090, 1))).toMatchObject({ outcome: 'key-expired' });
  });
});

describe('VirtualMeter: conformance tokens', () => {
  it('accepts every credit and management vector once on a fresh meter and rejects its replay', () => {
    const tokens = [...vectorsOf('credit_token'), ...vectorsOf('mgmt_token')];
    expect(tokens.length).toBeGreaterThan(60);
    for (const vector of tokens) {
      const { inputs, expected } = vector;
      const meter = fixtureMeter(
        expected.intermediate_decoder_key_hex_msb_first!,
        inputs.encryption_algorithm as EncryptionAlgorithm,
        inputs.decoder_key_derivation ?? {},
        inputs.base_date,
      );
      const tid = inputs.tid_minutes as number;
      const subclass = inputs.token_subclass as number;
      const response = enter(meter, expected.token!);
      if (inputs.token_class === 0) {
        const units = decodeTransferAmount(
          Number.parseInt(expected.intermediate_transfer_amount_16bit_hex!, 16),
        );
        expect(response, vector.id).toMatchObject({
          outcome: 'credit',
          tid,
          resource: RESOURCES[subclass],
          units,
        });
        expect(meter.credit(RESOURCES[subclass]!)).toBe(units);
      } else {
        const field = Number.parseInt(inputs.encoded_16bit_field_hex as string, 16);
        const effects: Record<number, Record<string, unknown>> = {
          0: { outcome: 'max-power-limit-set', watts: decodeTransferAmount(field) },
          1: { outcome: 'credit-cleared', register: field },
          5: { outcome: 'tamper-cleared' },
          6: { outcome: 'phase-unbalance-limit-set', watts: decodeTransferAmount(field) },
        };
        expect(response, vector.id).toMatchObject({ accepted: true, tid, ...effects[subclass] });
      }
      expect(enter(meter, expected.token!), vector.id).toMatchObject({ accepted: false, outcome: 'used' });
    }
  });

  it('accepts every class 1 vector on any meter', () => {
    const meter = meterFor(EA11_PROFILE);
    for (const vector of vectorsOf('class1_token')) {
      const token = vector.expected.recomputed_token_with_mfr_code_encoded ?? vector.expected.token!;
      expect(enter(meter, token), vector.id).toMatchObject({
        accepted: true,
        outcome: 'test-display',
        control: vector.inputs.control,
        manufacturerCode: vector.inputs.manufacturer_code,
      });
    }
    expect(meter.tidHistory()).toEqual([]);
  });
});

describe('VirtualMeter: property', () => {
  it('accepts each fresh token exactly once, rejects every replay and adds up the encoded units', () => {
    const issuer = issuerFor(EA07_PROFILE);
    const step = fc.record({
      gap: fc.integer({ min: 1, max: 5000 }),
      units: fc.integer({ min: 1, max: MAX_TRANSFER_UNITS }),
      resource: fc.constantFrom(...RESOURCES),
    });
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 25 }),
        (steps, size) => {
          const meter = meterFor(EA07_PROFILE, { historySize: size });
          const expected: Record<Resource, number> = { electricity: 0, water: 0, gas: 0, time: 0 };
          const issued: Array<{ tid: number; token: string }> = [];
          let tid = 5_000_000;
          for (const { gap, units, resource } of steps) {
            tid += gap;
            const token = issuer.credit(tid, units, resource);
            const encoded = encodeTransferAmount(units).encodedUnits;
            expect(meter.apply(token)).toMatchObject({ accepted: true, tid, resource, units: encoded });
            expect(meter.apply(token)).toMatchObject({ accepted: false, outcome: 'used' });
            expected[resource] += encoded;
            issued.push({ tid, token });
          }
          // Replays later on: still in the history → used; pushed out of a full history → old.
          issued.forEach(({ token }, index) => {
            const remembered = index >= issued.length - size;
            expect(meter.apply(token)).toMatchObject({
              accepted: false,
              outcome: remembered ? 'used' : 'old',
            });
          });
          for (const resource of RESOURCES) expect(meter.credit(resource)).toBe(expected[resource]);
          expect(meter.tidHistory()).toEqual(issued.slice(-size).map((entry) => entry.tid));
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
