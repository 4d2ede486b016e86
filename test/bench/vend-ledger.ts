// Generates (and caches) a 1,000,000-transaction outlet ledger for `npm run bench:vend`.
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MeterRow } from '../../src-main/engine/meters.ts';
import { buildReceipt } from '../../src-main/engine/sale-receipt.ts';
import { tariffInForce } from '../../src-main/engine/tariffs.ts';
import { LEDGER_FILE } from '../../src-main/ledger/data-dir.ts';
import { BUNDLED_MIGRATIONS } from '../../src-main/ledger/migrations/bundled.ts';
import { luhnCheckDigit, parseMeterPan } from '../../src-shared/sts/meter-pan.ts';
import { wallClockInZone } from '../../src-shared/sts/tid.ts';
import { createTokenCipher } from '../../src-shared/sts/token-cipher.ts';
import { encodeToken } from '../../src-shared/sts/token-codec.ts';
import { groupTokenDigits } from '../../src-shared/sts/token-number.ts';
import { type PriceBreakdown, priceVend } from '../../src-shared/vending/pricing.ts';
import { createEngineFixture, demoDeriver, sessionOf } from '../support/engine-fixture.ts';

/**
 * The generated outlet: the demo outlet (fixture KEK, so the engine can open it) plus EXTRA_METERS meters and
 * customers, and BIG_SHIFT_SALES + SMALL_SHIFT_SALES sales made over the year before generation:
 * - every sale is a `sale` row with its `sale_line`s (VAT, energy, change), one credit `token` row and its
 *   `float_movement`, priced by the real pricing engine on the meter's tariff, its token really encrypted for
 *   its meter with a TID that rises per meter, and a `result_json` of the engine's exact shape and size
 *   (~2.6 kB: breakdown and receipt included);
 * - the first BIG_SHIFT_SALES belong to one big open shift of `cashier`, the rest to an open shift of
 *   `cashier2` (a typical shift's size, for comparison);
 * - meters, counters, float and vending authority are left as the sales would have left them.
 * Not generated (nothing measured reads them): the audit entries and outbox events of the sales.
 * The file is cached in os.tmpdir() under a hash of the schema and this generator; it is regenerated when
 * absent, into a scratch directory that is renamed into place only when complete.
 */
export const BIG_SHIFT_SALES = 1_000_000;
export const SMALL_SHIFT_SALES = 2_000;
export const EXTRA_METERS = 5_000;
const GENERATOR_VERSION = 1;
const DAY_MS = 86_400_000;
const TENDERS = [
  2_000, 5_000, 5_000, 10_000, 10_000, 10_000, 15_000, 20_000, 20_000, 30_000, 50_000, 100_000,
];
const PAY_TYPES = ['cash', 'cash', 'cash', 'cash', 'cash', 'cash', 'cash', 'cash', 'card', 'mobile'] as const;
const STREETS = ['Church Street', 'Main Road', 'Voortrekker Road', 'Mandela Drive', 'Jacaranda Avenue'];

export interface BenchLedger {
  dataDir: string;
  generated: boolean;
  seconds: number;
  bigShiftOperator: string;
  smallShiftOperator: string;
  meterNumbers: string[];
}

const schemaHash = () =>
  createHash('sha256')
    .update(
      JSON.stringify([
        GENERATOR_VERSION,
        BIG_SHIFT_SALES,
        SMALL_SHIFT_SALES,
        EXTRA_METERS,
        BUNDLED_MIGRATIONS.map((m) => [m.id, m.sha256]),
      ]),
    )
    .digest('hex')
    .slice(0, 16);

/** mulberry32: a small seeded PRNG, so every generation makes the same ledger shape. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A JSON document with slots: "@@N:KEY@@" (a quoted slot that becomes a number) and @@S:KEY@@ (inside a
 * string). Compiled once; filling it is plain concatenation.
 */
function compileTemplate(json: string): (values: Record<string, string | number>) => string {
  const parts: string[] = [];
  const keys: string[] = [];
  let last = 0;
  for (const match of json.matchAll(/"@@N:(\w+)@@"|@@S:(\w+)@@/g)) {
    parts.push(json.slice(last, match.index));
    keys.push(match[1] ?? match[2]!);
    last = match.index! + match[0].length;
  }
  parts.push(json.slice(last));
  return (values) => {
    let out = parts[0]!;
    for (let i = 0; i < keys.length; i++) out += values[keys[i]!]! + parts[i + 1]!;
    return out;
  };
}

