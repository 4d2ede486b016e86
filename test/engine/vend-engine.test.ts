import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src-main/engine/audit-log.ts';
import { demoPan } from '../../src-main/engine/demo.ts';
import { addSupplyGroup } from '../../src-main/engine/master-data.ts';
import type { OpenEngine } from '../../src-main/engine/open-engine.ts';
import { type OperatorSession, requirePermission } from '../../src-main/engine/operators.ts';
import { closeShift, openShift, xReport } from '../../src-main/engine/shifts.ts';
import type { VendRequest } from '../../src-main/engine/vend-engine.ts';
import type { IssuedToken, SaleResult } from '../../src-shared/bridge/domain-schemas.ts';
import { createDecoderKeyDeriver } from '../../src-shared/sts/decoder-key.ts';
import { decoderKeyCheckValue } from '../../src-shared/sts/key-check-value.ts';
import { parseMeterPan } from '../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../src-shared/sts/secret-key.ts';
import { tidFromWallClock, wallClockInZone } from '../../src-shared/sts/tid.ts';
import type { MeterResponse } from '../../src-shared/sts/virtual-meter.ts';
import {
  createEngineFixture,
  demoVendingKeyCheckValues,
  type EngineFixture,
  FIXED_NOW,
  fixedClock,
  ledgerState,
  type MeterKeyRow,
  pendingDecoderKeyKcv,
  readMeterKeys,
  virtualMeterFor,
} from '../support/engine-fixture.ts';

const ZONE = 'Africa/Johannesburg';
const tidAt = (at: Date, baseDate: 1993 | 2014) => tidFromWallClock(wallClockInZone(at, ZONE), baseDate);

