import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../src-main/engine/audit-log.ts';
import {
  addCustomer,
  addMeter,
  addSupplyGroup,
  addTariff,
  addTariffVersion,
  initialiseOutlet,
  loadVendingKeys,
  type MeterInput,
  type OutletConfig,
  type SupplyGroupInput,
  type TariffVersionInput,
  type UtilityConfig,
} from '../../../src-main/engine/master-data.ts';
import { type Ledger, openLedger } from '../../../src-main/ledger/database.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';
import { vendingKeyCheckValue } from '../../../src-shared/sts/key-check-value.ts';
import { luhnCheckDigit } from '../../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-master-'));
const ledgers: Ledger[] = [];
afterAll(() => {
  for (const l of ledgers) l.close();
  rmSync(work, { recursive: true, force: true });
});
let dirs = 0;
const NOW = new Date('2026-03-10T08:00:00Z');
const KEK = randomBytes(32);

function thrown(action: () => unknown): OpenVendError {
  try {
    action();
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected an OpenVendError, nothing was thrown');
}

const utility: UtilityConfig = {
  name: 'Test Utility',
  address: '1 Main Road',
  taxRef: 'VAT 1',
  currencyCode: 'ZAR',
  currencyMinorUnits: 2,
  timeZone: 'Africa/Johannesburg',
  receiptFooter: 'Thanks',
};
const outletConfig: OutletConfig = {
  code: 'OUT-9',
  name: 'Test Outlet',
  address: '2 Side Street',
  terminalId: 'T0009',
  lowFloatThresholdMinor: 1000,
  authorityCreditLimitMinor: 1_000_000,
  authorityValidUntil: '2027-01-01T00:00:00.000Z',
};
const group = (overrides: Partial<SupplyGroupInput> = {}): SupplyGroupInput => ({
  sgc: '123456',
  name: 'Group',
  keyType: 2,
  krn: 1,
  baseDate: 2014,
  dkga: 'DKGA02',
  ea: 'EA07',
  ken: 255,
  vendingKeyHex: '0123456789abcdef',
  ...overrides,
});
const flat = (overrides: Partial<TariffVersionInput> = {}): TariffVersionInput => ({
  effectiveFromLocal: '2026-01-01',
  kind: 'flat',
  blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 245_000 }],
  vatRateBp: 1500,
  pricesIncludeVat: true,
  fixedCharge: null,
  levies: [],
  fbeMonthlyUnits: 0,
  minVendMinor: 500,
  maxVendMinor: 1_000_000,
  ...overrides,
});
const ibt = (blocks: TariffVersionInput['blocks'], overrides: Partial<TariffVersionInput> = {}) =>
  flat({ kind: 'inclining-block', blocks, ...overrides });

const pan = (drn: string) => `600727${drn}${luhnCheckDigit(`600727${drn}`)}`;
const meterInput = (overrides: Partial<MeterInput> = {}): MeterInput => ({
  pan: pan('12345678901'),
  meterType: 'electricity',
  customerAccountNo: null,
  tariffCode: 'FLAT',
  sgc: '123456',
  ti: 1,
  krn: 1,
  keyType: 2,
  ea: 'EA07',
  dkga: 'DKGA02',
  baseDate: 2014,
  ken: 255,
  ...overrides,
});

