import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPan } from '../../../src-main/engine/demo.ts';
import { addSupplyGroup } from '../../../src-main/engine/master-data.ts';
import { explainToken } from '../../../src-main/engine/token-explainer.ts';
import { engineeringHandlers } from '../../../src-main/service/handlers/engineering-handlers.ts';
import type { TokenExplanation } from '../../../src-shared/bridge/contract.ts';
import type { SaleResult } from '../../../src-shared/bridge/domain-schemas.ts';
import { createDecoderKeyDeriver } from '../../../src-shared/sts/decoder-key.ts';
import { parseMeterPan } from '../../../src-shared/sts/meter-pan.ts';
import { SecretKey } from '../../../src-shared/sts/secret-key.ts';
import { type BaseDate, tidFromWallClock, wallClockInZone } from '../../../src-shared/sts/tid.ts';
import { createTokenCipher } from '../../../src-shared/sts/token-cipher.ts';
import { encodeToken } from '../../../src-shared/sts/token-codec.ts';
import { DEFAULT_TID_HISTORY_SIZE } from '../../../src-shared/sts/virtual-meter.ts';
import {
  createEngineFixture,
  DEMO_VENDING_KEYS,
  type EngineFixture,
  expectedDecoderKey,
  type MeterKeyRow,
  readMeterKeys,
  virtualMeterFor,
} from '../../support/engine-fixture.ts';
import { call, refusal, type ServiceKit, serviceKit } from './service-kit.ts';

const ZONE = 'Africa/Johannesburg';
/** A second DKGA02 supply group, so a token made for another supply group can be recognised. */
const OTHER_GROUP = { sgc: '654321', krn: 1, hex: 'efefefefefefefef' };

let f: EngineFixture;
let kit: ServiceKit;
let keys: Map<string, MeterKeyRow>;
let n = 0;
const requestId = () => `eng-${String(++n).padStart(6, '0')}`;

beforeAll(() => {
  f = createEngineFixture();
  const setup = f.open();
  addSupplyGroup(
    setup.ledger.sqlite,
    f.kek,
    {
      sgc: OTHER_GROUP.sgc,
      name: 'Neighbouring utility',
      keyType: 2,
      krn: OTHER_GROUP.krn,
      baseDate: 2014,
      dkga: 'DKGA02',
      ea: 'EA07',
      ken: 255,
      vendingKeyHex: OTHER_GROUP.hex,
    },
    null,
    f.now,
  );
  setup.close();
  // Opened after the extra supply group, so the engine's security module holds its key too.
  kit = serviceKit(f);
  keys = readMeterKeys(kit.open.ledger.sqlite);
});
afterAll(() => f.cleanup());

const explain = (meterNumber: string, token: string) =>
  call(engineeringHandlers, 'tokens.explain', { meterNumber, token }, kit.context(f.sessions.engineer));
const sell = (meterNumber: string, tenderMinor = 5_000) =>
  kit.open.engine.vend(f.sessions.cashier, { requestId: requestId(), meterNumber, tenderMinor });
const credit = (sale: SaleResult) => sale.tokens.find((t) => t.kind === 'credit')!;
const codes = (e: TokenExplanation) => e.findings.map((x) => `${x.severity}:${x.code}`);
const tidNow = (baseDate: BaseDate) => tidFromWallClock(wallClockInZone(f.now, ZONE), baseDate);

/** A credit token made outside the engine, with the meter's PAN and the key data given. */
function craftCredit(
  row: MeterKeyRow,
  options: {
    sgc?: string;
    krn?: number;
    ti?: number;
    vendingHex?: string;
    tid?: number;
    resource?: 'electricity' | 'water';
  } = {},
) {
  const sgc = options.sgc ?? row.sgc;
  const krn = options.krn ?? row.krn;
  const ti = options.ti ?? row.ti;
  const vendingHex =
    options.vendingHex ??
    DEMO_VENDING_KEYS.find((k) => k.sgc === sgc && k.krn === krn && k.dkga === row.dkga)!.hex;
  const decoderKey = createDecoderKeyDeriver(
    row.dkga,
    SecretKey.fromHex(vendingHex, 'test vending key'),
  ).derive({
    pan: parseMeterPan(row.pan, row.iinLength),
    keyType: row.keyType,
    sgc,
    ti,
    krn,
    baseDate: row.baseDate,
    ea: row.ea,
  });
  return encodeToken(
    {
      type: 'transfer-credit',
      resource: options.resource ?? 'electricity',
      rnd: 5,
      tid: options.tid ?? tidNow(row.baseDate),
      units: 123,
    },
    createTokenCipher(row.ea, decoderKey),
  ).digits;
}