/** The refusal a call throws (fails the test when it does not throw). */
function refusal(call: () => unknown): Error & { code: string } {
  try {
    call();
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error('expected the engine to refuse, but the call succeeded');
}

let requestCounter = 0;
const nextId = (tag: string) => `${tag}-${String(++requestCounter).padStart(6, '0')}`;

const fixtures: EngineFixture[] = [];
function fixture(options: Parameters<typeof createEngineFixture>[0] = {}): EngineFixture {
  const f = createEngineFixture(options);
  fixtures.push(f);
  return f;
}
afterAll(() => {
  for (const f of fixtures) f.cleanup();
});

/** Enters every token of a sale in receipt order and returns the meter's responses. */
function enter(meter: ReturnType<typeof virtualMeterFor>, tokens: IssuedToken[]): MeterResponse[] {
  return tokens.map((token) => meter.apply(token.digits));
}

describe('every token the engine issues is accepted exactly once by the meter', () => {
  let f: EngineFixture;
  let open: OpenEngine;
  let keysBefore: Map<string, MeterKeyRow>;
  /** Sales per meter, in the order they were made. */
  const sales = new Map<string, SaleResult[]>();
  const ROUNDS = 3;

  beforeAll(() => {
    f = fixture();
    open = f.open();
    keysBefore = readMeterKeys(open.ledger.sqlite);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, meterNumber] of f.vendableMeters.entries()) {
        const result = open.engine.vend(f.sessions.cashier, {
          requestId: nextId('accept'),
          meterNumber,
          tenderMinor: 5_000 + round * 12_345 + index * 1_000,
        });
        sales.set(meterNumber, [...(sales.get(meterNumber) ?? []), result]);
      }
    }
  });

  it('the ledger holds the public demo vending keys the simulated meters are built from', () => {
    const stored = open.ledger.sqlite
      .prepare('SELECT dkga, sgc, krn, vending_key_kcv AS kcv FROM supply_group ORDER BY id')
      .all();
    expect(stored).toEqual(demoVendingKeyCheckValues());
  });

  it('covers the meters the issue names: key change, FBE, EA11', () => {
    const meter3 = keysBefore.get(f.keyChangeMeter)!;
    expect(meter3).toMatchObject({
      baseDate: 1993,
      krn: 1,
      pendingKrn: 2,
      pendingBaseDate: 2014,
      ea: 'EA07',
    });
    const ea11 = f.vendableMeters.filter((m) => keysBefore.get(m)!.ea === 'EA11');
    expect(ea11).toHaveLength(6);
    const withFbe = f.vendableMeters.filter((m) => sales.get(m)![0]!.tokens.some((t) => t.kind === 'fbe'));
    // FBE-eligible households on the inclining-block tariff: demo meters 4, 8, 12, 16 (EA07) and 24 (EA11).
    expect(withFbe).toEqual([4, 8, 12, 16, 24].map((n) => f.meterNumbers[n - 1]));
    expect(ea11.filter((m) => withFbe.includes(m))).toEqual([f.meterNumbers[23]]);
  });

  it('meter 3 takes its roll-over key change first, moves to base date 2014, then accepts credit under KRN 2', () => {
    const row = keysBefore.get(f.keyChangeMeter)!;
    const meter = virtualMeterFor(row);
    expect(meter.expectedBaseDate).toBe(2014);
    const [first, ...later] = sales.get(f.keyChangeMeter)!;
    expect(first!.tokens.map((t) => t.kind)).toEqual(['key-change', 'key-change', 'credit']);
    const [kct1, kct2, credit] = enter(meter, first!.tokens);
    expect(kct1).toMatchObject({ accepted: true, outcome: 'key-change-staged', section: 1 });
    expect(kct2).toMatchObject({
      accepted: true,
      outcome: 'key-changed',
      keyRevision: 2,
      rollover: true,
      baseDate: 2014,
      supplyGroup: '123456',
      tariffIndex: row.ti,
    });
    // The new decoder key is the one the KRN 2 vending key derives, not merely one the engine made up.
    expect(meter.decoderKeyKcv()).toBe(pendingDecoderKeyKcv(row));
    expect(meter.baseDate).toBe(2014);
    const tokenTid = first!.tokens[2]!.tid!;
    expect(tokenTid).toBe(tidAt(FIXED_NOW, 2014));
    expect(credit).toMatchObject({
      accepted: true,
      outcome: 'credit',
      tid: tokenTid,
      units: first!.tokens[2]!.units,
    });
    // Later sales carry no key change and are accepted under the new key.
    for (const sale of later) {
      expect(sale.tokens.map((t) => t.kind)).toEqual(['credit']);
      expect(enter(meter, sale.tokens)).toEqual([
        expect.objectContaining({ accepted: true, outcome: 'credit' }),
      ]);
    }
    // The ledger now records the new key and no pending change.
    expect(readMeterKeys(open.ledger.sqlite).get(f.keyChangeMeter)).toMatchObject({
      krn: 2,
      baseDate: 2014,
      pendingKrn: null,
      pendingBaseDate: null,
    });
    // Entering the whole set again changes nothing: the KCTs are not readable under the new key, the credit is used.
    for (const sale of [first!, ...later]) {
      for (const response of enter(meter, sale.tokens)) expect(response.accepted).toBe(false);
    }
    expect(meter.keyRevision).toBe(2);
  });

  it('every meter (EA07 and EA11, with and without FBE) accepts each of its tokens once, for exactly the units sold', () => {
    for (const meterNumber of f.vendableMeters) {
      const meter = virtualMeterFor(keysBefore.get(meterNumber)!);
      const meterSales = sales.get(meterNumber)!;
      expect(meterSales).toHaveLength(ROUNDS);
      let units = 0;
      for (const sale of meterSales) {
        const responses = enter(meter, sale.tokens);
        for (const [index, token] of sale.tokens.entries()) {
          const response = responses[index]!;
          expect(response.accepted, `${meterNumber} ${token.label}: ${response.display}`).toBe(true);
          if (token.kind === 'credit' || token.kind === 'fbe') {
            expect(response).toMatchObject({ outcome: 'credit', tid: token.tid, units: token.units });
            units += token.units!;
          }
        }
        const credit = sale.tokens.find((t) => t.kind === 'credit')!;
        expect(credit.units).toBe(sale.breakdown!.units);
        const fbe = sale.tokens.find((t) => t.kind === 'fbe');
        expect(fbe?.units ?? null).toBe(sale.breakdown!.fbe?.units ?? null);
      }
      expect(meter.credit('electricity')).toBe(units);
      // Second entry of every token: refused, and the credit register does not move.
      for (const sale of meterSales) {
        for (const [index, response] of enter(meter, sale.tokens).entries()) {
          expect(response.accepted).toBe(false);
          if (sale.tokens[index]!.kind !== 'key-change') expect(response.outcome).toBe('used');
        }
      }
      expect(meter.credit('electricity')).toBe(units);
    }
  });

  it('a token is refused by any other meter (the simulation checks keys, so it can fail)', () => {
    const [a, b] = [f.meterNumbers[0]!, f.meterNumbers[1]!];
    const [ea11a, ea11b] = [f.meterNumbers[18]!, f.meterNumbers[20]!];
    const creditOf = (m: string) => sales.get(m)![1]!.tokens.find((t) => t.kind === 'credit')!.digits;
    expect(virtualMeterFor(keysBefore.get(b)!).apply(creditOf(a))).toMatchObject({
      accepted: false,
      outcome: 'reject-crc',
    });
    expect(virtualMeterFor(keysBefore.get(ea11b)!).apply(creditOf(ea11a))).toMatchObject({
      accepted: false,
      outcome: 'reject-crc',
    });
  });

  it('TIDs: the minute of sale, then the next free minute for each repeat sale of the meter in the same minute', () => {
    const now = tidAt(FIXED_NOW, 2014);
    for (const meterNumber of f.vendableMeters) {
      const tids = sales
        .get(meterNumber)!
        .flatMap((s) => s.tokens.filter((t) => t.tid !== null).map((t) => t.tid!));
      expect(tids).toEqual(tids.map((_, i) => now + i));
    }
  });

  it('stores each sale as issued: token rows, result, audit entry, outbox event and float movement', () => {
    const sqlite = open.ledger.sqlite;
    for (const sale of [...sales.values()].flat()) {
      const row = sqlite
        .prepare(
          'SELECT s.id, d.result_json AS json FROM sale s JOIN sale_document d ON d.sale_id = s.id WHERE s.receipt_no = ?',
        )
        .get(sale.receiptNo) as { id: number; json: string };
      const tokens = sqlite
        .prepare('SELECT seq, kind, digits, tid, units FROM token WHERE sale_id = ? ORDER BY seq')
        .all(row.id);
      expect(tokens).toEqual(
        sale.tokens.map(({ seq, kind, digits, tid, units }) => ({ seq, kind, digits, tid, units })),
      );
      expect(JSON.parse(row.json)).toMatchObject({ receiptNo: sale.receiptNo, tokens: sale.tokens });
      expect(
        sqlite
          .prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'sale.sale' AND entity_id = ?")
          .get(String(sale.receiptNo)),
      ).toEqual({ n: 1 });
      expect(
        sqlite
          .prepare(
            "SELECT COUNT(*) AS n FROM outbox WHERE event_type = 'sale.sale' AND json_extract(payload_json, '$.receiptNo') = ?",
          )
          .get(sale.receiptNo),
      ).toEqual({ n: 1 });
      const taken = sale.breakdown!.tenderMinor - sale.breakdown!.changeMinor;
      expect(
        sqlite.prepare('SELECT amount_minor AS amount FROM float_movement WHERE sale_id = ?').all(row.id),
      ).toEqual([{ amount: -taken }]);
    }
    const receipts = [...sales.values()]
      .flat()
      .map((s) => s.receiptNo)
      .sort((x, y) => x - y);
    expect(receipts).toEqual(receipts.map((_, i) => i + 1));
    expect(verifyAuditChain(sqlite)).toMatchObject({ ok: true, problems: [] });
  });
});

