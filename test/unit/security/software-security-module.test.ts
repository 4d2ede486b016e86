import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoPan, seedDemo } from '../../../src-main/engine/demo.ts';
import { loadVendingKeys } from '../../../src-main/engine/master-data.ts';
import { findMeter, meterKeyData } from '../../../src-main/engine/meters.ts';
import { ledgerAuthorityStore } from '../../../src-main/engine/open-engine.ts';
import { type Ledger, openLedger } from '../../../src-main/ledger/database.ts';
import type { MeterKeyData } from '../../../src-main/security/security-module.ts';
import { SoftwareSecurityModule } from '../../../src-main/security/software-security-module.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { createDecoderKeyDeriver } from '../../../src-shared/sts/decoder-key.ts';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';
import { createTokenCipher } from '../../../src-shared/sts/token-cipher.ts';
import { decodeToken } from '../../../src-shared/sts/token-codec.ts';
import type { TokenPayload } from '../../../src-shared/sts/token-payload.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-ssm-'));
const ledgers: Ledger[] = [];
afterAll(() => {
  for (const l of ledgers) l.close();
  rmSync(work, { recursive: true, force: true });
});
let dirs = 0;

const NOW = new Date('2026-03-10T08:00:00Z');
const VALID_UNTIL = '2026-06-30T21:59:59.000Z';
const VENDING_KEYS = ['abababababababab', 'cdcdcdcdcdcdcdcd', 'abababababababab949494949494949401234567'];
const KEK = randomBytes(32);

/** A demo outlet with a real ledger-backed authority store, as openEngine wires it. */
function outlet(authority: { limit: number; used?: number; validUntil?: string }) {
  const ledger = openLedger(join(work, `d${++dirs}`));
  ledgers.push(ledger);
  seedDemo(ledger.sqlite, KEK, NOW);
  ledger.sqlite
    .prepare(
      'UPDATE outlet SET authority_credit_limit_minor = ?, authority_used_minor = ?, authority_valid_until = ? WHERE id = 1',
    )
    .run(authority.limit, authority.used ?? 0, authority.validUntil ?? VALID_UNTIL);
  const module = new SoftwareSecurityModule(
    loadVendingKeys(ledger.sqlite, KEK),
    ledgerAuthorityStore(ledger.sqlite),
  );
  const meter = (n: number): MeterKeyData => meterKeyData(findMeter(ledger.sqlite, demoPan(n)));
  const usedInLedger = () =>
    (ledger.sqlite.prepare('SELECT authority_used_minor AS used FROM outlet').get() as { used: number }).used;
  return { ledger, module, meter, usedInLedger };
}

const credit = (tid: number, units = 100): TokenPayload => ({
  type: 'transfer-credit',
  resource: 'electricity',
  units,
  rnd: 5,
  tid,
});

