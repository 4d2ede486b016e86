import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EngineService } from '../../src-main/service/engine-service.ts';
import type { Handlers } from '../../src-main/service/handler-types.ts';
import { handlers } from '../../src-main/service/handlers/index.ts';
import { SESSION_IDLE_MINUTES } from '../../src-main/service/sessions.ts';
import { createServiceFixture, type ServiceFixture } from '../support/service-fixture.ts';

let now = new Date('2026-03-10T08:00:00Z');
let f: ServiceFixture;
beforeAll(() => {
  f = createServiceFixture({ clock: () => new Date(now.getTime()) });
});
afterAll(() => f.cleanup());

const errorOf = (response: Awaited<ReturnType<ServiceFixture['raw']>>) => {
  if (response.ok)
    throw new Error(`expected a refusal, got ${JSON.stringify(response.result).slice(0, 200)}`);
  return response.error;
};

describe('bridge dispatch: every call is checked before the engine sees it', () => {
  it('answers a public call without a session', async () => {
    const info = await f.call('app.info', {});
    expect(info.utility.currencyCode).toBe('ZAR');
    expect(info.languages).toEqual(['en', 'fr', 'pt']);
    expect(info.demo).toBe(true);
    expect(info.quickAmountsMinor).toEqual([2000, 5000, 10000, 20000, 50000]);
  });

  it('refuses an unknown method and logs it', async () => {
    const before = f.logs.length;
    const error = errorOf(await f.raw('vend.giveAwayFree', { args: {} }));
    expect(error.code).toBe('BRIDGE_UNKNOWN_METHOD');
    expect(f.logs.slice(before)).toEqual([expect.objectContaining({ level: 'warn' })]);
  });

  it.each([
    ['a string', 'hello'],
    ['null', null],
    ['an envelope with an extra field', { args: {}, admin: true }],
    ['a non-string session', { args: {}, session: 42 }],
  ])('refuses %s as the envelope and logs it', async (_label, request) => {
    const before = f.logs.length;
    expect(errorOf(await f.raw('app.info', request)).code).toBe('BRIDGE_INVALID_REQUEST');
    expect(f.logs.length).toBe(before + 1);
  });

  it('refuses malformed arguments with the field named, logs them, and the engine is not reached', async () => {
    const session = await f.login('cashier');
    const salesBefore = await f.call('sales.search', {}, session);
    const before = f.logs.length;
    const error = errorOf(
      await f.raw('vend.sell', {
        session,
        args: { requestId: 'req-malformed-1', meterNumber: f.fixture.meterNumbers[0], tenderMinor: 10.5 },
      }),
    );
    expect(error.code).toBe('BRIDGE_INVALID_ARGUMENTS');
    expect(error.detail).toContain('tenderMinor');
    expect(f.logs.slice(before)).toEqual([
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('invalid arguments') }),
    ]);
    expect((await f.call('sales.search', {}, session)).total).toBe(salesBefore.total);
  });

  it('refuses a session call without a session, or with a made-up one', async () => {
    expect(errorOf(await f.raw('status.get', { args: {} })).code).toBe('AUTH_SESSION_EXPIRED');
    expect(errorOf(await f.raw('status.get', { args: {}, session: 'forged' })).code).toBe(
      'AUTH_SESSION_EXPIRED',
    );
  });

  it('refuses a method the role may not use (a cashier issuing engineering tokens)', async () => {
    const session = await f.login('cashier');
    const error = errorOf(
      await f.raw('engineering.issue', {
        session,
        args: {
          requestId: 'req-eng-cashier-1',
          meterNumber: f.fixture.meterNumbers[0],
          token: { kind: 'clear-tamper' },
        },
      }),
    );
    expect(error.code).toBe('AUTH_FORBIDDEN');
  });

  it('a wrong password is refused without saying which part was wrong', async () => {
    const error = errorOf(await f.raw('auth.login', { args: { username: 'cashier', password: 'nope' } }));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.userMessage).toBe('Wrong operator name or password.');
  });

  it(`ends a session after ${SESSION_IDLE_MINUTES} idle minutes, and logout ends it at once`, async () => {
    const session = await f.login('super');
    expect((await f.call('status.get', {}, session)).operator.username).toBe('super');
    now = new Date(now.getTime() + (SESSION_IDLE_MINUTES + 1) * 60_000);
    const error = errorOf(await f.raw('status.get', { args: {}, session }));
    expect(error.code).toBe('AUTH_SESSION_EXPIRED');
    expect(error.userMessage).toContain('log in again');

    const second = await f.login('super');
    await f.call('auth.logout', {}, second);
    expect(errorOf(await f.raw('status.get', { args: {}, session: second })).code).toBe(
      'AUTH_SESSION_EXPIRED',
    );
  });

  it('remembers the operator’s language', async () => {
    const session = await f.login('engineer');
    await f.call('auth.setLanguage', { language: 'pt' }, session);
    const again = await f.call('auth.login', { username: 'engineer', password: 'demo-engineer-pass' });
    expect(again.operator.language).toBe('pt');
    expect((await f.call('status.get', {}, again.session)).operator.language).toBe('pt');
  });

  it('a handler result that does not match the contract never leaves the engine', async () => {
    const logs: string[] = [];
    const broken = {
      ...handlers,
      'app.info': () => ({ version: 1 }) as never,
    } satisfies Handlers;
    const service = new EngineService(
      f.running.open.engine,
      broken,
      { host: 'browser', demo: true, dataDir: f.fixture.dataDir },
      () => now,
      { warn: () => {}, error: (_d, message) => void logs.push(message) },
    );
    const error = errorOf(await service.dispatch('app.info', { args: {} }));
    expect(error.code).toBe('BRIDGE_INVALID_RESULT');
    expect(logs).toEqual(['handler result does not match the contract']);
  });

  it('an unexpected failure is reported as INTERNAL with a cashier message, and logged', async () => {
    const logs: string[] = [];
    const service = new EngineService(
      f.running.open.engine,
      {
        ...handlers,
        'app.info': () => {
          throw new TypeError('boom');
        },
      },
      { host: 'browser', demo: true, dataDir: f.fixture.dataDir },
      () => now,
      { warn: () => {}, error: (_d, message) => void logs.push(message) },
    );
    const error = errorOf(await service.dispatch('app.info', { args: {} }));
    expect(error).toMatchObject({ code: 'INTERNAL', detail: 'boom' });
    expect(error.userMessage).toMatch(/try again/i);
    expect(logs).toEqual(['bridge handler failed']);
  });

  it('status shows the sales waiting to sync and that no server is configured', async () => {
    now = new Date('2026-03-10T09:00:00Z');
    const session = await f.login('cashier');
    const before = await f.call('status.get', {}, session);
    await f.call(
      'vend.sell',
      { requestId: 'req-status-sale-1', meterNumber: f.fixture.meterNumbers[0]!, tenderMinor: 5000 },
      session,
    );
    const after = await f.call('status.get', {}, session);
    expect(after.sync.state).toBe('not-configured');
    expect(after.sync.pendingSales).toBe(before.sync.pendingSales + 1);
    expect(after.shift).not.toBeNull();
    expect(after.floatBalanceMinor).toBeLessThan(before.floatBalanceMinor);
  });

  it('backups run as a job whose progress can be polled', async () => {
    const session = await f.login('super');
    const started = await f.call('backup.start', {}, session);
    expect(started.state).toBe('running');
    await f.running.service.jobs.settle();
    const done = await f.call('jobs.get', { jobId: started.jobId }, session);
    expect(done.state).toBe('done');
    expect(done.done).toBe(done.total);
    expect(done.result?.bytes).toBeGreaterThan(0);
    expect(z.string().parse(done.result?.path)).toContain('backups');
  });
});

