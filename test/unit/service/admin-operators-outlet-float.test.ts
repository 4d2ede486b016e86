import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topUpFloat } from '../../../src-main/engine/float.ts';
import { addOperatorAccount, updateOperator } from '../../../src-main/engine/operator-admin.ts';
import { authenticate, MAX_FAILED_LOGINS } from '../../../src-main/engine/operators.ts';
import { updateOutletSettings } from '../../../src-main/engine/outlet-settings.ts';
import { adminHandlers } from '../../../src-main/service/handlers/admin-handlers.ts';
import type { MethodArgs } from '../../../src-shared/bridge/contract.ts';
import {
  createEngineFixture,
  type EngineFixture,
  FIXTURE_FLOAT_MINOR,
} from '../../support/engine-fixture.ts';
import { call, refusal, rowCount, type ServiceKit, serviceKit } from './service-kit.ts';

let f: EngineFixture;
let kit: ServiceKit;

beforeAll(() => {
  f = createEngineFixture();
  kit = serviceKit(f);
});
afterAll(() => f.cleanup());

const admin = () => kit.context(f.sessions.admin);
const sqlite = () => kit.open.ledger.sqlite;
const updateOp = (args: MethodArgs<'operators.update'>) =>
  call(adminHandlers, 'operators.update', args, admin());
const lastAudit = () =>
  sqlite()
    .prepare(
      'SELECT action, entity_id AS entityId, details_json AS details FROM audit_log ORDER BY seq DESC LIMIT 1',
    )
    .get() as {
    action: string;
    entityId: string;
    details: string;
  };