describe('engineering.issue and engineering.keyChange', () => {
  it('issues a clear-tamper token exactly once per request id', async () => {
    const meter = f.meterNumbers[9]!;
    const id = requestId();
    const args = { requestId: id, meterNumber: meter, token: { kind: 'clear-tamper' as const } };
    const first = await call(
      engineeringHandlers,
      'engineering.issue',
      args,
      kit.context(f.sessions.engineer),
    );
    expect(first).toMatchObject({ kind: 'engineering', meterNo: meter });
    expect(first.tokens).toHaveLength(1);
    expect(first.tokens[0]).toMatchObject({ tokenClass: 2, subclass: 5 });
    const again = await call(
      engineeringHandlers,
      'engineering.issue',
      args,
      kit.context(f.sessions.engineer),
    );
    expect(again.receiptNo).toBe(first.receiptNo);
    expect(again.replayed).toBe(true);
    const meterRow = keys.get(meter)!;
    expect(virtualMeterFor(meterRow).apply(first.tokens[0]!.digits)).toMatchObject({
      accepted: true,
      outcome: 'tamper-cleared',
    });
  });

  it('passes a test token without a manufacturer code, and refuses a cashier and an unknown meter', async () => {
    const test = await call(
      engineeringHandlers,
      'engineering.issue',
      { requestId: requestId(), meterNumber: f.meterNumbers[9]!, token: { kind: 'test', control: 3 } },
      kit.context(f.sessions.admin),
    );
    expect(test.tokens[0]).toMatchObject({ tokenClass: 1, tid: null });
    const forbidden = await refusal(() =>
      kit.open.engine.engineeringToken(f.sessions.cashier, {
        requestId: requestId(),
        meterNumber: f.meterNumbers[9]!,
        token: { kind: 'clear-tamper' },
      }),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
    const unknown = await refusal(() =>
      call(
        engineeringHandlers,
        'engineering.issue',
        { requestId: requestId(), meterNumber: demoPan(99).slice(6), token: { kind: 'clear-tamper' } },
        kit.context(f.sessions.engineer),
      ),
    );
    expect(unknown.code).toBe('METER_UNKNOWN');
  });

  it('changes a key to the given key revision, and refuses a change to the key the meter already has', async () => {
    const meter = f.meterNumbers[10]!;
    const result = await call(
      engineeringHandlers,
      'engineering.keyChange',
      { requestId: requestId(), meterNumber: meter, to: { krn: 2 } },
      kit.context(f.sessions.engineer),
    );
    expect(result.kind).toBe('key-change');
    expect(result.tokens.map((t) => t.kind)).toEqual(['key-change', 'key-change']);
    const virtual = virtualMeterFor(keys.get(meter)!);
    expect(result.tokens.map((t) => virtual.apply(t.digits).outcome)).toEqual([
      'key-change-staged',
      'key-changed',
    ]);
    expect(virtual.keyRevision).toBe(2);
    const same = await refusal(() =>
      call(
        engineeringHandlers,
        'engineering.keyChange',
        { requestId: requestId(), meterNumber: meter, to: { krn: 2 } },
        kit.context(f.sessions.engineer),
      ),
    );
    expect(same.code).toBe('VEND_INVALID_REQUEST');
    const noPending = await refusal(() =>
      call(
        engineeringHandlers,
        'engineering.keyChange',
        { requestId: requestId(), meterNumber: f.meterNumbers[11]! },
        kit.context(f.sessions.engineer),
      ),
    );
    expect(noPending.userMessage).toContain('no key change scheduled');
  });
});

describe('tokens.explain', () => {
  it('explains a token the ledger just sold: current key, credit, TID and its time, the receipt', async () => {
    const meter = f.meterNumbers[0]!;
    const sale = sell(meter);
    const token = credit(sale);
    const e = await explain(meter, token.display);
    expect(e).toMatchObject({
      meterNo: meter,
      token: token.display,
      verdict: 'accept',
      decodedWith: { sgc: '123456', krn: 1, ti: 1, current: true },
      tokenClass: 0,
      subclass: 0,
      tid: token.tid,
      issuedAt: f.now.toISOString(),
      issuedOnReceipt: sale.receiptNo,
    });
    expect(e.description).toBe(
      `Credit: ${Math.floor(token.units! / 10)}.${token.units! % 10} kWh of electricity`,
    );
    expect(codes(e)).toEqual(['ok:current-key', 'info:newest-token']);
    // Dashes are as good as spaces.
    expect((await explain(meter, token.digits.replace(/(\d{4})(?=\d)/g, '$1-'))).verdict).toBe('accept');
  });

  it('says "already used or still good" for a token with a later one, and OLD once the meter memory is past it', async () => {
    const meter = f.meterNumbers[1]!;
    const row = keys.get(meter)!;
    const tokens = Array.from({ length: DEFAULT_TID_HISTORY_SIZE + 2 }, () => credit(sell(meter)));
    // 21 later tokens, 20 later tokens (both past a 20-TID memory), 19 later tokens (still within it).
    const [oldest, pastMemory, withinMemory] = tokens;

    expect(codes(await explain(meter, pastMemory!.digits))).toContain('reject:tid-old');
    const stillGood = await explain(meter, withinMemory!.digits);
    expect(stillGood.verdict).toBe('unknown');
    expect(codes(stillGood)).toContain('warning:tid-older');
    const old = await explain(meter, oldest!.digits);
    expect(old.verdict).toBe('reject');
    expect(codes(old)).toContain('reject:tid-old');
    expect(old.findings.find((x) => x.code === 'tid-old')!.message).toContain('OLD');

    // The meter itself agrees: entered in order (skipping the oldest), the oldest is OLD and a repeat is USED.
    const virtual = virtualMeterFor(row);
    for (const t of tokens.slice(1)) expect(virtual.apply(t.digits).accepted).toBe(true);
    expect(virtual.apply(oldest!.digits).outcome).toBe('old');
    expect(virtual.apply(tokens.at(-1)!.digits).outcome).toBe('used');
    // A meter that missed the older token still takes it while it is within memory: "unknown" was honest.
    const fresh = virtualMeterFor(row);
    expect(fresh.apply(tokens[3]!.digits).accepted).toBe(true);
    expect(fresh.apply(withinMemory!.digits).accepted).toBe(true);
  });

  it('names the meter a token was bought for when it is entered on another one', async () => {
    const sale = sell(f.meterNumbers[4]!);
    const e = await explain(f.meterNumbers[5]!, credit(sale).digits);
    expect(e).toMatchObject({
      verdict: 'reject',
      decodedWith: null,
      tokenClass: null,
      issuedOnReceipt: sale.receiptNo,
    });
    expect(codes(e)).toContain('reject:other-meter');
    expect(e.findings.find((x) => x.code === 'other-meter')!.message).toContain(f.meterNumbers[4]!);
  });

  it('spots a mistyped digit and two swapped digits of a token the meter was sold', async () => {
    const meter = f.meterNumbers[8]!;
    const sale = sell(meter);
    const digits = credit(sale).digits;
    const virtual = () => virtualMeterFor(keys.get(meter)!);
    // A changed digit that the meter itself refuses on its check (a typing error, as a cashier makes it).
    const typo = [...Array(10).keys()]
      .map((i) => {
        const at = 8 + i;
        return `${digits.slice(0, at)}${(Number(digits[at]) + 1) % 10}${digits.slice(at + 1)}`;
      })
      .find((t) => virtual().apply(t).outcome === 'reject-crc')!;
    const e = await explain(meter, typo);
    expect(e.verdict).toBe('reject');
    expect(codes(e)).toEqual(['reject:crc-failed', 'warning:typing-error']);
    // The receipt of the token meant is named in the finding; the typed digits were never issued.
    expect(e.issuedOnReceipt).toBeNull();
    expect(e.findings[1]!.message).toContain(`receipt ${sale.receiptNo}`);
    expect(e.findings[1]!.message).toMatch(/digit \d+ differs/);
    const at = [...digits].findIndex((d, i) => i > 5 && digits[i + 1] !== d);
    const swapped = `${digits.slice(0, at)}${digits[at + 1]}${digits[at]}${digits.slice(at + 2)}`;
    if (virtual().apply(swapped).outcome === 'reject-crc') {
      const s = await explain(meter, swapped);
      expect(s.findings.find((x) => x.code === 'typing-error')!.message).toContain(
        `digits ${at + 1} and ${at + 2} are swapped`,
      );
    }
    // Twenty digits that are nobody's token: only "check the digits".
    const nobody = await explain(meter, '11111111111111111111');
    expect(codes(nobody)).toEqual(['reject:crc-failed']);
    expect(nobody.findings[0]!.message).toContain('Check the digits');
  });

  it('recognises a token made for another supply group, key revision or tariff index', async () => {
    const meter = f.meterNumbers[12]!;
    const row = keys.get(meter)!;
    const wrongSgc = await explain(
      meter,
      craftCredit(row, { sgc: OTHER_GROUP.sgc, vendingHex: OTHER_GROUP.hex }),
    );
    expect(wrongSgc).toMatchObject({
      verdict: 'reject',
      decodedWith: { sgc: OTHER_GROUP.sgc, krn: 1, ti: 1, current: false },
    });
    expect(codes(wrongSgc)).toContain('reject:wrong-sgc');
    const wrongKrn = await explain(meter, craftCredit(row, { krn: 2 }));
    expect(wrongKrn.decodedWith).toEqual({ sgc: '123456', krn: 2, ti: 1, current: false });
    expect(codes(wrongKrn)).toContain('reject:wrong-krn');
    expect(wrongKrn.findings.find((x) => x.code === 'wrong-krn')!.message).toContain('newer');
    const wrongTi = await explain(meter, craftCredit(row, { ti: 2 }));
    expect(wrongTi.decodedWith).toEqual({ sgc: '123456', krn: 1, ti: 2, current: false });
    expect(codes(wrongTi)).toContain('reject:wrong-ti');
  });

  it('flags credit for another resource, an expired key and a token this ledger never issued', async () => {
    const meter = f.meterNumbers[13]!;
    const row = keys.get(meter)!;
    const water = await explain(meter, craftCredit(row, { resource: 'water' }));
    expect(codes(water)).toContain('reject:wrong-resource');
    const foreign = await explain(meter, craftCredit(row));
    expect(foreign.verdict).toBe('unknown');
    expect(foreign.issuedOnReceipt).toBeNull();
    expect(codes(foreign)).toEqual(['ok:current-key', 'warning:not-issued-here']);
    kit.open.ledger.sqlite.prepare('UPDATE meter SET ken = 1 WHERE meter_no = ?').run(meter);
    const expired = await explain(meter, craftCredit(row));
    expect(expired.verdict).toBe('reject');
    expect(codes(expired)).toContain('reject:key-expired');
    expect(virtualMeterFor({ ...row, ken: 1 }).apply(craftCredit(row)).outcome).toBe('key-expired');
  });

  it('follows a key change: pending key, the key change tokens, then credit under the new key', async () => {
    const meter = f.keyChangeMeter;
    const before = keys.get(meter)!;
    const pendingToken = craftCredit({ ...before, baseDate: 2014 }, { krn: 2, tid: tidNow(2014) });
    const pending = await explain(meter, pendingToken);
    expect(pending).toMatchObject({ verdict: 'reject', decodedWith: { krn: 2, current: false } });
    expect(codes(pending)).toContain('reject:pending-key');

    const change = await call(
      engineeringHandlers,
      'engineering.keyChange',
      { requestId: requestId(), meterNumber: meter },
      kit.context(f.sessions.engineer),
    );
    const kct = await explain(meter, change.tokens[0]!.digits);
    expect(kct).toMatchObject({
      verdict: 'unknown',
      decodedWith: { sgc: '123456', krn: 1, ti: 1, current: false },
      tokenClass: 2,
      subclass: 3,
      tid: null,
      issuedOnReceipt: change.receiptNo,
    });
    expect(kct.description).toBe('Key change token 1 of 2: to key revision 2, key type DUTK, TID roll-over');
    expect(codes(kct)).toEqual(['info:key-change-issued']);
    // Nothing of any key leaves the explainer: neither decoder key, nor the key words of the sections.
    const text = JSON.stringify(kct).toLowerCase();
    for (const key of [
      expectedDecoderKey(before),
      expectedDecoderKey({ ...before, baseDate: 2014 }, { krn: 2 }),
    ])
      expect(text).not.toContain(key.revealHex().toLowerCase());
    expect(text).not.toMatch(/keyword|key_word|nk(ho|lo)/);
    // The security module itself hands out the sections with their key words blanked.
    const oldKey = {
      pan: parseMeterPan(before.pan, before.iinLength),
      sgc: before.sgc,
      ti: before.ti,
      krn: before.krn,
      keyType: before.keyType,
      ea: before.ea,
      dkga: before.dkga,
      baseDate: before.baseDate,
      ken: before.ken,
    };
    for (const t of change.tokens)
      expect(kit.open.engine.readToken(oldKey, t.digits).payload).toMatchObject({ keyWord: 0 });

    const sale = sell(meter);
    const fresh = await explain(meter, credit(sale).digits);
    expect(fresh).toMatchObject({ verdict: 'accept', decodedWith: { krn: 2, current: true } });
    expect(codes(fresh)).toContain('info:key-change-first');
    expect(fresh.findings.find((x) => x.code === 'key-change-first')!.message).toContain(
      String(change.receiptNo),
    );
  });

  it('says so when the outlet holds no key for the meter, instead of blaming the digits', async () => {
    const meter = f.meterNumbers[16]!;
    const sale = sell(meter);
    kit.open.ledger.sqlite.prepare("UPDATE meter SET sgc = '999999' WHERE meter_no = ?").run(meter);
    const unknownKey = await explain(meter, '11111111111111111111');
    expect(unknownKey.verdict).toBe('unknown');
    expect(codes(unknownKey)).toEqual(['warning:no-vending-key', 'warning:crc-failed']);
    // Its own earlier token still decodes with the key it was sold under.
    const earlier = await explain(meter, credit(sale).digits);
    expect(earlier).toMatchObject({ verdict: 'unknown', decodedWith: { sgc: '123456', current: false } });
    expect(codes(earlier)).toContain('warning:wrong-sgc');
  });

  it('reads a test token without any key, on any meter', async () => {
    const issued = await call(
      engineeringHandlers,
      'engineering.issue',
      { requestId: requestId(), meterNumber: f.meterNumbers[14]!, token: { kind: 'test', control: 1 } },
      kit.context(f.sessions.engineer),
    );
    const here = await explain(f.meterNumbers[14]!, issued.tokens[0]!.digits);
    expect(here).toMatchObject({ verdict: 'accept', decodedWith: null, tokenClass: 1, tid: null });
    expect(here.issuedOnReceipt).toBe(issued.receiptNo);
    expect(codes(here)).toEqual(['ok:test-token']);
    expect((await explain(f.meterNumbers[15]!, issued.tokens[0]!.digits)).verdict).toBe('accept');
  });

  it('refuses bad digits, an unknown meter and an operator without the engineering role', async () => {
    const meter = f.meterNumbers[0]!;
    expect((await refusal(() => explain(meter, '1234 abcd 5678'))).code).toBe('STS_INVALID_TOKEN');
    const short = await refusal(() => explain(meter, '1234 5678 9012 3456 789'));
    expect(short.code).toBe('STS_INVALID_TOKEN');
    expect(short.userMessage).toContain('20 digits');
    expect((await refusal(() => explain(meter, '99999999999999999999'))).code).toBe('STS_TOKEN_OUT_OF_RANGE');
    expect((await refusal(() => explain(demoPan(99).slice(6), '11111111111111111111'))).code).toBe(
      'METER_UNKNOWN',
    );
    const forbidden = await refusal(() =>
      explainToken(kit.open.engine, f.sessions.cashier, {
        meterNumber: meter,
        token: '11111111111111111111',
      }),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });
});