describe('reversal approved by a supervisor on the spot', () => {
  it('goes on the cashier’s shift, with the approval audited under the supervisor; bad approvals are refused', async () => {
    now = new Date('2026-03-10T10:00:00Z');
    const session = await f.login('cashier');
    const sale = await f.call(
      'vend.sell',
      { requestId: 'req-reverse-sale-1', meterNumber: f.fixture.meterNumbers[1]!, tenderMinor: 3000 },
      session,
    );
    const base = { requestId: 'req-reverse-1', receiptNo: sale.receiptNo, reason: 'wrong-meter' as const };
    const wrong = errorOf(
      await f.raw('sales.reverse', {
        session,
        args: { ...base, supervisor: { username: 'super', password: 'x' } },
      }),
    );
    expect(wrong.code).toBe('AUTH_FAILED');
    const notSupervisor = errorOf(
      await f.raw('sales.reverse', {
        session,
        args: { ...base, supervisor: { username: 'cashier', password: 'demo-cashier-pass' } },
      }),
    );
    expect(notSupervisor.code).toBe('AUTH_FORBIDDEN');

    // The supervisor has no shift of their own open: the approval still works.
    const credit = await f.call(
      'sales.reverse',
      { ...base, note: 'typed 19 for 91', supervisor: { username: 'super', password: 'demo-super-pass' } },
      session,
    );
    expect(credit.kind).toBe('reversal');
    expect(credit.receipt.header.operator).toBe('Lerato Cashier');
    expect(credit.receipt.messages?.lines).toContain('Approved by Sipho Supervisor.');
    const row = f.running.open.ledger.sqlite
      .prepare(
        `SELECT o.username AS operator, sh.operator_id = s.operator_id AS ownShift
           FROM sale s JOIN operator o ON o.id = s.operator_id JOIN shift sh ON sh.id = s.shift_id
          WHERE s.receipt_no = ?`,
      )
      .get(credit.receiptNo) as { operator: string; ownShift: number };
    expect(row).toEqual({ operator: 'cashier', ownShift: 1 });
    const audit = f.running.open.ledger.sqlite
      .prepare(
        "SELECT details_json AS d FROM audit_log WHERE action = 'sale.reversal' ORDER BY seq DESC LIMIT 1",
      )
      .get() as { d: string };
    expect(JSON.parse(audit.d)).toMatchObject({ approvedBy: 'super', reverses: sale.receiptNo });
  });
});

