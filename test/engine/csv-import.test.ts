import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '../../src-shared/bridge/domain-schemas.ts';

type ImportRejection = ImportResult['rejected'][number];

import { verifyAuditChain } from '../../src-main/engine/audit-log.ts';
import { importCustomersCsv, importMetersCsv } from '../../src-main/engine/csv-import.ts';
import { demoPan, seedDemo } from '../../src-main/engine/demo.ts';
import { addTariff } from '../../src-main/engine/master-data.ts';
import { findMeter } from '../../src-main/engine/meters.ts';
import { openEngine } from '../../src-main/engine/open-engine.ts';
import { authenticate, type OperatorSession } from '../../src-main/engine/operators.ts';
import { openShift } from '../../src-main/engine/shifts.ts';
import { type Ledger, openLedger } from '../../src-main/ledger/database.ts';
import { luhnCheckDigit } from '../../src-shared/sts/meter-pan.ts';

const KEK = Buffer.alloc(32, 0x2a);
const NOW = new Date('2025-03-03T08:00:00Z');

const dirs: string[] = [];
const ledgers: Ledger[] = [];
afterAll(() => {
  for (const ledger of ledgers) ledger.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Outlet {
  dir: string;
  sqlite: Database.Database;
  admin: OperatorSession;
  login(username: string, password: string): OperatorSession;
}

/** A fresh demo outlet in a temporary directory, with the demo admin logged in. */
function demoOutlet(): Outlet {
  const dir = mkdtempSync(join(tmpdir(), 'openvend-import-'));
  dirs.push(dir);
  const ledger = openLedger(dir);
  ledgers.push(ledger);
  seedDemo(ledger.sqlite, KEK, NOW);
  const login = (username: string, password: string) => authenticate(ledger.sqlite, username, password, NOW);
  return { dir, sqlite: ledger.sqlite, admin: login('admin', 'demo-admin-pass'), login };
}

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url));
const file = (name: string, text: string | Buffer) => ({
  name,
  bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
});