interface GenMeter {
  id: number;
  meterNo: string;
  row: MeterRow;
  cipher: ReturnType<typeof createTokenCipher>;
  tariffCode: 'IBT-DOM' | 'FLAT-BUS';
  lastTid: number;
  mtdMonth: string | null;
  mtdUnits: number;
  lastAt: string | null;
  values: { METERNO: string; CUSTNAME: string; ADDR1: string; ADDR2: string; ACCOUNT: string };
}

export function benchLedgerPath(): string {
  return join(tmpdir(), `openvend-bench-ledger-${schemaHash()}`);
}

/** The cached 1M-transaction ledger, generated first if absent. */
export function ensureBenchLedger(log: (line: string) => void = () => {}): BenchLedger {
  const dataDir = benchLedgerPath();
  const started = performance.now();
  const done = join(dataDir, 'generated.json');
  let generated = false;
  if (!existsSync(done)) {
    const scratch = `${dataDir}.partial-${process.pid}`;
    rmSync(scratch, { recursive: true, force: true });
    try {
      generate(scratch, log);
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      throw error;
    }
    writeFileSync(join(scratch, 'generated.json'), JSON.stringify({ at: new Date().toISOString() }));
    rmSync(dataDir, { recursive: true, force: true });
    renameSync(scratch, dataDir);
    generated = true;
  }
  const db = new Database(join(dataDir, LEDGER_FILE), { readonly: true });
  const meterNumbers = (
    db.prepare('SELECT meter_no AS m FROM meter WHERE blocked = 0 ORDER BY id').all() as Array<{ m: string }>
  ).map((r) => r.m);
  db.close();
  return {
    dataDir,
    generated,
    seconds: (performance.now() - started) / 1000,
    bigShiftOperator: 'cashier',
    smallShiftOperator: 'cashier2',
    meterNumbers,
  };
}

