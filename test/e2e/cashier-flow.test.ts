import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, E2E_TIMEOUT, startE2E } from './support/e2e-harness.ts';
import {
  amountField,
  confirmHeading,
  customerHeading,
  kwh,
  meterField,
  openShiftButton,
  quoteTotal,
  rand,
  readKeyValues,
  resultHeading,
  seen,
  sellButton,
  shownTokens,
  TOKEN_GROUPS,
} from './support/ui.ts';

/**
 * The cashier's whole day in one outlet: log in, open the shift, sell to demo meter 1 (arrears, inclining block)
 * with the live quote, print and reprint, then close the shift with a blind count that is short. Each step checks
 * the screen and then the ledger under it. The tests run in order and share one page (one cashier session).
 */
describe('cashier flow: login → shift → confirm → quote → sell → reprint → close with variance', () => {
  let e: E2E;
  let page: Page;
  let cashierId: number;
  const receipt = { no: 0, text: '' };

  beforeAll(async () => {
    e = await startE2E();
    page = await e.page();
    cashierId = e.query<{ id: number }>("SELECT id FROM operator WHERE username = 'cashier'")[0]!.id;
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  it(
    'logs in and opens the shift from the vend screen',
    async () => {
      await e.login(page, 'cashier');
      await openShiftButton(page).waitFor();
      const status = page.getByRole('region', { name: 'Status' });
      await expect.poll(() => seen(status)).toContain('Lerato Cashier (Cashier)');
      expect(await seen(status)).toContain('none open');
      expect(e.query('SELECT id FROM shift WHERE operator_id = ?', cashierId)).toEqual([]);

      await openShiftButton(page).click();
      await meterField(page).waitFor();
      await expect.poll(() => seen(status)).toMatch(/Shift: open since \d{2}:\d{2}/);
      const shifts = e.query<{ closed_at: string | null }>(
        'SELECT closed_at FROM shift WHERE operator_id = ?',
        cashierId,
      );
      expect(shifts).toEqual([{ closed_at: null }]);
      expect(e.query("SELECT action FROM audit_log WHERE action = 'shift.open'")).toHaveLength(1);
    },
    E2E_TIMEOUT,
  );

  it(
    'checks the meter digit by digit and shows the customer (name, address, arrears) before any amount',
    async () => {
      const meterNo = e.meters[0]!;
      await meterField(page).fill(meterNo.slice(0, 8));
      await page.getByText('Digits typed: 8').waitFor();
      await meterField(page).fill(meterNo);
      await page.getByText('Check digit correct.').waitFor();
      await meterField(page).press('Enter');
      await customerHeading(page).waitFor();

      const [customer] = e.query<{ name: string; address: string; account_no: string; arrears: number }>(
        `SELECT c.name, c.address, c.account_no, d.balance_minor AS arrears
           FROM meter m JOIN customer c ON c.id = m.customer_id JOIN debt d ON d.customer_id = c.id
          WHERE m.meter_no = ?`,
        meterNo,
      );
      const panel = page.getByRole('region', { name: 'Check the customer' });
      await expect.poll(() => seen(panel)).toContain(customer!.name);
      expect(await seen(panel.locator('[data-meter-no]'))).toBe('0404 0000 0019');
      const details = await readKeyValues(panel);
      expect(details).toMatchObject({
        Account: customer!.account_no,
        Address: customer!.address,
        Arrears: rand(customer!.arrears),
        'Last purchase': 'Never',
      });
      expect(customer!.arrears).toBeGreaterThan(0);
      // No amount is taken before the customer is confirmed.
      expect(await amountField(page).count()).toBe(0);
    },
    E2E_TIMEOUT,
  );

  it(
    'takes the amount with a live quote, sells, and shows the token in 4-4-4-4-4 exactly as the ledger has it',
    async () => {
      await page.getByRole('button', { name: /^Customer confirmed/ }).click();
      await amountField(page).fill('100');
      await expect.poll(() => seen(quoteTotal(page))).toBe(rand(10_000));
      const quote = await readKeyValues(page.locator('.ov-amount__quote'));
      expect(Object.keys(quote)).toEqual(
        expect.arrayContaining(['Units', 'Recovered: Arrears', 'Arrears still owed', 'Energy', 'VAT 15%']),
      );
      expect(await seen(page.locator('.ov-amount'))).toContain(`= ${rand(10_000)}`);

      await amountField(page).press('Enter');
      await confirmHeading(page).waitFor();
      expect(await seen(page.locator('.ov-confirm [data-meter-no]'))).toBe('0404 0000 0019');
      const before = e.counts();
      expect(before.sale).toBe(0);
      await sellButton(page).click();
      await resultHeading(page).waitFor();

      const tokens = await shownTokens(page);
      expect(tokens).toHaveLength(1);
      expect(tokens[0]!.label).toBe('Credit token');
      expect(tokens[0]!.shown).toMatch(TOKEN_GROUPS);

      const sales = e.query<{
        id: number;
        receipt_no: number;
        tender_minor: number;
        change_minor: number;
        units: number;
        operator_id: number;
        shift_id: number;
      }>('SELECT id, receipt_no, tender_minor, change_minor, units, operator_id, shift_id FROM sale');
      expect(sales).toHaveLength(1);
      const sale = sales[0]!;
      expect(sale).toMatchObject({ tender_minor: 10_000, operator_id: cashierId });
      const ledgerTokens = e.query<{ digits: string; kind: string }>(
        'SELECT digits, kind FROM token WHERE sale_id = ? ORDER BY seq',
        sale.id,
      );
      expect(ledgerTokens).toEqual([{ digits: tokens[0]!.digits, kind: 'credit' }]);
      expect(tokens[0]!.shown.replace(/ /g, '')).toBe(ledgerTokens[0]!.digits);

      // The quote the cashier saw is what was booked, line by line.
      const lines = e.query<{ kind: string; amount: number; units: number }>(
        'SELECT kind, amount_minor + vat_minor AS amount, units FROM sale_line WHERE sale_id = ?',
        sale.id,
      );
      const line = (kind: string) => lines.find((l) => l.kind === kind)!;
      expect(quote.Units).toBe(kwh(sale.units));
      expect(quote['Recovered: Arrears']).toBe(rand(line('debt').amount));
      expect(quote.Energy).toBe(rand(line('energy').amount));
      expect(quote['VAT 15%']).toBe(rand(line('vat').amount));
      expect(quote['Change to give']).toBe(rand(sale.change_minor));
      const charge = Object.entries(quote).find(([label]) => label.startsWith('Service charge'));
      expect(charge?.[1]).toBe(rand(line('fixed-charge').amount));

      receipt.no = sale.receipt_no;
      receipt.text = `T0001-${String(sale.receipt_no).padStart(8, '0')}`;
      expect(await seen(page.locator('.ov-result__receipt'))).toContain(`Receipt ${receipt.text}`);
      const [outlet] = e.query<{ float: number }>('SELECT float_balance_minor AS float FROM outlet');
      await expect
        .poll(() => seen(page.getByRole('region', { name: 'Status' })))
        .toContain(`Float: ${rand(outlet!.float)}`);
    },
    E2E_TIMEOUT,
  );

  it(
    'prints to the on-screen preview with the token, and a reprint is marked COPY and audited',
    async () => {
      const [token] = await shownTokens(page);
      await page.getByRole('button', { name: /^Print/ }).click();
      const preview = page.getByRole('dialog', { name: 'Receipt' });
      await preview.waitFor();
      const slip = preview.getByRole('figure', { name: `Receipt ${receipt.text}` });
      expect(await seen(slip)).toContain(token!.shown);
      expect(await seen(slip)).not.toContain('COPY');
      expect(await seen(preview)).toContain('No receipt printer is set up yet');
      expect(e.query("SELECT seq FROM audit_log WHERE action = 'sale.reprint'")).toEqual([]);
      await preview.getByRole('button', { name: /^Close/ }).click();
      await preview.waitFor({ state: 'detached' });

      await page.getByRole('button', { name: /^Reprint/ }).click();
      const copy = page.getByRole('dialog', { name: 'Receipt (copy)' });
      await copy.waitFor();
      const copySlip = copy.getByRole('figure', { name: `Receipt ${receipt.text}` });
      expect(await seen(copySlip.locator('figcaption'))).toContain('COPY');
      expect(await seen(copySlip.locator('pre'))).toContain('*** REPRINT - COPY ***');
      expect(await seen(copySlip.locator('pre'))).toContain(token!.shown);
      expect(
        e.query('SELECT operator_id, entity, entity_id FROM audit_log WHERE action = ?', 'sale.reprint'),
      ).toEqual([{ operator_id: cashierId, entity: 'sale', entity_id: String(receipt.no) }]);
      await page.keyboard.press('Escape');
      await copy.waitFor({ state: 'detached' });
    },
    E2E_TIMEOUT,
  );

  it(
    'closes the shift with a blind count that is short: variance shown, Z report stored with the declared cash',
    async () => {
      const [sale] = e.query<{ cash: number; shift_id: number }>(
        'SELECT tender_minor - change_minor AS cash, shift_id FROM sale',
      );
      const declared = sale!.cash - 1_000;
      await page.getByRole('button', { name: /^Shift/ }).click();
      await page.getByRole('heading', { name: 'Shift', level: 1 }).waitFor();
      await page.getByRole('button', { name: /^Close shift/ }).click();
      const dialog = page.getByRole('alertdialog', { name: 'Close shift: count the cash' });
      await dialog.waitFor();
      // Blind: the expected cash is nowhere on screen while counting.
      expect(await seen(page.locator('body'))).not.toContain(rand(sale!.cash));
      await dialog.getByRole('textbox', { name: 'Cash counted in the drawer' }).fill(rand(declared).slice(2));
      await dialog.getByRole('button', { name: /^Close shift/ }).click();

      const done = page.getByRole('alertdialog', { name: 'Shift closed: Z report 1' });
      await done.waitFor();
      await done.getByText(`Short by ${rand(1_000)}`).waitFor();
      expect(await readKeyValues(done.locator('.ov-notice'))).toEqual({
        'Cash counted': rand(declared),
        'Cash expected': rand(sale!.cash),
        Difference: rand(-1_000),
      });
      const z = await seen(done.getByRole('figure', { name: 'Z report 1' }));
      expect(z).toContain('Z REPORT #1');
      expect(z).toMatch(/Declared cash \(blind\)\s+89\.90/);

      expect(
        e.query(
          'SELECT z_number, declared_cash_minor, expected_cash_minor, closed_at IS NOT NULL AS closed FROM shift WHERE id = ?',
          sale!.shift_id,
        ),
      ).toEqual([{ z_number: 1, declared_cash_minor: declared, expected_cash_minor: sale!.cash, closed: 1 }]);
      // The same Z report through the CLI, as a supervisor would reprint it.
      const cli = await e.cli(['shift', 'reprint', '1', '--operator', 'super', '--json'], {
        password: 'demo-super-pass',
      });
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.json<{ cash: { declaredMinor: number; varianceMinor: number } }>()).toMatchObject({
        cash: { declaredMinor: declared, varianceMinor: -1_000 },
      });

      await done.getByRole('button', { name: 'Close' }).click();
      const row = page.getByRole('grid', { name: 'Closed shifts (Z reports)' }).getByRole('row').nth(1);
      await expect.poll(() => seen(row)).toContain('(short)');
      expect(await seen(row)).toContain(rand(declared));
      await expect
        .poll(() => seen(page.getByRole('region', { name: 'Status' })))
        .toContain('Shift: none open');
    },
    E2E_TIMEOUT,
  );

  it(
    'leaves an audit chain that checks out (CLI audit verify) with every step of the day in it',
    async () => {
      const verify = await e.cli(['audit', 'verify', '--json']);
      expect(verify.code, verify.stderr).toBe(0);
      const [{ n } = { n: 0 }] = e.query<{ n: number }>('SELECT count(*) AS n FROM audit_log');
      expect(verify.json()).toEqual({ ok: true, entries: n, problems: [] });
      const actions = e.query<{ action: string }>(
        "SELECT action FROM audit_log WHERE action IN ('shift.open', 'sale.sale', 'sale.reprint', 'shift.close') ORDER BY seq",
      );
      expect(actions.map((row) => row.action)).toEqual([
        'shift.open',
        'sale.sale',
        'sale.reprint',
        'shift.close',
      ]);
    },
    E2E_TIMEOUT,
  );
});