describe('TID details', () => {
  it('skips the reserved 00:01 minute of the day', () => {
    const at = new Date('2026-03-09T22:01:30Z'); // 00:01:30 on 10 March in Johannesburg
    const f = fixture({ now: at });
    const { engine } = f.open();
    const sale = engine.vend(f.sessions.cashier, {
      requestId: nextId('reserved'),
      meterNumber: f.meterNumbers[0]!,
      tenderMinor: 10_000,
    });
    const tid = sale.tokens.find((t) => t.kind === 'credit')!.tid!;
    expect(tidAt(at, 2014) % 1440).toBe(1);
    expect(tid).toBe(tidAt(at, 2014) + 1);
    const keys = readMeterKeys(engine.sqlite).get(f.meterNumbers[0]!)!;
    expect(virtualMeterFor(keys).apply(sale.tokens[0]!.digits)).toMatchObject({ accepted: true, tid });
  });

  it('after a TID roll-over key change, a new-base TID equal to one issued under the old base date is still issued', () => {
    // Meter 3 bought on 10 March 2005 under base date 1993; 7,670 days (21 years) later, after its roll-over
    // key change to base 2014, the minute count is the same number again. The meter cleared its TID history
    // at the roll-over and accepts it, so the engine must issue it.
    const old = new Date('2005-03-10T08:00:00Z');
    const later = new Date(old.getTime() + (Date.UTC(2014, 0, 1) - Date.UTC(1993, 0, 1)));
    expect(tidAt(later, 2014)).toBe(tidAt(old, 1993));
    const f = fixture({ now: later });
    const { engine } = f.open(fixedClock(old));
    const sqlite = engine.sqlite;
    sqlite.prepare("UPDATE tariff_version SET effective_from_local = '2000-01-01'").run();
    sqlite
      .prepare('UPDATE meter SET pending_krn = NULL, pending_base_date = NULL WHERE meter_no = ?')
      .run(f.keyChangeMeter);
    const keysThen = readMeterKeys(sqlite).get(f.keyChangeMeter)!;
    const meter = virtualMeterFor(keysThen);
    const first = engine.vend(f.sessions.cashier, {
      requestId: nextId('rollover'),
      meterNumber: f.keyChangeMeter,
      tenderMinor: 10_000,
    });
    expect(first.tokens.map((t) => [t.kind, t.tid])).toEqual([['credit', tidAt(old, 1993)]]);
    expect(enter(meter, first.tokens)).toEqual([expect.objectContaining({ accepted: true })]);

    // The roll-over key change is scheduled (as the demo does), and the meter is sold to 21 years later.
    sqlite
      .prepare('UPDATE meter SET pending_krn = 2, pending_base_date = 2014 WHERE meter_no = ?')
      .run(f.keyChangeMeter);
    meter.expectBaseDate(2014);
    const { engine: laterEngine } = f.open(fixedClock(later));
    const before = ledgerState(sqlite);
    let second: SaleResult | undefined;
    let error: unknown;
    try {
      second = laterEngine.vend(f.sessions.cashier, {
        requestId: nextId('rollover'),
        meterNumber: f.keyChangeMeter,
        tenderMinor: 10_000,
      });
    } catch (caught) {
      error = caught;
    }
    // Regression: TID uniqueness is per meter and base date (the roll-over clears the meter's history).
    expect(error).toBeUndefined();
    expect(second!.tokens.map((t) => t.kind)).toEqual(['key-change', 'key-change', 'credit']);
    expect(enter(meter, second!.tokens).map((r) => r.accepted)).toEqual([true, true, true]);
    expect(ledgerState(sqlite).sale).toBe(before.sale + 1);
  });
});