function generate(dataDir: string, log: (line: string) => void): void {
  const now = new Date();
  const fixture = createEngineFixture({ dataDir, now, openShiftsFor: ['cashier', 'cashier2'] });
  fixture.cleanup(); // closes the fixture's engine; the directory (given by us) stays
  const sqlite = new Database(join(dataDir, LEDGER_FILE));
  // Bulk load: one transaction, rollback journal instead of WAL (new pages need no journal), no fsync until the end.
  sqlite.pragma('journal_mode = DELETE');
  sqlite.pragma('synchronous = OFF');
  sqlite.pragma('cache_size = -262144');
  const started = performance.now();
  const zone = (sqlite.prepare('SELECT time_zone AS z FROM utility').get() as { z: string }).z;
  const first = now.getTime() - 365 * DAY_MS;
  const total = BIG_SHIFT_SALES + SMALL_SHIFT_SALES;
  const step = (now.getTime() - 60_000 - first) / total;
  // The demo zone (Africa/Johannesburg) has no daylight saving: one offset serves the whole year.
  const offsetOf = (t: number) => {
    const w = wallClockInZone(new Date(t), zone);
    return (
      Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second ?? 0) - Math.floor(t / 1000) * 1000
    );
  };
  const offsetMs = offsetOf(first);
  if (offsetOf(now.getTime()) !== offsetMs)
    throw new Error(`the generator needs a zone without DST, not ${zone}`);
  const base2014 = Date.UTC(2014, 0, 1);

  sqlite.transaction(() => {
    // Extra customers and meters (a realistic outlet, not 22 meters with 45,000 sales each).
    const tariffIds = new Map(
      (sqlite.prepare('SELECT id, code FROM tariff').all() as Array<{ id: number; code: string }>).map(
        (t) => [t.code, t.id],
      ),
    );
    const insertCustomer = sqlite.prepare(
      'INSERT INTO customer (account_no, name, address, phone, location, fbe_eligible) VALUES (?, ?, ?, ?, ?, 0)',
    );
    const insertMeter = sqlite.prepare(
      `INSERT INTO meter (pan, meter_no, iin_length, meter_type, customer_id, tariff_id, sgc, ti, krn, key_type, ea, dkga, base_date, ken)
       VALUES (?, ?, 6, 'electricity', ?, ?, ?, ?, 1, 2, ?, ?, 2014, 255)`,
    );
    for (let i = 0; i < EXTRA_METERS; i++) {
      const n = 1_000 + i;
      const body = `600727${String(4_040_000_000 + n).padStart(11, '0')}`;
      const pan = body + luhnCheckDigit(body);
      const ea11 = i % 5 === 4;
      const flat = i % 7 === 3;
      const customerId = Number(
        insertCustomer.run(
          `ACC${200_000 + i}`,
          `Customer ${n}`,
          `${10 + (i % 90)} ${STREETS[i % STREETS.length]}, Seshego`,
          `+27 82 555 ${String(n).slice(-4)}`,
          `Erf ${200 + n}`,
        ).lastInsertRowid,
      );
      insertMeter.run(
        pan,
        pan.slice(6),
        customerId,
        tariffIds.get(flat ? 'FLAT-BUS' : 'IBT-DOM'),
        ea11 ? '123457' : '123456',
        flat ? 2 : 1,
        ea11 ? 'EA11' : 'EA07',
        ea11 ? 'DKGA04' : 'DKGA02',
      );
    }

    // Every meter that sells normally: not blocked, no key change pending.
    const meterRows = sqlite
      .prepare(
        `SELECT m.id, m.pan, m.meter_no AS meterNo, m.iin_length AS iinLength, m.meter_type AS meterType, m.customer_id AS customerId,
           m.tariff_id AS tariffId, m.sgc, m.ti, m.krn, m.key_type AS keyType, m.ea, m.dkga, m.base_date AS baseDate, m.ken,
           m.blocked, m.blocked_reason AS blockedReason, m.pending_sgc AS pendingSgc, m.pending_ti AS pendingTi,
           m.pending_krn AS pendingKrn, m.pending_base_date AS pendingBaseDate, m.last_tid AS lastTid, m.mtd_month AS mtdMonth,
           m.mtd_units AS mtdUnits, m.last_purchase_at AS lastPurchaseAt, m.last_purchase_month AS lastPurchaseMonth,
           m.fbe_last_month AS fbeLastMonth, t.code AS tariffCode, c.name AS customerName, c.address, c.account_no AS accountNo
         FROM meter m JOIN tariff t ON t.id = m.tariff_id JOIN customer c ON c.id = m.customer_id
         WHERE m.blocked = 0 AND m.pending_krn IS NULL AND m.pending_base_date IS NULL ORDER BY m.id`,
      )
      .all() as Array<
      MeterRow & {
        tariffCode: GenMeter['tariffCode'];
        customerName: string;
        address: string;
        accountNo: string;
      }
    >;
    const meters: GenMeter[] = meterRows.map((row) => {
      const pan = parseMeterPan(row.pan, row.iinLength);
      const key = demoDeriver(row.dkga, row.sgc, row.krn).derive({
        pan,
        keyType: row.keyType,
        sgc: row.sgc,
        ti: row.ti,
        krn: row.krn,
        baseDate: row.baseDate,
        ea: row.ea,
      });
      const [addr1, addr2] = row.address.split(/,\s*/);
      return {
        id: row.id,
        meterNo: row.meterNo,
        row,
        cipher: createTokenCipher(row.ea, key),
        tariffCode: row.tariffCode,
        lastTid: -1,
        mtdMonth: null,
        mtdUnits: 0,
        lastAt: null,
        values: {
          METERNO: row.meterNo,
          CUSTNAME: row.customerName,
          ADDR1: addr1!,
          ADDR2: addr2 ?? '',
          ACCOUNT: row.accountNo,
        },
      };
    });

    // One priced sale per (tariff, key class, tender): the real pricing engine, the real receipt builder.
    const today = new Date(now.getTime() + offsetMs).toISOString().slice(0, 10);
    const outlet = sqlite
      .prepare('SELECT name, address, terminal_id AS terminalId FROM outlet WHERE id = 1')
      .get() as { name: string; address: string; terminalId: string };
    const utility = sqlite
      .prepare(
        'SELECT name, address, tax_ref AS taxRef, receipt_footer AS receiptFooter FROM utility WHERE id = 1',
      )
      .get() as { name: string; address: string; taxRef: string; receiptFooter: string };
    const bigCashier = sessionOf(sqlite, 'cashier');
    const smallCashier = sessionOf(sqlite, 'cashier2');
    interface Template {
      b: PriceBreakdown;
      result: (values: Record<string, string | number>) => string;
    }
    const templates = new Map<string, Template>();
    const templateFor = (m: GenMeter, tender: number, operator: typeof bigCashier): Template => {
      const id = `${m.tariffCode}/${m.row.ea}/${m.row.ti}/${tender}/${operator.id}`;
      let template = templates.get(id);
      if (!template) {
        const tariff = tariffInForce(sqlite, m.row.tariffId, today);
        const b = priceVend({
          tenderMinor: tender,
          tariff,
          month: '2000-01',
          meter: {
            monthToDateUnits: 0,
            lastPurchaseMonth: '2000-01',
            fbeIssuedThisMonth: true,
            fbeEligible: false,
          },
          debt: null,
        });
        const receipt = buildReceipt({
          title: 'CREDIT VEND - TAX INVOICE',
          utility,
          outlet,
          operatorName: operator.displayName,
          receiptNo: '@@S:RECEIPTNO@@' as unknown as number,
          localTime: { year: 1999, month: 9, day: 9, hour: 9, minute: 9 },
          meter: { ...m.row, meterNo: '@@S:METERNO@@' },
          customer: {
            name: '@@S:CUSTNAME@@',
            address: '@@S:ADDR1@@, @@S:ADDR2@@',
            accountNo: '@@S:ACCOUNT@@',
          },
          tariffName: tariff.name,
          tokens: [{ kind: 'credit', label: 'CREDIT TOKEN', digits: '@@S:DIGITS@@', units: b.units }],
          breakdown: b,
          payType: '@@S:PAYTYPE@@',
          keyChange: null,
          messages: [],
        });
        const result = {
          receiptNo: '@@N:RECEIPT@@',
          requestId: '@@S:REQUEST@@',
          kind: 'sale',
          createdAt: '@@S:CREATED@@',
          meterNo: '@@S:METERNO@@',
          tokens: [
            {
              seq: 1,
              kind: 'credit',
              label: 'CREDIT TOKEN',
              digits: '@@S:DIGITS@@',
              display: '@@S:DISPLAY@@',
              tokenClass: 0,
              subclass: 0,
              tid: '@@N:TID@@',
              units: b.units,
            },
          ],
          breakdown: { ...b, month: '@@S:MONTH@@' },
          floatBalanceMinor: '@@N:FLOAT@@',
          lowFloat: false,
          receipt,
          fingerprint: JSON.stringify(['vend', '@@S:METERNO@@', tender, operator.id]),
        };
        const json = JSON.stringify(result).replace('"1999-09-09 09:09"', '"@@S:ISSUED@@"');
        template = { b, result: compileTemplate(json) };
        templates.set(id, template);
      }
      return template;
    };

    const shiftOf = (username: string) =>
      (
        sqlite
          .prepare(
            'SELECT s.id FROM shift s JOIN operator o ON o.id = s.operator_id WHERE o.username = ? AND s.closed_at IS NULL',
          )
          .get(username) as { id: number }
      ).id;
    const bigShift = shiftOf('cashier');
    const smallShift = shiftOf('cashier2');
    const insertSale = sqlite.prepare(
      `INSERT INTO sale (id, request_id, receipt_no, kind, meter_id, operator_id, shift_id, created_at, pay_type, tender_minor, charges_minor,
         debt_minor, levies_minor, vat_minor, energy_minor, change_minor, units, fbe_units, reverses_sale_id, reason_code)
       VALUES (?, ?, ?, 'sale', ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, 0, NULL, NULL)`,
    );
    const insertDocument = sqlite.prepare('INSERT INTO sale_document (sale_id, result_json) VALUES (?, ?)');
    const insertLine = sqlite.prepare(
      'INSERT INTO sale_line (sale_id, kind, description, amount_minor, vat_minor, units) VALUES (?, ?, ?, ?, 0, ?)',
    );
    const insertToken = sqlite.prepare(
      "INSERT INTO token (sale_id, seq, meter_id, kind, digits, token_class, subclass, tid, base_date, units) VALUES (?, 1, ?, 'credit', ?, 0, 0, ?, 2014, ?)",
    );
    const insertFloat = sqlite.prepare(
      "INSERT INTO float_movement (created_at, kind, amount_minor, balance_after_minor, sale_id, reference) VALUES (?, 'sale', ?, ?, ?, ?)",
    );
    let float = (sqlite.prepare('SELECT float_balance_minor AS f FROM outlet').get() as { f: number }).f;
    let authority = 0;
    const random = prng(20_260_310);
    const firstSaleAt = new Date(Math.round(first)).toISOString();
    const smallFirstAt = new Date(Math.round(first + BIG_SHIFT_SALES * step)).toISOString();

    for (let i = 0; i < total; i++) {
      const saleId = i + 1;
      const at = Math.round(first + i * step);
      const local = new Date(at + offsetMs).toISOString();
      const month = local.slice(0, 7);
      const createdAt = new Date(at).toISOString();
      const m = meters[Math.floor(random() * meters.length)]!;
      const small = i >= BIG_SHIFT_SALES;
      const operator = small ? smallCashier : bigCashier;
      const tender = TENDERS[Math.floor(random() * TENDERS.length)]!;
      const payType = PAY_TYPES[Math.floor(random() * PAY_TYPES.length)]!;
      const { b, result } = templateFor(m, tender, operator);
      // The engine's TID rule: the minute of sale, past the meter's last TID and the reserved 00:01 minute.
      let tid = Math.floor((at + offsetMs - base2014) / 60_000);
      if (tid <= m.lastTid) tid = m.lastTid + 1;
      if (tid % 1440 === 1) tid++;
      m.lastTid = tid;
      const digits = encodeToken(
        {
          type: 'transfer-credit',
          resource: 'electricity',
          rnd: Math.floor(random() * 16),
          tid,
          units: b.units,
        },
        m.cipher,
      ).digits;
      const taken = b.tenderMinor - b.changeMinor;
      float -= taken;
      authority += b.energyMoneyMinor - b.changeMinor;
      const requestId = `gen-${String(saleId).padStart(9, '0')}`;
      insertSale.run(
        saleId,
        requestId,
        saleId,
        m.id,
        operator.id,
        small ? smallShift : bigShift,
        createdAt,
        payType,
        b.tenderMinor,
        b.levies.reduce((sum, l) => sum + l.amountMinor, 0),
        b.totalVatMinor,
        b.energyMinor,
        b.changeMinor,
        b.units,
      );
      insertDocument.run(
        saleId,
        result({
          RECEIPT: saleId,
          REQUEST: requestId,
          CREATED: createdAt,
          DIGITS: digits,
          DISPLAY: groupTokenDigits(digits),
          TID: tid,
          MONTH: month,
          FLOAT: float,
          RECEIPTNO: String(saleId).padStart(8, '0'),
          ISSUED: `${local.slice(0, 10)} ${local.slice(11, 16)}`,
          PAYTYPE: payType.toUpperCase(),
          ...m.values,
        }),
      );
      insertLine.run(saleId, 'vat', `VAT ${b.vat.rateBp / 100}%`, b.vat.amountMinor, 0);
      insertLine.run(saleId, 'energy', 'Energy', b.energyMinor, b.units);
      if (b.changeMinor) insertLine.run(saleId, 'change', 'Change', b.changeMinor, 0);
      insertToken.run(saleId, m.id, digits, tid, b.units);
      insertFloat.run(createdAt, -taken, float, saleId, `receipt ${saleId}`);
      m.mtdUnits = m.mtdMonth === month ? m.mtdUnits + b.units : b.units;
      m.mtdMonth = month;
      m.lastAt = createdAt;
      if ((i + 1) % 200_000 === 0)
        log(
          `  generated ${(i + 1).toLocaleString('en')} sales (${((performance.now() - started) / 1000).toFixed(1)} s)`,
        );
    }

    const updateMeter = sqlite.prepare(
      'UPDATE meter SET last_tid = ?, mtd_month = ?, mtd_units = ?, last_purchase_at = ?, last_purchase_month = ? WHERE id = ?',
    );
    for (const m of meters)
      if (m.lastAt) updateMeter.run(m.lastTid, m.mtdMonth, m.mtdUnits, m.lastAt, m.mtdMonth, m.id);
    sqlite.prepare("UPDATE counter SET value = ? WHERE name = 'receipt'").run(total);
    sqlite
      .prepare(
        "UPDATE outlet SET float_balance_minor = ?, authority_used_minor = authority_used_minor + ?, authority_credit_limit_minor = 9000000000000, authority_valid_until = '2099-12-31T00:00:00.000Z' WHERE id = 1",
      )
      .run(float, authority);
    sqlite.prepare('UPDATE shift SET opened_at = ? WHERE id = ?').run(firstSaleAt, bigShift);
    sqlite.prepare('UPDATE shift SET opened_at = ? WHERE id = ?').run(smallFirstAt, smallShift);
  })();
  sqlite.pragma('journal_mode = WAL');
  sqlite.close();
  log(
    `  generated ${total.toLocaleString('en')} sales in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
