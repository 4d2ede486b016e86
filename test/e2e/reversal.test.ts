import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, E2E_TIMEOUT, startE2E } from './support/e2e-harness.ts';
import { choose, ensureShiftOpen, rand, seen, sellByClicks } from './support/ui.ts';

/**
 * A cashier reverses their own sale in History; a supervisor approves on the spot with their own name and
 * password. The tests share one cashier page and run in order: refusals first (nothing written), then the reversal.
 */
describe('supervisor-approved reversal from History', () => {
  let e: E2E;
  let page: Page;
  let dialog: Locator;
  let sale: { id: number; receipt_no: number; shift_id: number; operator_id: number; cash: number };

  const reversalRows = () => e.query('SELECT id FROM sale WHERE kind = ?', 'reversal');
  const fillApproval = async (username: string, password: string) => {
    await dialog.getByRole('textbox', { name: 'Supervisor', exact: true }).fill(username);
    await dialog.getByRole('textbox', { name: 'Supervisor password' }).fill(password);
    await dialog.getByRole('button', { name: 'Reverse sale', exact: true }).click();
  };

  beforeAll(async () => {
    e = await startE2E();
    page = await e.page();
    await e.login(page, 'cashier');
    await ensureShiftOpen(page);
    await sellByClicks(page, e.meters[1]!, '80');
    [sale] = e.query<typeof sale>(
      'SELECT id, receipt_no, shift_id, operator_id, tender_minor - change_minor AS cash FROM sale',
    ) as [typeof sale];
    await page.getByRole('button', { name: /^History/ }).click();
    const row = page.getByRole('grid', { name: 'Sales' }).getByRole('row').nth(1);
    await row.getByText('T0001-00000001').waitFor();
    await row.click();
    await page.getByRole('button', { name: /^Reverse sale/ }).click();
    dialog = page.getByRole('alertdialog', { name: 'Reverse sale T0001-00000001' });
    await dialog.waitFor();
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  it(
    'shows what is reversed and asks for a reason and the supervisor before anything is sent',
    async () => {
      const text = await seen(dialog);
      expect(text).toContain(e.meters[1]!);
      expect(text).toContain(rand(sale.cash));
      const before = e.counts();
      await dialog.getByRole('button', { name: 'Reverse sale', exact: true }).click();
      await dialog.getByText('Choose a reason.').waitFor();
      await dialog.getByText('The supervisor types their operator name.').waitFor();
      await dialog.getByText('The supervisor types their password.').waitFor();
      expect(e.counts()).toEqual(before);
    },
    E2E_TIMEOUT,
  );

  it(
    "refuses a wrong supervisor password with a clear message and writes nothing (it counts to the supervisor's lockout)",
    async () => {
      await choose(page, dialog, 'Reason', 'Wrong amount');
      const before = e.counts();
      await fillApproval('super', 'not-the-password');
      const alert = dialog.getByRole('alert');
      await alert.waitFor();
      expect(await seen(alert)).toContain('Not reversed');
      expect(await seen(alert)).toContain('Wrong operator name or password.');
      expect(await seen(alert)).toContain('Code: AUTH_FAILED');
      // The typed password is cleared so it is typed again.
      expect(await dialog.getByRole('textbox', { name: 'Supervisor password' }).inputValue()).toBe('');

      expect(e.counts()).toEqual(before);
      expect(reversalRows()).toEqual([]);
      expect(e.query("SELECT failed_attempts FROM operator WHERE username = 'super'")).toEqual([
        { failed_attempts: 1 },
      ]);
    },
    E2E_TIMEOUT,
  );

  it(
    "refuses the cashier's own credentials: a cashier may not approve a reversal",
    async () => {
      const before = e.counts();
      await fillApproval('cashier', 'demo-cashier-pass');
      await dialog.getByText('Your role may not do this.').waitFor();
      expect(await seen(dialog.getByRole('alert'))).toContain('AUTH_FORBIDDEN');
      expect(e.counts()).toEqual(before);
      expect(reversalRows()).toEqual([]);
    },
    E2E_TIMEOUT,
  );

  it(
    "reverses with the supervisor's password and a reason: credit note shown, reversal on the cashier's shift",
    async () => {
      const [floatBefore] = e.query<{ float: number }>('SELECT float_balance_minor AS float FROM outlet');
      await dialog.getByRole('textbox', { name: 'Note (optional)' }).fill('customer paid 80 for 8');
      await fillApproval('super', 'demo-super-pass');
      const done = page.getByRole('alertdialog', { name: 'Sale reversed' });
      await done.waitFor();
      expect(await seen(done)).toContain(
        'Credit note T0001-00000002 was made. Give the customer their money back.',
      );
      const note = await seen(done.getByRole('figure', { name: 'Credit note T0001-00000002' }));
      expect(note).toContain('REVERSAL - CREDIT NOTE');
      expect(note).toContain('Reverses receipt T0001-00000001');
      expect(note).toContain('Approved by Sipho Supervisor.');
      expect(note).toMatch(/TOTAL\s+-79\.90/);

      const [reversal] = e.query<Record<string, unknown>>(
        "SELECT id, receipt_no, operator_id, shift_id, reverses_sale_id, reason_code FROM sale WHERE kind = 'reversal'",
      );
      expect(reversal).toMatchObject({
        receipt_no: 2,
        operator_id: sale.operator_id,
        shift_id: sale.shift_id,
        reverses_sale_id: sale.id,
        reason_code: 'wrong-amount',
      });
      expect(
        e.query('SELECT kind, amount_minor FROM float_movement WHERE sale_id = ?', reversal!.id),
      ).toEqual([{ kind: 'reversal', amount_minor: sale.cash }]);
      expect(e.query('SELECT float_balance_minor AS float FROM outlet')).toEqual([
        { float: floatBefore!.float + sale.cash },
      ]);
      const [audit] = e.query<{ operator_id: number; details_json: string }>(
        "SELECT operator_id, details_json FROM audit_log WHERE action = 'sale.reversal'",
      );
      expect(audit!.operator_id).toBe(sale.operator_id);
      expect(JSON.parse(audit!.details_json)).toMatchObject({
        reverses: 1,
        reason: 'wrong-amount',
        approvedBy: 'super',
      });
      // A successful approval clears the supervisor's failed attempts.
      expect(e.query("SELECT failed_attempts FROM operator WHERE username = 'super'")).toEqual([
        { failed_attempts: 0 },
      ]);

      await done.getByRole('button', { name: 'Close' }).click();
      const grid = page.getByRole('grid', { name: 'Sales' });
      await grid.getByText('Reversed by no. 2').waitFor();
      await grid.getByText('Reverses no. 1').waitFor();
      expect(await seen(grid.getByRole('row').nth(1))).toContain(rand(-sale.cash));
    },
    E2E_TIMEOUT,
  );
});