describe('key changes without a base-date move', () => {
  it.each([
    ['EA07 (2 key change tokens)', 1, 'DKGA02', '123456', 'cdcdcdcdcdcdcdcd', 2],
    ['EA11 (4 key change tokens)', 19, 'DKGA04', '123457', '0123456789abcdef0123456789abcdef01234567', 4],
  ] as const)(
    '%s: the meter keeps its TID history and accepts credit under the new key',
    (_, n, dkga, sgc, keyHex, kcts) => {
      const f = fixture();
      const meterNumber = f.meterNumbers[n - 1]!;
      if (sgc === '123457') {
        // A second key revision for the EA11 supply group (public test key), loaded when the engine opens.
        const setup = f.open();
        addSupplyGroup(
          setup.ledger.sqlite,
          f.kek,
          {
            sgc,
            name: 'Polokwane CBD (EA11) KRN 2',
            keyType: 2,
            krn: 2,
            baseDate: 2014,
            dkga,
            ea: 'EA11',
            ken: 255,
            vendingKeyHex: keyHex,
          },
          null,
          FIXED_NOW,
        );
        setup.close();
      }
      const { engine } = f.open();
      const sqlite = engine.sqlite;
      const keys = readMeterKeys(sqlite).get(meterNumber)!;
      const meter = virtualMeterFor(keys);
      const before = engine.vend(f.sessions.cashier, {
        requestId: nextId('krn'),
        meterNumber,
        tenderMinor: 8_000,
      });
      expect(enter(meter, before.tokens).every((r) => r.accepted)).toBe(true);

      sqlite.prepare('UPDATE meter SET pending_krn = 2 WHERE meter_no = ?').run(meterNumber);
      const sale = engine.vend(f.sessions.cashier, {
        requestId: nextId('krn'),
        meterNumber,
        tenderMinor: 9_000,
      });
      expect(sale.tokens.map((t) => t.kind)).toEqual([...Array(kcts).fill('key-change'), 'credit']);
      const responses = enter(meter, sale.tokens);
      expect(responses.at(-2)).toMatchObject({
        accepted: true,
        outcome: 'key-changed',
        keyRevision: 2,
        rollover: false,
        baseDate: 2014,
      });
      const newKey = createDecoderKeyDeriver(dkga, SecretKey.fromHex(keyHex, 'test vending key')).derive({
        pan: parseMeterPan(keys.pan),
        keyType: keys.keyType,
        sgc,
        ti: keys.ti,
        krn: 2,
        baseDate: 2014,
        ea: keys.ea,
      });
      expect(meter.decoderKeyKcv()).toBe(decoderKeyCheckValue(newKey, keys.ea));
      // No roll-over: the TID sequence carries on, and the meter still remembers the TIDs of the old key.
      const lastBefore = before.tokens.at(-1)!.tid!;
      expect(responses.at(-1)).toMatchObject({ accepted: true, outcome: 'credit', tid: lastBefore + 1 });
      expect(meter.tidHistory()).toEqual(
        [...before.tokens, ...sale.tokens].filter((t) => t.tid !== null).map((t) => t.tid),
      );
      expect(readMeterKeys(sqlite).get(meterNumber)).toMatchObject({
        krn: 2,
        pendingKrn: null,
        baseDate: 2014,
      });
      expect(enter(meter, sale.tokens).some((r) => r.accepted)).toBe(false);
    },
  );
});