const count = (sqlite: Database.Database, table: string) =>
  (sqlite.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
const TABLES = [
  'utility',
  'outlet',
  'counter',
  'supply_group',
  'tariff',
  'tariff_version',
  'customer',
  'meter',
  'audit_log',
];
const counts = (sqlite: Database.Database) => Object.fromEntries(TABLES.map((t) => [t, count(sqlite, t)]));

function emptyLedger(): Database.Database {
  const ledger = openLedger(join(work, `d${++dirs}`));
  ledgers.push(ledger);
  return ledger.sqlite;
}
function setUpLedger(): Database.Database {
  const sqlite = emptyLedger();
  initialiseOutlet(sqlite, utility, outletConfig, NOW);
  addSupplyGroup(sqlite, KEK, group(), null, NOW);
  addTariff(sqlite, { code: 'FLAT', name: 'Flat', ti: 1, resource: 'electricity' }, flat(), null, NOW);
  return sqlite;
}

describe('initialiseOutlet', () => {
  it('writes the utility, the outlet, the receipt and Z counters and an audit entry', () => {
    const sqlite = emptyLedger();
    initialiseOutlet(sqlite, utility, outletConfig, NOW);
    expect(sqlite.prepare('SELECT name, time_zone AS tz FROM utility').all()).toEqual([
      { name: 'Test Utility', tz: 'Africa/Johannesburg' },
    ]);
    expect(
      sqlite
        .prepare('SELECT id, code, float_balance_minor AS f, authority_used_minor AS used FROM outlet')
        .all(),
    ).toEqual([{ id: 1, code: 'OUT-9', f: 0, used: 0 }]);
    expect(sqlite.prepare('SELECT name, value FROM counter ORDER BY name').all()).toEqual([
      { name: 'receipt', value: 0 },
      { name: 'z_report', value: 0 },
    ]);
    expect(sqlite.prepare('SELECT action, entity_id AS id FROM audit_log').all()).toEqual([
      { action: 'outlet.initialise', id: 'OUT-9' },
    ]);
  });

  it('a second initialisation is refused and changes nothing', () => {
    const sqlite = emptyLedger();
    initialiseOutlet(sqlite, utility, outletConfig, NOW);
    const before = counts(sqlite);
    const error = thrown(() =>
      initialiseOutlet(sqlite, { ...utility, name: 'Other' }, { ...outletConfig, code: 'OUT-X' }, NOW),
    );
    expect(error.code).toBe('VEND_INVALID_REQUEST');
    expect(error.userMessage).toMatch(/already set up/);
    expect(counts(sqlite)).toEqual(before);
    expect(sqlite.prepare('SELECT code FROM outlet').get()).toEqual({ code: 'OUT-9' });
  });

  it('an unknown time zone is refused and nothing is written', () => {
    const sqlite = emptyLedger();
    expect(() =>
      initialiseOutlet(sqlite, { ...utility, timeZone: 'Mars/Olympus_Mons' }, outletConfig, NOW),
    ).toThrow();
    expect(counts(sqlite)).toEqual(Object.fromEntries(TABLES.map((t) => [t, 0])));
  });
});

describe('addSupplyGroup', () => {
  it('seals the vending key, stores its check value, and audits the KCV (not the key)', () => {
    const sqlite = setUpLedger();
    const kcv = vendingKeyCheckValue(SecretKey.fromHex('0123456789abcdef', 'k'), 'DKGA02');
    expect(sqlite.prepare('SELECT sgc, krn, dkga, vending_key_kcv AS kcv FROM supply_group').all()).toEqual([
      { sgc: '123456', krn: 1, dkga: 'DKGA02', kcv },
    ]);
    const audit = sqlite
      .prepare("SELECT details_json AS d FROM audit_log WHERE action = 'supply-group.add'")
      .get() as {
      d: string;
    };
    expect(JSON.parse(audit.d)).toEqual({ dkga: 'DKGA02', kcv });
    expect(audit.d).not.toContain('0123456789abcdef');
    expect(loadVendingKeys(sqlite, KEK).map((k) => k.key.revealHex().toLowerCase())).toEqual([
      '0123456789abcdef',
    ]);
  });

  it.each([
    ['DKGA02 with 7 bytes', { vendingKeyHex: '0123456789abcd' }],
    ['DKGA02 with 16 bytes', { vendingKeyHex: '0123456789abcdef0123456789abcdef' }],
    ['DKGA04 with 8 bytes', { dkga: 'DKGA04', ea: 'EA11', vendingKeyHex: '0123456789abcdef' }],
    [
      'DKGA04 with 16 bytes',
      { dkga: 'DKGA04', ea: 'EA11', vendingKeyHex: '00112233445566778899aabbccddeeff' },
    ],
    ['not hex', { vendingKeyHex: '0123456789abcdeg' }],
    ['empty', { vendingKeyHex: '' }],
  ] as Array<[string, Partial<SupplyGroupInput>]>)(
    'a vending key of the wrong shape (%s) is STS_INVALID_KEY and nothing is written',
    (_, overrides) => {
      const sqlite = setUpLedger();
      const before = counts(sqlite);
      const error = thrown(() => addSupplyGroup(sqlite, KEK, group({ krn: 2, ...overrides }), null, NOW));
      expect(error.code).toBe('STS_INVALID_KEY');
      if (overrides.vendingKeyHex)
        expect(`${error.userMessage} ${error.detail}`).not.toContain(overrides.vendingKeyHex);
      expect(counts(sqlite)).toEqual(before);
    },
  );

  it('accepts a DKGA04 key of 20 bytes', () => {
    const sqlite = setUpLedger();
    addSupplyGroup(
      sqlite,
      KEK,
      group({ sgc: '654321', dkga: 'DKGA04', ea: 'EA11', vendingKeyHex: 'ab'.repeat(20) }),
      null,
      NOW,
    );
    expect(count(sqlite, 'supply_group')).toBe(2);
  });

  it('a duplicate (same SGC, KRN and DKGA) is refused and nothing is written; another KRN is a new row', () => {
    const sqlite = setUpLedger();
    const before = counts(sqlite);
    expect(() =>
      addSupplyGroup(sqlite, KEK, group({ name: 'Again', vendingKeyHex: 'fedcba9876543210' }), null, NOW),
    ).toThrow(/already registered/);
    expect(counts(sqlite)).toEqual(before);
    addSupplyGroup(sqlite, KEK, group({ krn: 2, vendingKeyHex: 'fedcba9876543210' }), null, NOW);
    expect(count(sqlite, 'supply_group')).toBe(2);
  });

  it.each([
    ['SGC of 5 digits', { sgc: '12345' }, 'STS_INVALID_SGC'],
    ['unknown DKGA', { dkga: 'DKGA01' }, 'STS_INVALID_ALGORITHM'],
    ['unknown EA', { ea: 'EA99' }, 'STS_INVALID_ALGORITHM'],
  ] as Array<[string, Partial<SupplyGroupInput>, string]>)(
    'refuses %s, writing nothing',
    (_, overrides, code) => {
      const sqlite = setUpLedger();
      const before = counts(sqlite);
      const error = thrown(() => addSupplyGroup(sqlite, KEK, group({ krn: 3, ...overrides }), null, NOW));
      expect(error.code).toBe(code);
      expect(counts(sqlite)).toEqual(before);
    },
  );
});

describe('addTariff / addTariffVersion', () => {
  it('numbers versions 1, 2, … per tariff and audits each', () => {
    const sqlite = setUpLedger();
    const tariffId = (sqlite.prepare("SELECT id FROM tariff WHERE code = 'FLAT'").get() as { id: number }).id;
    addTariffVersion(sqlite, tariffId, flat({ effectiveFromLocal: '2026-07-01' }), 1, NOW);
    const other = addTariff(
      sqlite,
      { code: 'IBT', name: 'IBT', ti: 2, resource: 'electricity' },
      ibt([
        { upToUnits: 500, rateMilliMinorPerKwh: 100_000 },
        { upToUnits: null, rateMilliMinorPerKwh: 200_000 },
      ]),
      null,
      NOW,
    );
    expect(
      sqlite
        .prepare('SELECT tariff_id AS t, version, effective_from_local AS f FROM tariff_version ORDER BY id')
        .all(),
    ).toEqual([
      { t: tariffId, version: 1, f: '2026-01-01' },
      { t: tariffId, version: 2, f: '2026-07-01' },
      { t: other, version: 1, f: '2026-01-01' },
    ]);
    expect(count(sqlite, 'audit_log')).toBe(1 + 1 + 3);
    expect(verifyAuditChain(sqlite).ok).toBe(true);
  });

  it.each([
    ['no blocks', flat({ blocks: [] })],
    [
      'a flat tariff with two blocks',
      flat({
        blocks: [
          { upToUnits: 100, rateMilliMinorPerKwh: 1 },
          { upToUnits: null, rateMilliMinorPerKwh: 2 },
        ],
      }),
    ],
    ['a flat tariff whose block is closed', flat({ blocks: [{ upToUnits: 100, rateMilliMinorPerKwh: 1 }] })],
    [
      'an inclining-block tariff without an open last block',
      ibt([
        { upToUnits: 100, rateMilliMinorPerKwh: 1 },
        { upToUnits: 200, rateMilliMinorPerKwh: 2 },
      ]),
    ],
  ])('refuses %s (VEND_INVALID_TARIFF), writing nothing', (_, version) => {
    const sqlite = setUpLedger();
    const before = counts(sqlite);
    const error = thrown(() => addTariffVersion(sqlite, 1, version, null, NOW));
    expect(error.code).toBe('VEND_INVALID_TARIFF');
    expect(counts(sqlite)).toEqual(before);
    // addTariff is one transaction: the tariff row is not left behind either.
    expect(() =>
      addTariff(sqlite, { code: 'BAD', name: 'Bad', ti: 3, resource: 'electricity' }, version, null, NOW),
    ).toThrow();
    expect(counts(sqlite)).toEqual(before);
  });

  // Regression (found in review): addTariffVersion checks only the three rules above. Its own message promises "ascending
  // blocks"; pricing's validateTariff (src-shared/vending/pricing.ts) refuses the first four at sale time
  // (VEND_INVALID_TARIFF), so a bad version is accepted at setup and blocks every sale on that tariff once in
  // force; and tariffInForce compares effective_from_local as a string, so a date not written YYYY-MM-DD
  // silently takes effect on the wrong day. See the report.
  it.each([
    [
      'blocks not ascending',
      ibt([
        { upToUnits: 500, rateMilliMinorPerKwh: 1000 },
        { upToUnits: 100, rateMilliMinorPerKwh: 2000 },
        { upToUnits: null, rateMilliMinorPerKwh: 3000 },
      ]),
    ],
    ['a zero rate', flat({ blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 0 }] })],
    ['VAT above 100 %', flat({ vatRateBp: 20_000 })],
    ['minimum vend above maximum', flat({ minVendMinor: 5000, maxVendMinor: 1000 })],
    ['an effective date that is not YYYY-MM-DD', flat({ effectiveFromLocal: '1/7/2026' })],
  ])('refuses a version that cannot be priced: %s, writing nothing', (_, version) => {
    const sqlite = setUpLedger();
    const before = counts(sqlite);
    expect(() => addTariffVersion(sqlite, 1, version, null, NOW)).toThrow();
    expect(counts(sqlite)).toEqual(before);
  });

  it('a version for a tariff that does not exist is refused (foreign key), writing nothing', () => {
    const sqlite = setUpLedger();
    const before = counts(sqlite);
    expect(() => addTariffVersion(sqlite, 999, flat(), null, NOW)).toThrow(/Unknown tariff/);
    expect(counts(sqlite)).toEqual(before);
  });

  it('a duplicate tariff code and a bad TI are refused, writing nothing', () => {
    const sqlite = setUpLedger();
    const before = counts(sqlite);
    expect(() =>
      addTariff(sqlite, { code: 'FLAT', name: 'Again', ti: 1, resource: 'electricity' }, flat(), null, NOW),
    ).toThrow(/already registered/);
    expect(
      thrown(() =>
        addTariff(sqlite, { code: 'TI', name: 'TI', ti: 100, resource: 'electricity' }, flat(), null, NOW),
      ).code,
    ).toMatch(/^STS_/);
    expect(counts(sqlite)).toEqual(before);
  });
});