function counts(sqlite: Database.Database) {
  const count = (table: string) =>
    (sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { customers: count('customer'), meters: count('meter'), audit: count('audit_log') };
}

// --- generated files: many valid rows, optionally one bad cell ------------------------------------

const METER_HEADER =
  'pan,meter_type,customer_account_no,tariff_code,sgc,ti,krn,key_type,ea,dkga,base_date,ken';
const CUSTOMER_HEADER = 'account_no,name,address,phone,location,fbe_eligible';

/** A valid PAN that the demo outlet does not have yet. */
function newPan(i: number): string {
  const body = `600727${String(6_000_000_000 + i).padStart(11, '0')}`;
  return body + luhnCheckDigit(body);
}

const meterLine = (i: number) =>
  `${newPan(i)},electricity,ACC${1001 + (i % 24)},IBT-DOM,123456,01,1,2,EA07,DKGA02,2014,255`;
const customerLine = (i: number) =>
  `ACC${700_000 + i},Customer ${i},${i} Main Road,+27 82 ${String(i).padStart(7, '0')},Erf ${i},${i % 2 ? 'yes' : 'no'}`;

interface Edit {
  /** Data row, 1-based: row r is on line r + 1. */
  row: number;
  column: string;
  value: string;
}

/** `count` generated rows, with the given cells replaced (the generated rows never need quoting). */
function csv(header: string, line: (i: number) => string, count: number, ...edits: Edit[]): string {
  const columns = header.split(',');
  const rows = Array.from({ length: count }, (_, i) => line(i + 1).split(','));
  for (const edit of edits) {
    const index = columns.indexOf(edit.column);
    if (index < 0) throw new Error(`no column ${edit.column}`);
    rows[edit.row - 1]![index] = edit.value;
  }
  return `${[header, ...rows.map((r) => r.join(','))].join('\n')}\n`;
}
const meterCsv = (count: number, ...edits: Edit[]) => csv(METER_HEADER, meterLine, count, ...edits);
const customerCsv = (count: number, ...edits: Edit[]) => csv(CUSTOMER_HEADER, customerLine, count, ...edits);

/** The import refused: exactly one problem, as expected, and nothing in the database changed. */
function expectRefused(
  outlet: Outlet,
  run: () => ImportResult,
  expected: Partial<ImportRejection> & { code: string },
  rows = 40,
): ImportRejection {
  const before = counts(outlet.sqlite);
  const result = run();
  expect(result.rows).toBe(rows);
  expect(result.imported).toBe(0);
  expect(result.rejected).toHaveLength(1);
  expect(result.rejected[0]).toMatchObject(expected);
  expect(result.rejected[0]!.message.length).toBeGreaterThan(10);
  expect(counts(outlet.sqlite)).toEqual(before);
  return result.rejected[0]!;
}

describe('customers import', () => {
  it('imports a good file and the customers are readable, quotes and commas included', () => {
    const outlet = demoOutlet();
    const before = counts(outlet.sqlite);
    const result = importCustomersCsv(
      outlet.sqlite,
      outlet.admin,
      file('customers.csv', fixture('customers.csv')),
    );
    expect(result).toMatchObject({
      kind: 'customers',
      file: 'customers.csv',
      rows: 6,
      imported: 6,
      rejected: [],
    });
    expect(counts(outlet.sqlite)).toEqual({
      ...before,
      customers: before.customers + 6,
      audit: before.audit + 1,
    });
    const rows = outlet.sqlite
      .prepare(
        "SELECT account_no, name, address, phone, location, fbe_eligible FROM customer WHERE account_no LIKE 'ACC2%' ORDER BY account_no",
      )
      .all();
    expect(rows).toEqual([
      {
        account_no: 'ACC2001',
        name: 'Naledi Mokoena',
        address: '14 Church Street, Seshego',
        phone: '+27 82 555 2001',
        location: 'Erf 301',
        fbe_eligible: 1,
      },
      {
        account_no: 'ACC2002',
        name: 'Johan van Wyk',
        address: '3 Main Road',
        phone: '082-555-2002',
        location: 'Erf 302',
        fbe_eligible: 0,
      },
      {
        account_no: 'ACC2003',
        name: 'Ayanda "Ace" Dlamini',
        address: '',
        phone: '',
        location: '',
        fbe_eligible: 1,
      },
      {
        account_no: 'ACC2004',
        name: 'Fatima Naidoo',
        address: '7 Long Street',
        phone: '0825552004',
        location: 'Erf 304',
        fbe_eligible: 0,
      },
      {
        account_no: 'ACC2005',
        name: 'Kagiso Botha',
        address: '22 Mandela Drive',
        phone: '',
        location: 'Erf 305',
        fbe_eligible: 1,
      },
      {
        account_no: 'ACC2006',
        name: 'Mpho Khumalo',
        address: '9 Jacaranda Avenue',
        phone: '+27825552006',
        location: 'Erf 306',
        fbe_eligible: 0,
      },
    ]);
  });

  it('accepts an Excel export: BOM, CRLF, padded mixed-case header in any order, blank lines, optional columns left out', () => {
    const outlet = demoOutlet();
    const result = importCustomersCsv(
      outlet.sqlite,
      outlet.admin,
      file('customers-excel.csv', fixture('customers-excel.csv')),
    );
    expect(result).toMatchObject({ rows: 2, imported: 2, rejected: [] });
    expect(
      outlet.sqlite
        .prepare(
          "SELECT account_no, name, address, fbe_eligible FROM customer WHERE account_no LIKE 'ACC3%' ORDER BY account_no",
        )
        .all(),
    ).toEqual([
      { account_no: 'ACC3001', name: 'Sipho Nkosi', address: '', fbe_eligible: 1 },
      { account_no: 'ACC3002', name: 'Ruth Pillay', address: '', fbe_eligible: 0 },
    ]);
  });

  describe('one bad row among 40 imports nothing and reports it', () => {
    const outlet = demoOutlet();
    const run = (text: string) => () => importCustomersCsv(outlet.sqlite, outlet.admin, file('c.csv', text));

    it('the generated file itself is valid (dry run)', () => {
      const result = importCustomersCsv(outlet.sqlite, outlet.admin, file('c.csv', customerCsv(40)), {
        dryRun: true,
      });
      expect(result).toMatchObject({ rows: 40, imported: 0, rejected: [] });
    });

    it('bad fbe_eligible', () => {
      expectRefused(outlet, run(customerCsv(40, { row: 17, column: 'fbe_eligible', value: 'maybe' })), {
        line: 18,
        column: 'fbe_eligible',
        value: 'maybe',
        code: 'IMPORT_INVALID_VALUE',
      });
    });

    it('account_no twice in the file (the second one is reported, pointing at the first)', () => {
      const rejection = expectRefused(
        outlet,
        run(customerCsv(40, { row: 30, column: 'account_no', value: 'ACC700005' })),
        { line: 31, column: 'account_no', value: 'ACC700005', code: 'IMPORT_DUPLICATE_IN_FILE' },
      );
      expect(rejection.message).toContain('line 6');
    });

    it('account_no already in the database', () => {
      expectRefused(outlet, run(customerCsv(40, { row: 2, column: 'account_no', value: 'ACC1001' })), {
        line: 3,
        column: 'account_no',
        code: 'IMPORT_ALREADY_EXISTS',
      });
    });

    it('blank account_no or name', () => {
      expectRefused(outlet, run(customerCsv(40, { row: 40, column: 'account_no', value: '  ' })), {
        line: 41,
        column: 'account_no',
        code: 'IMPORT_REQUIRED',
      });
      expectRefused(outlet, run(customerCsv(40, { row: 1, column: 'name', value: '' })), {
        line: 2,
        column: 'name',
        code: 'IMPORT_REQUIRED',
      });
    });

    it('phone with letters', () => {
      expectRefused(outlet, run(customerCsv(40, { row: 9, column: 'phone', value: '082 CALL ME' })), {
        line: 10,
        column: 'phone',
        code: 'IMPORT_INVALID_VALUE',
      });
    });

    it('unknown column (a typo in the header)', () => {
      const text = customerCsv(40).replace('fbe_eligible', 'fbe_eligable');
      const rejection = expectRefused(outlet, run(text), {
        line: 1,
        column: 'fbe_eligable',
        code: 'IMPORT_UNKNOWN_COLUMN',
      });
      expect(rejection.message).toContain('fbe_eligible');
    });

    it('missing required column', () => {
      const text = customerCsv(40)
        .split('\n')
        .map((line) => line.split(',').slice(0, 1).concat(line.split(',').slice(2)).join(','))
        .join('\n');
      const rejection = expectRefused(outlet, run(text), {
        line: 1,
        column: 'name',
        code: 'IMPORT_MISSING_COLUMN',
      });
      expect(rejection.message).toContain('name');
    });
  });
});

describe('meters import', () => {
  it('imports a good file; the meters are readable and can be sold to', () => {
    const outlet = demoOutlet();
    const before = counts(outlet.sqlite);
    const result = importMetersCsv(outlet.sqlite, outlet.admin, file('meters.csv', fixture('meters.csv')), {
      now: NOW,
    });
    expect(result).toMatchObject({ kind: 'meters', rows: 6, imported: 6, rejected: [], dryRun: false });
    expect(counts(outlet.sqlite)).toEqual({ ...before, meters: before.meters + 6, audit: before.audit + 1 });

    const first = findMeter(outlet.sqlite, '050500000017');
    expect(first).toMatchObject({
      pan: '600727050500000017',
      iinLength: 6,
      meterType: 'electricity',
      sgc: '123456',
      ti: 1,
      krn: 1,
      keyType: 2,
      ea: 'EA07',
      dkga: 'DKGA02',
      baseDate: 2014,
      ken: 255,
      blocked: 0,
    });
    const customerOf = (meterNo: string) =>
      outlet.sqlite
        .prepare(
          'SELECT c.account_no AS accountNo FROM meter m JOIN customer c ON c.id = m.customer_id WHERE m.meter_no = ?',
        )
        .pluck()
        .get(meterNo);
    expect(customerOf('050500000017')).toBe('ACC1001');
    expect(findMeter(outlet.sqlite, '600727050500000033')).toMatchObject({ ti: 2, baseDate: 1993, ken: 255 });
    expect(findMeter(outlet.sqlite, '050500000041')).toMatchObject({
      sgc: '123457',
      ea: 'EA11',
      dkga: 'DKGA04',
    });
    // Spaces in the PAN are dropped; a blank customer means a meter with no customer.
    expect(findMeter(outlet.sqlite, '050500000058')).toMatchObject({
      pan: '600727050500000058',
      customerId: null,
    });
    // Case-insensitive words and key-type names: Electricity, DUTK, ea07, dkga02.
    expect(findMeter(outlet.sqlite, '050500000066')).toMatchObject({
      meterType: 'electricity',
      keyType: 2,
      ea: 'EA07',
      dkga: 'DKGA02',
      ken: 200,
    });

    const byNumber = importMetersCsv(
      outlet.sqlite,
      outlet.admin,
      file('meters-by-number.csv', fixture('meters-by-number.csv')),
    );
    expect(byNumber).toMatchObject({ rows: 2, imported: 2, rejected: [] });
    expect(findMeter(outlet.sqlite, '050500000074')).toMatchObject({
      pan: '600727050500000074',
      iinLength: 6,
    });
    expect(findMeter(outlet.sqlite, '00050500000018')).toMatchObject({
      pan: '000000050500000018',
      iinLength: 4,
      meterNo: '00050500000018',
    });

    // The real proof: the engine issues tokens for imported meters (EA07, EA11, 4-digit IIN).
    const open = openEngine(outlet.dir, { kek: { load: () => KEK, description: 'test' }, clock: () => NOW });
    try {
      openShift(open.engine, outlet.admin, NOW);
      for (const meter of ['050500000017', '050500000041', '00050500000018']) {
        const sale = open.engine.vend(outlet.admin, {
          requestId: `import-test-${meter}`,
          meterNumber: meter,
          tenderMinor: 10_000,
        });
        expect(sale.tokens.length).toBeGreaterThan(0);
      }
    } finally {
      open.close();
    }
  });

  it('writes one audit entry with the file name, its SHA-256 and the counts', () => {
    const outlet = demoOutlet();
    const bytes = fixture('meters.csv');
    importMetersCsv(outlet.sqlite, outlet.admin, file('/some/where/meters.csv', bytes), { now: NOW });
    const entry = outlet.sqlite
      .prepare(
        'SELECT at, operator_id AS operatorId, action, entity, entity_id AS entityId, details_json AS details FROM audit_log ORDER BY seq DESC LIMIT 1',
      )
      .get() as {
      at: string;
      operatorId: number;
      action: string;
      entity: string;
      entityId: string;
      details: string;
    };
    expect(entry).toMatchObject({
      at: NOW.toISOString(),
      operatorId: outlet.admin.id,
      action: 'meter.import',
      entity: 'meter',
      entityId: 'meters.csv',
    });
    expect(JSON.parse(entry.details)).toEqual({
      file: 'meters.csv',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      rows: 6,
      imported: 6,
    });
    expect(verifyAuditChain(outlet.sqlite).ok).toBe(true);
    // Customers likewise.
    importCustomersCsv(outlet.sqlite, outlet.admin, file('customers.csv', fixture('customers.csv')));
    const last = outlet.sqlite
      .prepare('SELECT action, details_json AS details FROM audit_log ORDER BY seq DESC LIMIT 1')
      .get() as { action: string; details: string };
    expect(last.action).toBe('customer.import');
    expect(JSON.parse(last.details)).toMatchObject({ file: 'customers.csv', rows: 6, imported: 6 });
  });

  it('--dry-run validates and reports but writes nothing, not even an audit entry', () => {
    const outlet = demoOutlet();
    const before = counts(outlet.sqlite);
    const good = importMetersCsv(outlet.sqlite, outlet.admin, file('meters.csv', fixture('meters.csv')), {
      dryRun: true,
    });
    expect(good).toMatchObject({ dryRun: true, rows: 6, imported: 0, rejected: [] });
    const bad = importMetersCsv(
      outlet.sqlite,
      outlet.admin,
      file('m.csv', meterCsv(10, { row: 4, column: 'krn', value: '0' })),
      { dryRun: true },
    );
    expect(bad.rejected).toMatchObject([{ line: 5, column: 'krn', code: 'STS_INVALID_KRN' }]);
    const customers = importCustomersCsv(
      outlet.sqlite,
      outlet.admin,
      file('c.csv', fixture('customers.csv')),
      {
        dryRun: true,
      },
    );
    expect(customers).toMatchObject({ rows: 6, imported: 0, rejected: [] });
    expect(counts(outlet.sqlite)).toEqual(before);
  });

  it('refuses the cashier (AUTH_FORBIDDEN) and writes nothing; only admin may import', () => {
    const outlet = demoOutlet();
    const before = counts(outlet.sqlite);
    for (const [username, password] of [
      ['cashier', 'demo-cashier-pass'],
      ['super', 'demo-super-pass'],
      ['engineer', 'demo-engineer-pass'],
    ] as const) {
      const session = outlet.login(username, password);
      expect(() =>
        importMetersCsv(outlet.sqlite, session, file('meters.csv', fixture('meters.csv'))),
      ).toThrow(expect.objectContaining({ code: 'AUTH_FORBIDDEN' }));
      expect(() =>
        importCustomersCsv(outlet.sqlite, session, file('customers.csv', fixture('customers.csv')), {
          dryRun: true,
        }),
      ).toThrow(expect.objectContaining({ code: 'AUTH_FORBIDDEN' }));
    }
    expect(counts(outlet.sqlite)).toEqual(before);
  });

  describe('one bad row among 40 imports nothing and reports it (line, column, reason)', () => {
    const outlet = demoOutlet();
    const run = (text: string) => () => importMetersCsv(outlet.sqlite, outlet.admin, file('m.csv', text));
    const bad = (edit: Edit) => run(meterCsv(40, edit));

    it('the generated file itself is valid (dry run)', () => {
      const result = importMetersCsv(outlet.sqlite, outlet.admin, file('m.csv', meterCsv(40)), {
        dryRun: true,
      });
      expect(result).toMatchObject({ rows: 40, imported: 0, rejected: [] });
    });

    it('wrong check digit', () => {
      const pan = newPan(12);
      const wrong = pan.slice(0, 17) + ((Number(pan[17]) + 1) % 10);
      const rejection = expectRefused(outlet, bad({ row: 12, column: 'pan', value: wrong }), {
        line: 13,
        column: 'pan',
        value: wrong,
        code: 'STS_BAD_CHECK_DIGIT',
      });
      expect(rejection.message).toContain(`should be ${pan[17]}`);
    });

    it('letters in the PAN', () => {
      expectRefused(outlet, bad({ row: 5, column: 'pan', value: '60072706000000O005' }), {
        line: 6,
        column: 'pan',
        code: 'STS_INVALID_DIGITS',
      });
    });

    it('PAN of the wrong length', () => {
      expectRefused(outlet, bad({ row: 5, column: 'pan', value: '6007270600000000' }), {
        line: 6,
        column: 'pan',
        code: 'STS_INVALID_PAN',
      });
    });

    it('SGC not 6 digits', () => {
      expectRefused(outlet, bad({ row: 20, column: 'sgc', value: '12345' }), {
        line: 21,
        column: 'sgc',
        value: '12345',
        code: 'STS_INVALID_SGC',
      });
    });

    it('TI 100', () => {
      expectRefused(outlet, bad({ row: 33, column: 'ti', value: '100' }), {
        line: 34,
        column: 'ti',
        code: 'STS_INVALID_TI',
      });
    });

    it('KRN 0', () => {
      expectRefused(outlet, bad({ row: 1, column: 'krn', value: '0' }), {
        line: 2,
        column: 'krn',
        code: 'STS_INVALID_KRN',
      });
    });

    it('other STS fields: key type 4, EA08, DKGA03, base date 2000, KEN 256', () => {
      expectRefused(outlet, bad({ row: 2, column: 'key_type', value: '4' }), {
        line: 3,
        column: 'key_type',
        code: 'STS_INVALID_KEY_TYPE',
      });
      expectRefused(outlet, bad({ row: 2, column: 'ea', value: 'EA08' }), {
        line: 3,
        column: 'ea',
        code: 'STS_INVALID_ALGORITHM',
      });
      expectRefused(outlet, bad({ row: 2, column: 'dkga', value: 'DKGA03' }), {
        line: 3,
        column: 'dkga',
        code: 'STS_INVALID_ALGORITHM',
      });
      expectRefused(outlet, bad({ row: 2, column: 'base_date', value: '2000' }), {
        line: 3,
        column: 'base_date',
        code: 'STS_INVALID_BASE_DATE',
      });
      expectRefused(outlet, bad({ row: 2, column: 'ken', value: '256' }), {
        line: 3,
        column: 'ken',
        code: 'STS_INVALID_KEN',
      });
    });

    it('EA11 with DKGA02', () => {
      const rejection = expectRefused(outlet, bad({ row: 8, column: 'ea', value: 'EA11' }), {
        line: 9,
        column: 'dkga',
        code: 'STS_INVALID_ALGORITHM',
      });
      expect(rejection.message).toContain('DKGA04');
    });

    it('meter type not electricity, water or gas', () => {
      expectRefused(outlet, bad({ row: 7, column: 'meter_type', value: 'solar' }), {
        line: 8,
        column: 'meter_type',
        code: 'IMPORT_INVALID_VALUE',
      });
    });

    it('unknown tariff', () => {
      const rejection = expectRefused(outlet, bad({ row: 26, column: 'tariff_code', value: 'IBT-DOMM' }), {
        line: 27,
        column: 'tariff_code',
        value: 'IBT-DOMM',
        code: 'IMPORT_UNKNOWN_TARIFF',
      });
      expect(rejection.message).toContain('IBT-DOM, FLAT-BUS');
    });

    it('unknown customer', () => {
      expectRefused(outlet, bad({ row: 40, column: 'customer_account_no', value: 'ACC9999' }), {
        line: 41,
        column: 'customer_account_no',
        value: 'ACC9999',
        code: 'IMPORT_UNKNOWN_CUSTOMER',
      });
    });

    it('no vending key for the supply group (unknown SGC, or known SGC with another KRN or DKGA)', () => {
      expectRefused(outlet, bad({ row: 15, column: 'sgc', value: '654321' }), {
        line: 16,
        column: 'sgc',
        value: '654321',
        code: 'IMPORT_NO_VENDING_KEY',
      });
      const rejection = expectRefused(outlet, bad({ row: 15, column: 'krn', value: '3' }), {
        line: 16,
        column: 'sgc',
        code: 'IMPORT_NO_VENDING_KEY',
      });
      expect(rejection.message).toContain('KRN 3');
      expect(rejection.message).toContain('KRN 1 DKGA02, KRN 2 DKGA02');
      const text = meterCsv(40, { row: 15, column: 'sgc', value: '123457' });
      expectRefused(outlet, run(text), { line: 16, column: 'sgc', code: 'IMPORT_NO_VENDING_KEY' });
    });

    it('PAN twice in the file (the second is reported, pointing at the first)', () => {
      const rejection = expectRefused(outlet, bad({ row: 37, column: 'pan', value: newPan(3) }), {
        line: 38,
        column: 'pan',
        code: 'IMPORT_DUPLICATE_IN_FILE',
      });
      expect(rejection.message).toContain('line 4');
    });

    it('PAN already in the database', () => {
      expectRefused(outlet, bad({ row: 21, column: 'pan', value: demoPan(1) }), {
        line: 22,
        column: 'pan',
        value: demoPan(1),
        code: 'IMPORT_ALREADY_EXISTS',
      });
    });

    it('unknown column (a typo in the header is reported, and the column it was meant to be is missing)', () => {
      const before = counts(outlet.sqlite);
      const result = importMetersCsv(
        outlet.sqlite,
        outlet.admin,
        file('m.csv', meterCsv(40).replace('tariff_code', 'tarif_code')),
      );
      expect(result.imported).toBe(0);
      expect(result.rejected).toMatchObject([
        { line: 1, column: 'tarif_code', code: 'IMPORT_UNKNOWN_COLUMN' },
        { line: 1, column: 'tariff_code', code: 'IMPORT_MISSING_COLUMN' },
      ]);
      expect(counts(outlet.sqlite)).toEqual(before);
    });

    it('missing column', () => {
      const dropKrn = (line: string) =>
        line
          .split(',')
          .filter((_, index) => index !== 6)
          .join(',');
      const text = meterCsv(40).split('\n').map(dropKrn).join('\n');
      expectRefused(outlet, run(text), { line: 1, column: 'krn', code: 'IMPORT_MISSING_COLUMN' });
    });

    it('both pan and meter_no columns', () => {
      const text = meterCsv(40)
        .replace('pan,', 'pan,meter_no,')
        .replace(/\n(\d{6})(\d{12}),/g, '\n$1$2,$2,');
      expectRefused(outlet, run(text), { line: 1, column: 'meter_no', code: 'IMPORT_DUPLICATE_COLUMN' });
    });

    it('meter_no with a wrong check digit', () => {
      const text =
        'meter_no,meter_type,customer_account_no,tariff_code,sgc,ti,krn,key_type,ea,dkga,base_date\n050500000075,electricity,ACC1004,IBT-DOM,123456,01,1,2,EA07,DKGA02,2014\n';
      expectRefused(outlet, run(text), { line: 2, column: 'meter_no', code: 'STS_BAD_CHECK_DIGIT' }, 1);
    });

    it('tariff for another resource', () => {
      addTariff(
        outlet.sqlite,
        { code: 'WATER', name: 'Water', ti: 3, resource: 'water' },
        {
          effectiveFromLocal: '2020-01-01',
          kind: 'flat',
          blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 100_000 }],
          vatRateBp: 1500,
          pricesIncludeVat: true,
          fixedCharge: null,
          levies: [],
          fbeMonthlyUnits: 0,
          minVendMinor: 500,
          maxVendMinor: 100_000,
        },
        null,
        NOW,
      );
      expectRefused(outlet, bad({ row: 11, column: 'tariff_code', value: 'WATER' }), {
        line: 12,
        column: 'meter_type',
        code: 'IMPORT_TARIFF_MISMATCH',
      });
    });

    it('a row with a missing field', () => {
      const text = meterCsv(40).replace(`${newPan(9)},electricity,`, `${newPan(9)},`);
      expectRefused(outlet, run(text), { line: 10, code: 'IMPORT_FIELD_COUNT' });
    });

    it('reports every bad row and every bad field (field and database checks), in line order', () => {
      const before = counts(outlet.sqlite);
      const result = importMetersCsv(
        outlet.sqlite,
        outlet.admin,
        file(
          'm.csv',
          meterCsv(
            40,
            { row: 30, column: 'tariff_code', value: 'NOPE' },
            { row: 3, column: 'sgc', value: '1234567' },
            { row: 3, column: 'ti', value: 'x' },
            { row: 3, column: 'tariff_code', value: 'FLAT' },
            { row: 10, column: 'customer_account_no', value: 'ACC0' },
          ),
        ),
      );
      expect(result.rejected.map((r) => [r.line, r.column, r.code])).toEqual([
        [4, 'sgc', 'STS_INVALID_SGC'],
        [4, 'ti', 'STS_INVALID_TI'],
        // The database checks still run on the fields that passed.
        [4, 'tariff_code', 'IMPORT_UNKNOWN_TARIFF'],
        [11, 'customer_account_no', 'IMPORT_UNKNOWN_CUSTOMER'],
        [31, 'tariff_code', 'IMPORT_UNKNOWN_TARIFF'],
      ]);
      expect(counts(outlet.sqlite)).toEqual(before);
    });
  });
});