describe('exactly once per request id', () => {
  let f: EngineFixture;
  let open: OpenEngine;
  let original: SaleResult;
  let request: VendRequest;

  beforeAll(() => {
    f = fixture({ openShiftsFor: ['cashier', 'cashier2'] });
    open = f.open();
    request = { requestId: nextId('once'), meterNumber: f.meterNumbers[3]!, tenderMinor: 20_000 };
    original = open.engine.vend(f.sessions.cashier, request);
  });

  it('a repeated request returns the original tokens and writes nothing', () => {
    const before = ledgerState(open.ledger.sqlite);
    const again = open.engine.vend(f.sessions.cashier, request);
    expect(again.replayed).toBe(true);
    expect(again.tokens).toEqual(original.tokens);
    expect(again.receiptNo).toBe(original.receiptNo);
    expect({ ...again, replayed: undefined }).toEqual({ ...original, replayed: undefined });
    expect(ledgerState(open.ledger.sqlite)).toEqual(before);
  });

  it('a repeated request through another engine instance (e.g. after a restart) returns the original too', () => {
    const before = ledgerState(open.ledger.sqlite);
    const other = f.open(fixedClock(new Date(FIXED_NOW.getTime() + 3_600_000)));
    const again = other.engine.vend(f.sessions.cashier, {
      ...request,
      meterNumber: `  ${request.meterNumber.slice(0, 4)} ${request.meterNumber.slice(4)} `,
    });
    expect(again.tokens).toEqual(original.tokens);
    expect(again.createdAt).toBe(original.createdAt);
    expect(ledgerState(open.ledger.sqlite)).toEqual(before);
  });

  const conflicts: Array<[string, (r: VendRequest) => VendRequest, (f: EngineFixture) => OperatorSession]> = [
    ['another meter', (r) => ({ ...r, meterNumber: f.meterNumbers[4]! }), (x) => x.sessions.cashier],
    ['another tender', (r) => ({ ...r, tenderMinor: r.tenderMinor + 1 }), (x) => x.sessions.cashier],
    ['another operator', (r) => r, (x) => x.sessions.cashier2],
    ['another pay type', (r) => ({ ...r, payType: 'card' }), (x) => x.sessions.cashier],
  ];
  it.each(conflicts)(
    'the same request id with %s is refused (VEND_REQUEST_CONFLICT) and writes nothing',
    (_, change, who) => {
      const before = ledgerState(open.ledger.sqlite);
      expect(refusal(() => open.engine.vend(who(f), change(request))).code).toBe('VEND_REQUEST_CONFLICT');
      expect(ledgerState(open.ledger.sqlite)).toEqual(before);
    },
  );
});