function thrown(action: () => unknown): OpenVendError {
  try {
    action();
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected an OpenVendError, nothing was thrown');
}

/** Everything an error could show a person or a log. */
const errorText = (error: OpenVendError) =>
  `${error.message}\n${error.userMessage}\n${error.detail}\n${JSON.stringify(error)}\n${error.stack ?? ''}`.toLowerCase();

describe('SoftwareSecurityModule: tokens', () => {
  it('issues a credit token the meter decodes with its own independently derived decoder key', () => {
    const { module, meter } = outlet({ limit: 1_000_000 });
    for (const n of [1, 20]) {
      // meter 1: DKGA02/EA07; meter 20: DKGA04/EA11
      const key = meter(n);
      const vendingHex = key.dkga === 'DKGA02' ? VENDING_KEYS[0]! : VENDING_KEYS[2]!;
      const decoderKey = createDecoderKeyDeriver(
        key.dkga,
        SecretKey.fromHex(vendingHex, 'vending key'),
      ).derive(key);
      const token = module.issueToken(key, credit(1_000_000 + n, 250), 1000, NOW);
      expect(token.digits).toMatch(/^\d{20}$/);
      const read = decodeToken(token.digits, createTokenCipher(key.ea, decoderKey));
      expect(read.payload).toMatchObject({ type: 'transfer-credit', units: 250, tid: 1_000_000 + n });
      expect(module.decoderKeyCheckValue(key)).toMatch(/^[0-9A-F]{6}$/);
    }
  });
});

describe('SoftwareSecurityModule: vending authority', () => {
  it('credit is consumed in the ledger by exactly the value of each token; zero-value tokens consume nothing', () => {
    const { module, meter, usedInLedger } = outlet({ limit: 10_000, used: 100 });
    module.issueToken(meter(1), credit(2_000_000), 2500, NOW);
    expect(usedInLedger()).toBe(2600);
    module.issueToken(meter(1), credit(2_000_001), 0, NOW);
    expect(usedInLedger()).toBe(2600);
    expect(module.authority()).toEqual({
      creditLimitMinor: 10_000,
      usedMinor: 2600,
      validUntil: VALID_UNTIL,
    });
  });

  it('a token that reaches the limit exactly is allowed; one that would pass it is SECURITY_AUTHORITY_LIMIT and consumes nothing', () => {
    const { module, meter, usedInLedger } = outlet({ limit: 5000, used: 1000 });
    module.issueToken(meter(1), credit(2_100_000), 4000, NOW);
    expect(usedInLedger()).toBe(5000);
    const error = thrown(() => module.issueToken(meter(1), credit(2_100_001), 1, NOW));
    expect(error.code).toBe('SECURITY_AUTHORITY_LIMIT');
    expect(error.userMessage).toMatch(/credit limit/);
    expect(usedInLedger()).toBe(5000);
    // A zero-value token still passes at the limit.
    expect(module.issueToken(meter(1), credit(2_100_002), 0, NOW).digits).toMatch(/^\d{20}$/);
  });

  it('a single token bigger than the whole limit is refused', () => {
    const { module, meter, usedInLedger } = outlet({ limit: 5000 });
    expect(thrown(() => module.issueToken(meter(1), credit(2_200_000), 5001, NOW)).code).toBe(
      'SECURITY_AUTHORITY_LIMIT',
    );
    expect(usedInLedger()).toBe(0);
  });

  it('after valid_until every token (credit or not) and key change is SECURITY_AUTHORITY_EXPIRED; nothing is consumed', () => {
    const { module, meter, usedInLedger } = outlet({ limit: 1_000_000 });
    const atEnd = new Date(VALID_UNTIL);
    expect(module.issueToken(meter(1), credit(2_300_000), 100, atEnd).digits).toMatch(/^\d{20}$/); // last valid instant
    const after = new Date(atEnd.getTime() + 1);
    const error = thrown(() => module.issueToken(meter(1), credit(2_300_001), 100, after));
    expect(error.code).toBe('SECURITY_AUTHORITY_EXPIRED');
    expect(error.userMessage).toMatch(/expired/);
    expect(error.detail).toContain(VALID_UNTIL);
    expect(thrown(() => module.issueToken(meter(1), credit(2_300_002), 0, after)).code).toBe(
      'SECURITY_AUTHORITY_EXPIRED',
    );
    const current = meter(3);
    const target = { ...current, krn: 2 };
    expect(thrown(() => module.issueKeyChange(current, target, true, after)).code).toBe(
      'SECURITY_AUTHORITY_EXPIRED',
    );
    expect(usedInLedger()).toBe(100);
  });

  it('reads the authority at every token: a renewal or a limit change in the ledger applies at once', () => {
    const { ledger, module, meter } = outlet({ limit: 1000, validUntil: '2026-03-01T00:00:00.000Z' });
    expect(thrown(() => module.issueToken(meter(1), credit(2_400_000), 10, NOW)).code).toBe(
      'SECURITY_AUTHORITY_EXPIRED',
    );
    ledger.sqlite.prepare('UPDATE outlet SET authority_valid_until = ? WHERE id = 1').run(VALID_UNTIL);
    expect(module.issueToken(meter(1), credit(2_400_001), 10, NOW).digits).toMatch(/^\d{20}$/);
  });

  // Regression (found in review): `at.getTime() > Date.parse(validUntil)` is false when validUntil does not parse (NaN), so an
  // unreadable expiry never expires: the check fails open. initialiseOutlet does not validate the value. See report.
  it.each(['', 'next year', '2026-02-30T99:00:00Z'])(
    'an unreadable valid_until (%j) fails closed: SECURITY_AUTHORITY_EXPIRED',
    (validUntil) => {
      const { module, meter, usedInLedger } = outlet({ limit: 1_000_000, validUntil });
      expect(thrown(() => module.issueToken(meter(1), credit(2_500_000), 100, NOW)).code).toBe(
        'SECURITY_AUTHORITY_EXPIRED',
      );
      expect(usedInLedger()).toBe(0);
    },
  );
});

describe('SoftwareSecurityModule: vending keys', () => {
  it('no vending key for the meter’s SGC/KRN is SECURITY_NO_VENDING_KEY, and consumes no authority', () => {
    const { module, meter, usedInLedger } = outlet({ limit: 1_000_000 });
    const cases: Array<[string, MeterKeyData]> = [
      ['unknown SGC', { ...meter(1), sgc: '999999' }],
      ['unknown KRN', { ...meter(1), krn: 3 }],
      ['KRN 2 exists for DKGA02 only', { ...meter(20), krn: 2 }],
      ['other algorithm', { ...meter(1), dkga: 'DKGA04', ea: 'EA11' }],
    ];
    for (const [, key] of cases) {
      const error = thrown(() => module.issueToken(key, credit(2_600_000), 100, NOW));
      expect(error.code).toBe('SECURITY_NO_VENDING_KEY');
      expect(error.userMessage).toContain(key.sgc);
      expect(error.userMessage).toContain(`key revision ${key.krn}`);
      expect(thrown(() => module.decoderKeyCheckValue(key)).code).toBe('SECURITY_NO_VENDING_KEY');
    }
    expect(usedInLedger()).toBe(0);
  });

  it('a key change to a revision the outlet has no key for is SECURITY_NO_VENDING_KEY', () => {
    const { module, meter } = outlet({ limit: 1_000_000 });
    const current = meter(3);
    expect(module.issueKeyChange(current, { ...current, krn: 2, baseDate: 2014 }, true, NOW)).toHaveLength(2);
    expect(thrown(() => module.issueKeyChange(current, { ...current, krn: 5 }, false, NOW)).code).toBe(
      'SECURITY_NO_VENDING_KEY',
    );
  });

  it('no key material (vending or decoder key, in hex or decimal bytes) in any error it raises', () => {
    const { module, meter } = outlet({ limit: 1000, used: 1000, validUntil: VALID_UNTIL });
    const key1 = meter(1);
    const key20 = meter(20);
    const decoderKeys = [
      createDecoderKeyDeriver('DKGA02', SecretKey.fromHex(VENDING_KEYS[0]!, 'k')).derive(key1).revealHex(),
      createDecoderKeyDeriver('DKGA04', SecretKey.fromHex(VENDING_KEYS[2]!, 'k')).derive(key20).revealHex(),
    ];
    const errors = [
      thrown(() => module.issueToken(key1, credit(2_700_000), 1, NOW)), // limit
      thrown(() => module.issueToken(key20, credit(2_700_001), 1, new Date('2027-01-01T00:00:00Z'))), // expired
      thrown(() => module.issueToken({ ...key1, krn: 9 }, credit(2_700_002), 0, NOW)), // no key
      thrown(() => module.issueKeyChange(key1, { ...key1, sgc: '654321' }, false, NOW)), // no key for target
      thrown(() => module.decoderKeyCheckValue({ ...key20, sgc: '000001' })),
    ];
    const needles = [...VENDING_KEYS, ...decoderKeys, KEK.toString('hex')].flatMap((hex) => [
      hex.toLowerCase(),
      Buffer.from(hex, 'hex').slice(0, 8).join(','),
    ]);
    for (const error of errors) {
      const text = errorText(error);
      for (const needle of needles) expect(text, `${error.code} leaks ${needle}`).not.toContain(needle);
    }
  });
});