describe('file-level problems', () => {
  const outlet = demoOutlet();
  const customers = (text: string | Buffer) =>
    importCustomersCsv(outlet.sqlite, outlet.admin, file('c.csv', text));

  it('a CSV syntax error is reported with its line; nothing is written', () => {
    const before = counts(outlet.sqlite);
    const result = customers(fixture('customers-bad-quote.csv'));
    expect(result.imported).toBe(0);
    expect(result.rejected).toMatchObject([{ line: 3, code: 'CSV_INVALID' }]);
    expect(result.rejected[0]!.message).toContain('line 3');
    expect(counts(outlet.sqlite)).toEqual(before);
  });

  it('an empty file, a header without rows', () => {
    expect(customers('').rejected).toMatchObject([{ line: 1, code: 'IMPORT_EMPTY_FILE' }]);
    expect(customers('\n\n').rejected).toMatchObject([{ line: 1, code: 'IMPORT_EMPTY_FILE' }]);
    expect(customers(`${CUSTOMER_HEADER}\n`).rejected).toMatchObject([{ line: 1, code: 'IMPORT_NO_ROWS' }]);
  });

  it('a file that is not UTF-8 (Windows-1252 export)', () => {
    const latin1 = Buffer.from(`${CUSTOMER_HEADER}\nACC5001,Ren\xe9 Botha,,,,no\n`, 'latin1');
    expect(customers(latin1).rejected).toMatchObject([{ line: 2, code: 'IMPORT_NOT_UTF8' }]);
  });

  it('semicolon-separated file: says to use commas', () => {
    const result = customers('account_no;name\nACC5001;Ruth\n');
    expect(result.rejected).toMatchObject([
      { line: 1, code: 'IMPORT_UNKNOWN_COLUMN' },
      { line: 1, column: 'account_no', code: 'IMPORT_MISSING_COLUMN' },
      { line: 1, column: 'name', code: 'IMPORT_MISSING_COLUMN' },
    ]);
    expect(result.rejected[0]!.message).toContain('commas');
  });

  it('a duplicated column and a blank header cell', () => {
    expect(customers('account_no,name,NAME\nA1,x,y\n').rejected).toMatchObject([
      { line: 1, column: 'name', code: 'IMPORT_DUPLICATE_COLUMN' },
    ]);
    expect(customers('account_no,name,\nA1,x,\n').rejected).toMatchObject([
      { line: 1, code: 'IMPORT_UNKNOWN_COLUMN' },
    ]);
  });

  it('line numbers count blank lines and multi-line quoted fields', () => {
    const text = `${CUSTOMER_HEADER}\n\nA1,"Two\nLines",,,,no\n\n\nA2,Fine,,,,perhaps\n`;
    expect(customers(text).rejected).toMatchObject([
      { line: 3, column: 'name', code: 'IMPORT_INVALID_VALUE' },
      { line: 7, column: 'fbe_eligible', code: 'IMPORT_INVALID_VALUE' },
    ]);
  });
});