describe('operators', () => {
  it('lists operators with role, language, active flag and lock state', async () => {
    const list = await call(adminHandlers, 'operators.list', {}, admin());
    expect(list.map((o) => o.username)).toEqual(['admin', 'cashier', 'cashier2', 'engineer', 'super']);
    expect(list.find((o) => o.username === 'super')).toMatchObject({
      displayName: 'Sipho Supervisor',
      role: 'supervisor',
      language: null,
      active: true,
      lockedUntil: null,
    });
  });

  it('adds an operator who can log in, and refuses a taken or malformed username', async () => {
    const added = await call(
      adminHandlers,
      'operators.add',
      { username: 'clerk', displayName: ' Nandi Clerk ', role: 'cashier', password: 'clerk-password-1' },
      admin(),
    );
    expect(added).toMatchObject({
      username: 'clerk',
      displayName: 'Nandi Clerk',
      role: 'cashier',
      active: true,
    });
    expect(authenticate(sqlite(), 'clerk', 'clerk-password-1', f.now).id).toBe(added.id);
    expect(lastAudit()).toMatchObject({ action: 'operator.add', entityId: 'clerk' });
    const before = rowCount(sqlite(), 'operator');
    const taken = await refusal(() =>
      call(
        adminHandlers,
        'operators.add',
        { username: 'cashier', displayName: 'Again', role: 'cashier', password: 'another-pass-1' },
        admin(),
      ),
    );
    expect(taken.code).toBe('OPERATOR_EXISTS');
    // The contract refuses it before the engine (whose own check says the same) is reached.
    await expect(
      call(
        adminHandlers,
        'operators.add',
        { username: 'Big Name', displayName: 'X', role: 'cashier', password: 'another-pass-1' },
        admin(),
      ),
    ).rejects.toThrow(/lower-case letters, digits/);
    expect(rowCount(sqlite(), 'operator')).toBe(before);
    const forbidden = await refusal(() =>
      addOperatorAccount(
        sqlite(),
        f.sessions.supervisor,
        { username: 'sneaky', displayName: 'S', role: 'admin', password: 'sneaky-pass-1' },
        f.now,
      ),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });

  it('changes a role and ends that operator’s sessions at once', async () => {
    const token = kit.sessions.open(f.sessions.cashier2, null, f.now);
    const updated = await updateOp({
      username: 'cashier2',
      role: 'supervisor',
      displayName: 'Zanele Supervisor',
    });
    expect(updated).toMatchObject({ role: 'supervisor', displayName: 'Zanele Supervisor' });
    expect(() => kit.sessions.require(token, f.now)).toThrow(/log in/);
    expect(JSON.parse(lastAudit().details)).toEqual({
      displayName: { from: 'Zanele Cashier', to: 'Zanele Supervisor' },
      role: { from: 'cashier', to: 'supervisor' },
    });
  });

  it('deactivates an operator (no login, sessions ended) and activates them again', async () => {
    const token = kit.sessions.open(f.sessions.engineer, null, f.now);
    expect((await updateOp({ username: 'engineer', active: false })).active).toBe(false);
    expect(() => kit.sessions.require(token, f.now)).toThrow(/log in/);
    expect((await refusal(() => authenticate(sqlite(), 'engineer', 'demo-engineer-pass', f.now))).code).toBe(
      'AUTH_INACTIVE',
    );
    expect((await updateOp({ username: 'engineer', active: true })).active).toBe(true);
    expect(authenticate(sqlite(), 'engineer', 'demo-engineer-pass', f.now).username).toBe('engineer');
  });

  it('unlocks a locked operator and sets a new password (never written to the audit trail)', async () => {
    for (let i = 0; i < MAX_FAILED_LOGINS; i++)
      await refusal(() => authenticate(sqlite(), 'super', 'wrong', f.now));
    const locked = (await call(adminHandlers, 'operators.list', {}, admin())).find(
      (o) => o.username === 'super',
    )!;
    expect(locked.lockedUntil).not.toBeNull();
    // The lock no longer shows once it has run out.
    const later = new Date(f.now.getTime() + 60 * 60_000);
    const listLater = await call(adminHandlers, 'operators.list', {}, kit.context(f.sessions.admin, later));
    expect(listLater.find((o) => o.username === 'super')!.lockedUntil).toBeNull();

    const unlocked = await updateOp({ username: 'super', unlock: true, password: 'a-brand-new-pass' });
    expect(unlocked.lockedUntil).toBeNull();
    expect(
      sqlite()
        .prepare("SELECT failed_attempts AS n, locked_until AS until FROM operator WHERE username = 'super'")
        .get(),
    ).toEqual({ n: 0, until: null });
    expect(authenticate(sqlite(), 'super', 'a-brand-new-pass', f.now).username).toBe('super');
    expect((await refusal(() => authenticate(sqlite(), 'super', 'demo-super-pass', f.now))).code).toBe(
      'AUTH_FAILED',
    );
    const audit = lastAudit();
    expect(JSON.parse(audit.details)).toEqual({ unlocked: true, passwordChanged: true });
    expect(audit.details).not.toContain('a-brand-new-pass');
  });

  it('refuses an administrator demoting or deactivating themselves, with nothing written', async () => {
    const token = kit.sessions.open(f.sessions.admin, null, f.now);
    const before = rowCount(sqlite(), 'audit_log');
    const demote = await refusal(() => updateOp({ username: 'admin', role: 'cashier' }));
    expect(demote.code).toBe('OPERATOR_SELF_CHANGE');
    expect(demote.userMessage).toContain('your own role');
    const deactivate = await refusal(() => updateOp({ username: 'admin', active: false }));
    expect(deactivate.code).toBe('OPERATOR_SELF_CHANGE');
    expect(rowCount(sqlite(), 'audit_log')).toBe(before);
    expect(kit.sessions.require(token, f.now).username).toBe('admin');
    // Their own name and password they may change.
    expect((await updateOp({ username: 'admin', displayName: 'Thandi Admin (HQ)' })).displayName).toBe(
      'Thandi Admin (HQ)',
    );
  });

  it('refuses an unknown operator and a caller without the master data permission', async () => {
    expect((await refusal(() => updateOp({ username: 'ghost', active: false }))).code).toBe(
      'OPERATOR_UNKNOWN',
    );
    const forbidden = await refusal(() =>
      updateOperator(sqlite(), f.sessions.supervisor, { username: 'cashier', active: false }, f.now),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });
});

describe('outlet settings', () => {
  it('shows the outlet, receipt width, float warning level and vending authority to any operator', async () => {
    const settings = await call(adminHandlers, 'outlet.get', {}, kit.context(f.sessions.cashier));
    expect(settings).toMatchObject({
      code: 'OUT-001',
      name: 'Seshego Spaza Vending',
      terminalId: 'T0001',
      receiptColumns: 42,
      lowFloatThresholdMinor: 100_000,
      authority: { creditLimitMinor: 1_000_000_000, usedMinor: 0 },
    });
  });

  it('edits name, receipt width and warning level (audited), and writes nothing when nothing changes', async () => {
    const updated = await call(
      adminHandlers,
      'outlet.update',
      { name: ' Seshego Vending ', receiptColumns: 48, lowFloatThresholdMinor: 250_000 },
      admin(),
    );
    expect(updated).toMatchObject({
      name: 'Seshego Vending',
      receiptColumns: 48,
      lowFloatThresholdMinor: 250_000,
    });
    expect(JSON.parse(lastAudit().details)).toEqual({
      name: { from: 'Seshego Spaza Vending', to: 'Seshego Vending' },
      receiptColumns: { from: 42, to: 48 },
      lowFloatThresholdMinor: { from: 100_000, to: 250_000 },
    });
    const before = rowCount(sqlite(), 'audit_log');
    await call(adminHandlers, 'outlet.update', { receiptColumns: 48 }, admin());
    expect(rowCount(sqlite(), 'audit_log')).toBe(before);
  });

  it('refuses a blank name, an odd receipt width and a non-admin', async () => {
    expect(
      (await refusal(() => updateOutletSettings(sqlite(), f.sessions.admin, { name: '  ' }, f.now))).code,
    ).toBe('VEND_INVALID_REQUEST');
    const width = await refusal(() =>
      updateOutletSettings(sqlite(), f.sessions.admin, { receiptColumns: 40 as 42 }, f.now),
    );
    expect(width.userMessage).toContain('32, 42, 48');
    const forbidden = await refusal(() =>
      updateOutletSettings(sqlite(), f.sessions.supervisor, { name: 'X' }, f.now),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });
});

describe('float', () => {
  it('shows the balance and its movements newest first, with the receipt of each sale', async () => {
    const sale = kit.open.engine.vend(f.sessions.cashier, {
      requestId: 'float-sale-0001',
      meterNumber: f.meterNumbers[0]!,
      tenderMinor: 5_000,
    });
    const ledger = await call(adminHandlers, 'float.ledger', {}, kit.context(f.sessions.cashier));
    const taken = sale.breakdown!.tenderMinor - sale.breakdown!.changeMinor;
    expect(ledger.balanceMinor).toBe(FIXTURE_FLOAT_MINOR - taken);
    expect(ledger.balanceMinor).toBe(sale.floatBalanceMinor);
    expect(ledger.lowFloat).toBe(false);
    expect(ledger.total).toBe(rowCount(sqlite(), 'float_movement'));
    expect(ledger.rows[0]).toMatchObject({
      kind: 'sale',
      receiptNo: sale.receiptNo,
      amountMinor: -taken,
      balanceAfterMinor: sale.floatBalanceMinor,
    });
    expect(ledger.rows.at(-1)).toMatchObject({ reference: 'demo opening float', receiptNo: null });
    const ids = ledger.rows.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(await call(adminHandlers, 'float.ledger', { offset: 100 }, admin())).toMatchObject({
      rows: [],
      total: ledger.total,
    });
  });

  it('records a top-up exactly once per request id, audited, and refuses the same id with other content', async () => {
    const before = (await call(adminHandlers, 'float.ledger', {}, admin())).balanceMinor;
    const args = { requestId: 'topup-000001', amountMinor: 500_000, reference: ' EFT 2026-03-10 #77 ' };
    const first = await call(adminHandlers, 'float.topUp', args, admin());
    expect(first.balanceMinor).toBe(before + 500_000);
    const movements = rowCount(sqlite(), 'float_movement');
    const audits = rowCount(sqlite(), 'audit_log');
    expect(lastAudit()).toMatchObject({ action: 'float.top-up', entityId: 'topup-000001' });
    // A repeat (double click, retry after a timeout) returns the same balance and moves nothing.
    expect(await call(adminHandlers, 'float.topUp', args, admin())).toEqual(first);
    expect(
      await call(adminHandlers, 'float.topUp', { ...args, reference: 'EFT 2026-03-10 #77' }, admin()),
    ).toEqual(first);
    const conflict = await refusal(() =>
      call(adminHandlers, 'float.topUp', { ...args, amountMinor: 600_000 }, admin()),
    );
    expect(conflict.code).toBe('VEND_REQUEST_CONFLICT');
    const otherRef = await refusal(() =>
      call(adminHandlers, 'float.topUp', { ...args, reference: 'EFT 78' }, admin()),
    );
    expect(otherRef.code).toBe('VEND_REQUEST_CONFLICT');
    expect([rowCount(sqlite(), 'float_movement'), rowCount(sqlite(), 'audit_log')]).toEqual([
      movements,
      audits,
    ]);
    const ledger = await call(adminHandlers, 'float.ledger', { limit: 1 }, admin());
    expect(ledger.rows[0]).toMatchObject({
      kind: 'top-up',
      amountMinor: 500_000,
      balanceAfterMinor: first.balanceMinor,
      reference: 'EFT 2026-03-10 #77',
      receiptNo: null,
    });
    expect(ledger.balanceMinor).toBe(first.balanceMinor);
    // A later top-up builds on the balance; the earlier request still replays its own balance.
    const second = await call(adminHandlers, 'float.topUp', { ...args, requestId: 'topup-000002' }, admin());
    expect(second.balanceMinor).toBe(first.balanceMinor + 500_000);
    expect(await call(adminHandlers, 'float.topUp', args, admin())).toEqual(first);
  });

  it('warns when the balance is below the warning level, and refuses a non-admin top-up', async () => {
    const ledger = await call(adminHandlers, 'float.ledger', {}, admin());
    await call(adminHandlers, 'outlet.update', { lowFloatThresholdMinor: ledger.balanceMinor + 1 }, admin());
    expect((await call(adminHandlers, 'float.ledger', {}, admin())).lowFloat).toBe(true);
    const forbidden = await refusal(() =>
      topUpFloat(
        sqlite(),
        f.sessions.supervisor,
        { requestId: 'topup-000009', amountMinor: 1, reference: 'x' },
        f.now,
      ),
    );
    expect(forbidden.code).toBe('AUTH_FORBIDDEN');
  });
});