describe('the trial vend warns before any money is taken', () => {
  it('refuses a quote the outlet could not sell: float too low, vending authority expired', async () => {
    now = new Date('2026-03-10T11:00:00Z');
    const session = await f.login('cashier');
    const sqlite = f.running.open.ledger.sqlite;
    const meterNumber = f.fixture.meterNumbers[4]!;
    const saved = sqlite
      .prepare('SELECT float_balance_minor AS f, authority_valid_until AS v FROM outlet WHERE id = 1')
      .get() as { f: number; v: string };
    try {
      sqlite.prepare('UPDATE outlet SET float_balance_minor = 1000 WHERE id = 1').run();
      const low = errorOf(await f.raw('vend.quote', { session, args: { meterNumber, tenderMinor: 5000 } }));
      expect(low.code).toBe('VEND_FLOAT_INSUFFICIENT');
      sqlite.prepare('UPDATE outlet SET float_balance_minor = ? WHERE id = 1').run(saved.f);
      sqlite.prepare("UPDATE outlet SET authority_valid_until = '2026-03-01T00:00:00Z' WHERE id = 1").run();
      const expired = errorOf(
        await f.raw('vend.quote', { session, args: { meterNumber, tenderMinor: 5000 } }),
      );
      expect(expired.code).toBe('SECURITY_AUTHORITY_EXPIRED');
    } finally {
      sqlite
        .prepare('UPDATE outlet SET float_balance_minor = ?, authority_valid_until = ? WHERE id = 1')
        .run(saved.f, saved.v);
    }
    expect(
      (await f.call('vend.quote', { meterNumber, tenderMinor: 5000 }, session)).breakdown.tenderMinor,
    ).toBe(5000);
  });
});