describe('addMeter', () => {
  it('registers a meter: PAN, meter number (DRN + check digit), key data', () => {
    const sqlite = setUpLedger();
    addCustomer(sqlite, {
      accountNo: 'A1',
      name: 'N',
      address: '',
      phone: '',
      location: '',
      fbeEligible: false,
    });
    const id = addMeter(sqlite, meterInput({ customerAccountNo: 'A1' }));
    const row = sqlite
      .prepare('SELECT pan, meter_no AS meterNo, customer_id AS c, sgc, krn, ea FROM meter WHERE id = ?')
      .get(id);
    const full = pan('12345678901');
    expect(row).toEqual({ pan: full, meterNo: full.slice(6), c: 1, sgc: '123456', krn: 1, ea: 'EA07' });
  });

  it('a bad check digit is STS_BAD_CHECK_DIGIT and nothing is written', () => {
    const sqlite = setUpLedger();
    const good = pan('12345678901');
    const bad = good.slice(0, 17) + String((Number(good[17]) + 1) % 10);
    const before = counts(sqlite);
    const error = thrown(() => addMeter(sqlite, meterInput({ pan: bad })));
    expect(error.code).toBe('STS_BAD_CHECK_DIGIT');
    expect(error.userMessage).toContain(`should be ${good[17]}`);
    expect(counts(sqlite)).toEqual(before);
  });

  it.each([
    ['unknown tariff', { tariffCode: 'NOPE' }, 'VEND_NO_TARIFF'],
    ['unknown customer', { customerAccountNo: 'NOBODY' }, 'IMPORT_REJECTED'],
    ['17-digit PAN', { pan: '60072712345678901' }, 'STS_INVALID_PAN'],
    ['bad SGC', { sgc: '12' }, 'STS_INVALID_SGC'],
  ] as Array<[string, Partial<MeterInput>, string]>)(
    '%s is refused (%s) and nothing is written',
    (_, overrides, code) => {
      const sqlite = setUpLedger();
      const before = counts(sqlite);
      expect(thrown(() => addMeter(sqlite, meterInput(overrides))).code).toBe(code);
      expect(counts(sqlite)).toEqual(before);
    },
  );

  it('a meter registered twice is refused, writing nothing', () => {
    const sqlite = setUpLedger();
    addMeter(sqlite, meterInput());
    const before = counts(sqlite);
    expect(() => addMeter(sqlite, meterInput())).toThrow(/already registered/);
    expect(counts(sqlite)).toEqual(before);
  });

  // Regression (found in review): master-data.ts says "Each one is a single transaction with its audit entry", but addMeter
  // and addCustomer write no audit entry: who registered a meter (or changed its key data) is not on record.
  it('registering a customer and a meter leaves audit entries, like every other master-data write', () => {
    const sqlite = setUpLedger();
    const before = count(sqlite, 'audit_log');
    addCustomer(sqlite, {
      accountNo: 'A1',
      name: 'N',
      address: '',
      phone: '',
      location: '',
      fbeEligible: false,
    });
    addMeter(sqlite, meterInput({ customerAccountNo: 'A1' }));
    expect(count(sqlite, 'audit_log')).toBe(before + 2);
  });
});