describe('100,000 rows', () => {
  it('imports 100,000 customers and then 100,000 meters in one transaction each, in a few seconds', () => {
    const outlet = demoOutlet();
    const count = 100_000;
    const customerText = customerCsv(count);
    let started = performance.now();
    const customers = importCustomersCsv(outlet.sqlite, outlet.admin, file('c.csv', customerText));
    const customerSeconds = (performance.now() - started) / 1000;
    expect(customers).toMatchObject({ rows: count, imported: count, rejected: [] });

    // 100,000 meters with one bad row at the very end: refused, nothing written.
    const before = counts(outlet.sqlite);
    started = performance.now();
    const refused = importMetersCsv(
      outlet.sqlite,
      outlet.admin,
      file('m.csv', meterCsv(count, { row: count, column: 'ti', value: '100' })),
    );
    const refusedSeconds = (performance.now() - started) / 1000;
    expect(refused).toMatchObject({ rows: count, imported: 0 });
    expect(refused.rejected).toMatchObject([{ line: count + 1, column: 'ti', code: 'STS_INVALID_TI' }]);
    expect(counts(outlet.sqlite)).toEqual(before);

    // The same meters, each belonging to one of the customers just imported.
    const lines = [METER_HEADER];
    for (let i = 1; i <= count; i++) {
      lines.push(`${newPan(i)},electricity,ACC${700_000 + i},IBT-DOM,123456,01,1,2,EA07,DKGA02,2014,255`);
    }
    started = performance.now();
    const meters = importMetersCsv(outlet.sqlite, outlet.admin, file('m.csv', `${lines.join('\n')}\n`));
    const meterSeconds = (performance.now() - started) / 1000;
    expect(meters).toMatchObject({ rows: count, imported: count, rejected: [] });
    expect(counts(outlet.sqlite)).toMatchObject({ customers: count + 24, meters: count + 24 });
    expect(findMeter(outlet.sqlite, newPan(count))).toMatchObject({ pan: newPan(count) });

    console.info(
      `100k import: customers ${customerSeconds.toFixed(2)} s, meters ${meterSeconds.toFixed(2)} s, refused meters file ${refusedSeconds.toFixed(2)} s`,
    );
    expect(customerSeconds).toBeLessThan(20);
    expect(meterSeconds).toBeLessThan(20);
  }, 180_000);
});