describe('refusals write nothing', () => {
  let f: EngineFixture;
  let open: OpenEngine;
  const restore: Array<() => void> = [];

  beforeAll(() => {
    f = fixture();
    open = f.open();
    // Some history first, so "nothing written" is checked against non-empty tables.
    for (const meterNumber of f.vendableMeters.filter((m) => m !== f.keyChangeMeter).slice(0, 5))
      open.engine.vend(f.sessions.cashier, {
        requestId: nextId('history'),
        meterNumber,
        tenderMinor: 15_000,
      });
  });
  afterEach(() => {
    for (const undo of restore.splice(0)) undo();
  });

  const sql = (statement: string, ...params: unknown[]) =>
    open.ledger.sqlite.prepare(statement).run(...params);
  // A well-formed meter number (valid check digit) that is not registered.
  const unknownMeter = () => demoPan(99).slice(6);
  const badCheckDigit = () => {
    const good = f.meterNumbers[0]!;
    return good.slice(0, -1) + String((Number(good.at(-1)) + 1) % 10);
  };

  interface Case {
    name: string;
    code: string;
    vend: () => SaleResult;
    setup?: () => void;
  }
  const vendAs = (session: () => OperatorSession, request: () => Partial<VendRequest>) => () =>
    open.engine.vend(session(), {
      requestId: nextId('refused'),
      meterNumber: f.meterNumbers[1]!,
      tenderMinor: 10_000,
      ...request(),
    });
  const cashier = () => f.sessions.cashier;
  const cases: Case[] = [
    { name: 'zero tender', code: 'VEND_INVALID_REQUEST', vend: vendAs(cashier, () => ({ tenderMinor: 0 })) },
    {
      name: 'negative tender',
      code: 'VEND_INVALID_REQUEST',
      vend: vendAs(cashier, () => ({ tenderMinor: -5_000 })),
    },
    {
      name: 'fractional tender',
      code: 'VEND_INVALID_REQUEST',
      vend: vendAs(cashier, () => ({ tenderMinor: 1_000.5 })),
    },
    {
      name: 'NaN tender',
      code: 'VEND_INVALID_REQUEST',
      vend: vendAs(cashier, () => ({ tenderMinor: Number.NaN })),
    },
    {
      name: 'below the minimum vend',
      code: 'VEND_AMOUNT_TOO_LOW',
      vend: vendAs(cashier, () => ({ tenderMinor: 999 })),
    },
    {
      name: 'a tender the fixed charge eats up',
      code: 'VEND_AMOUNT_TOO_LOW',
      vend: vendAs(cashier, () => ({ meterNumber: f.meterNumbers[10]!, tenderMinor: 2_500 })),
    },
    {
      name: 'more than the maximum vend (inclining block)',
      code: 'VEND_AMOUNT_TOO_HIGH',
      vend: vendAs(cashier, () => ({ tenderMinor: 500_001 })),
    },
    {
      name: 'more than the maximum vend (flat)',
      code: 'VEND_AMOUNT_TOO_HIGH',
      vend: vendAs(cashier, () => ({ meterNumber: f.meterNumbers[4]!, tenderMinor: 1_000_001 })),
    },
    {
      name: 'unknown meter',
      code: 'METER_UNKNOWN',
      vend: vendAs(cashier, () => ({ meterNumber: unknownMeter() })),
    },
    {
      name: 'bad check digit',
      code: 'STS_BAD_CHECK_DIGIT',
      vend: vendAs(cashier, () => ({ meterNumber: badCheckDigit() })),
    },
    {
      name: 'bad check digit in a full PAN',
      code: 'STS_BAD_CHECK_DIGIT',
      vend: vendAs(cashier, () => ({ meterNumber: `600727${badCheckDigit()}` })),
    },
    {
      name: 'letters in the meter number',
      code: 'STS_INVALID_DIGITS',
      vend: vendAs(cashier, () => ({ meterNumber: '04040000001O' })),
    },
    {
      name: 'a meter number of the wrong length',
      code: 'STS_INVALID_PAN',
      vend: vendAs(cashier, () => ({ meterNumber: '0404000000' })),
    },
    {
      name: 'blocked meter',
      code: 'METER_BLOCKED',
      vend: vendAs(cashier, () => ({ meterNumber: f.blockedMeter })),
    },
    {
      name: 'an engineer selling',
      code: 'AUTH_FORBIDDEN',
      vend: vendAs(
        () => f.sessions.engineer,
        () => ({}),
      ),
    },
    {
      name: 'no open shift',
      code: 'SHIFT_NOT_OPEN',
      vend: vendAs(
        () => f.sessions.supervisor,
        () => ({}),
      ),
    },
    {
      name: 'an invalid request id',
      code: 'VEND_INVALID_REQUEST',
      vend: vendAs(cashier, () => ({ requestId: 'short' })),
    },
    {
      name: 'a request id with spaces',
      code: 'VEND_INVALID_REQUEST',
      vend: vendAs(cashier, () => ({ requestId: 'has a space 123' })),
    },
    {
      name: 'insufficient float',
      code: 'VEND_FLOAT_INSUFFICIENT',
      setup: () => {
        const { f: previous } = open.ledger.sqlite
          .prepare('SELECT float_balance_minor AS f FROM outlet')
          .get() as { f: number };
        sql('UPDATE outlet SET float_balance_minor = 5000');
        restore.push(() => sql('UPDATE outlet SET float_balance_minor = ?', previous));
      },
      vend: vendAs(cashier, () => ({ tenderMinor: 10_000 })),
    },
    {
      name: 'the vending authority limit (after the key change tokens were made)',
      code: 'SECURITY_AUTHORITY_LIMIT',
      setup: () => {
        sql('UPDATE outlet SET authority_credit_limit_minor = authority_used_minor + 100');
        restore.push(() => sql('UPDATE outlet SET authority_credit_limit_minor = 1000000000'));
      },
      vend: vendAs(cashier, () => ({ meterNumber: f.keyChangeMeter })),
    },
    {
      name: 'an expired vending authority',
      code: 'SECURITY_AUTHORITY_EXPIRED',
      setup: () => {
        sql("UPDATE outlet SET authority_valid_until = '2026-03-10T07:59:59.000Z'");
        const until = new Date(FIXED_NOW.getTime() + 365 * 86_400_000).toISOString();
        restore.push(() => sql('UPDATE outlet SET authority_valid_until = ?', until));
      },
      vend: vendAs(cashier, () => ({})),
    },
    {
      name: 'a meter past its TID roll-over without a key change',
      code: 'METER_NEEDS_KEY_CHANGE',
      setup: () => {
        sql(
          'UPDATE meter SET pending_krn = NULL, pending_base_date = NULL WHERE meter_no = ?',
          f.keyChangeMeter,
        );
        restore.push(() =>
          sql(
            'UPDATE meter SET pending_krn = 2, pending_base_date = 2014 WHERE meter_no = ?',
            f.keyChangeMeter,
          ),
        );
      },
      vend: vendAs(cashier, () => ({ meterNumber: f.keyChangeMeter })),
    },
  ];

  it.each(cases)('$name → $code', ({ code, vend, setup }) => {
    setup?.();
    const before = ledgerState(open.ledger.sqlite);
    expect(refusal(vend).code).toBe(code);
    expect(ledgerState(open.ledger.sqlite)).toEqual(before);
  });

  it('the engineer role may not sell; the check is the same one the engine applies', () => {
    expect(refusal(() => requirePermission(f.sessions.engineer, 'sell')).code).toBe('AUTH_FORBIDDEN');
    expect(() => requirePermission(f.sessions.cashier, 'sell')).not.toThrow();
    expect(refusal(() => requirePermission(f.sessions.cashier, 'engineering')).code).toBe('AUTH_FORBIDDEN');
    expect(refusal(() => requirePermission(f.sessions.cashier, 'reverse')).code).toBe('AUTH_FORBIDDEN');
  });

  it('after every refusal the outlet still sells, and the audit chain is intact', () => {
    const sale = open.engine.vend(f.sessions.cashier, {
      requestId: nextId('after'),
      meterNumber: f.keyChangeMeter,
      tenderMinor: 10_000,
    });
    expect(sale.receiptNo).toBe(6);
    expect(sale.tokens.map((t) => t.kind)).toEqual(['key-change', 'key-change', 'credit']);
    expect(verifyAuditChain(open.ledger.sqlite).ok).toBe(true);
  });
});

describe('shift totals follow the sales', () => {
  it('X and Z reports count every sale and the cash taken; a closed shift stops selling', () => {
    const f = fixture();
    const { engine } = f.open();
    const results = f.vendableMeters.slice(0, 8).map((meterNumber, i) =>
      engine.vend(f.sessions.cashier, {
        requestId: nextId('shift'),
        meterNumber,
        tenderMinor: 7_000 + i * 1_111,
        payType: i % 3 === 0 ? 'card' : 'cash',
      }),
    );
    const taken = (r: SaleResult) => r.breakdown!.tenderMinor - r.breakdown!.changeMinor;
    const total = results.reduce((sum, r) => sum + taken(r), 0);
    const cash = results.filter((_, i) => i % 3 !== 0).reduce((sum, r) => sum + taken(r), 0);
    const x = xReport(engine, f.sessions.cashier, FIXED_NOW);
    expect(x.total).toMatchObject({ count: 8, amountMinor: total });
    const z = closeShift(engine, f.sessions.cashier, cash - 100, FIXED_NOW);
    expect(z).toMatchObject({ kind: 'Z', reportNo: 1, total: { count: 8, amountMinor: total } });
    expect(z.cash).toEqual({ declaredMinor: cash - 100, expectedMinor: cash, varianceMinor: -100 });
    const before = ledgerState(engine.sqlite);
    expect(
      refusal(() =>
        engine.vend(f.sessions.cashier, {
          requestId: nextId('shift'),
          meterNumber: f.meterNumbers[0]!,
          tenderMinor: 5_000,
        }),
      ).code,
    ).toBe('SHIFT_NOT_OPEN');
    expect(ledgerState(engine.sqlite)).toEqual(before);
    openShift(engine, f.sessions.cashier, FIXED_NOW);
    expect(xReport(engine, f.sessions.cashier, FIXED_NOW).total.count).toBe(0);
  });
});
