import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, E2E_TIMEOUT, startE2E } from './support/e2e-harness.ts';
import {
  amountAndContinue,
  customerHeading,
  ensureShiftOpen,
  meterField,
  resultHeading,
  seen,
  sellButton,
  shownTokens,
} from './support/ui.ts';

interface JobRow {
  carrier: string;
  copy: number;
  state: string;
  error_code: string | null;
}

const digitsOnly = (text: string) => text.replace(/\D/g, '');

/**
 * The simulated devices (`--simulate-devices`) from the cashier's side: the meter card fills the meter number, the
 * receipt goes to the simulated printer (its page holds the token and the amounts), a copy is marked COPY, the
 * tokens are written to the simulated magnetic card and checked, and the card is read back. Then the device
 * settings as the administrator sees them. Each step checks the screen, then the carrier_job table.
 */
describe('devices: vend, print to the simulated printer, write and read the simulated card', () => {
  let e: E2E;
  let page: Page;
  const sale = { receiptNo: 0, token: '', tender: 0 };
  const jobs = () =>
    e.query<JobRow>(
      'SELECT carrier, copy, state, error_code FROM carrier_job WHERE receipt_no = ? ORDER BY created_at, rowid',
      sale.receiptNo,
    );

  beforeAll(async () => {
    e = await startE2E({ simulateDevices: true });
    page = await e.page();
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  it(
    'reads the meter card on the meter step and goes on as if the number was typed',
    async () => {
      await e.login(page, 'cashier');
      await ensureShiftOpen(page);
      const read = page.getByRole('button', { name: /^Read meter card/ });
      await read.waitFor();
      expect(await seen(page.getByRole('list', { name: 'Keyboard shortcuts' }))).toContain('Read meter card');
      await read.click();
      await customerHeading(page).waitFor();
      const panel = page.getByRole('region', { name: 'Check the customer' });
      const [meter] = e.query<{ meter_no: string }>('SELECT meter_no FROM meter ORDER BY id LIMIT 1');
      expect(digitsOnly(await seen(panel.locator('[data-meter-no]')))).toBe(meter!.meter_no);
    },
    E2E_TIMEOUT,
  );

  it(
    'prints the original to the simulated printer: its page holds the token and the amounts',
    async () => {
      await amountAndContinue(page, '50');
      await sellButton(page).click();
      await resultHeading(page).waitFor();
      const [token] = await shownTokens(page);
      const [row] = e.query<{ receipt_no: number; tender_minor: number }>(
        'SELECT receipt_no, tender_minor FROM sale',
      );
      sale.receiptNo = row!.receipt_no;
      sale.tender = row!.tender_minor;
      sale.token = token!.digits;
      expect(jobs()).toEqual([]);

      await page.getByRole('button', { name: /^Print/ }).click();
      await page.getByText('Receipt printed ✓').waitFor();
      expect(jobs()).toEqual([{ carrier: 'receipt', copy: 0, state: 'confirmed', error_code: null }]);

      await page.getByRole('button', { name: 'Show the printed receipt' }).click();
      const dialog = page.getByRole('dialog', { name: 'Printed receipt' });
      await dialog.waitFor();
      const printed = await seen(dialog.locator('pre'));
      expect(digitsOnly(printed)).toContain(sale.token);
      expect(printed).toContain('50.00');
      expect(printed).not.toContain('COPY');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    },
    E2E_TIMEOUT,
  );

  it(
    'reprints with F9 as an explicit copy, marked COPY on the page and in the ledger',
    async () => {
      await page.keyboard.press('F9');
      await page.getByText('Copy printed ✓ (marked COPY)').waitFor();
      expect(jobs()).toEqual([
        { carrier: 'receipt', copy: 0, state: 'confirmed', error_code: null },
        { carrier: 'receipt', copy: 1, state: 'confirmed', error_code: null },
      ]);
      await page.getByRole('button', { name: 'Show the printed receipt' }).click();
      const dialog = page.getByRole('dialog', { name: 'Printed receipt' });
      const printed = await seen(dialog.locator('pre'));
      expect(printed).toContain('COPY');
      expect(digitsOnly(printed)).toContain(sale.token);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    },
    E2E_TIMEOUT,
  );

  it(
    'writes the tokens to the simulated magnetic card and counts it only after the read-back matched',
    async () => {
      await page.getByRole('button', { name: /^Write to card/ }).click();
      await page.getByText('Written to the card and checked ✓').waitFor();
      expect(await seen(page.locator('.ov-result'))).toContain('1 token for meter');
      expect(jobs().filter((job) => job.carrier === 'magnetic-card')).toEqual([
        { carrier: 'magnetic-card', copy: 0, state: 'verified', error_code: null },
      ]);
    },
    E2E_TIMEOUT,
  );

  it(
    'reads the written card back with F10 on a new sale: the meter number is filled in',
    async () => {
      await page.getByRole('button', { name: /^New sale/ }).click();
      await meterField(page).waitFor();
      expect(await meterField(page).inputValue()).toBe('');
      await page.keyboard.press('F10');
      await customerHeading(page).waitFor();
      const [meter] = e.query<{ meter_no: string }>('SELECT meter_no FROM meter ORDER BY id LIMIT 1');
      expect(await meterField(page).count()).toBe(0);
      const panel = page.getByRole('region', { name: 'Check the customer' });
      expect(digitsOnly(await seen(panel.locator('[data-meter-no]')))).toBe(meter!.meter_no);
    },
    E2E_TIMEOUT,
  );

  it(
    'shows the device settings to the administrator: live status, a test print and a test card read',
    async () => {
      const admin = await e.page();
      await e.login(admin, 'admin');
      await admin
        .getByRole('navigation', { name: 'Screens' })
        .getByRole('button', { name: /^Admin/ })
        .click();
      await admin.getByRole('tab', { name: 'Devices' }).click();
      const printer = admin.getByRole('region', { name: 'Receipt printer' });
      await expect.poll(() => seen(printer)).toContain('Ready');
      expect(await seen(printer)).toContain('Paper OK');
      expect(await seen(admin.getByRole('region', { name: 'Magnetic card encoder' }))).toContain('Simulator');

      const before = e.query<{ n: number }>(
        "SELECT count(*) AS n FROM carrier_job WHERE carrier = 'test-print'",
      )[0]!.n;
      await admin.getByRole('button', { name: 'Test print' }).click();
      await admin.getByText('Test page printed ✓').waitFor();
      expect(await seen(admin.getByRole('figure', { name: 'Test page' }))).toMatch(/[éçã€]/);
      expect(
        e.query<{ n: number }>("SELECT count(*) AS n FROM carrier_job WHERE carrier = 'test-print'")[0]!.n,
      ).toBe(before + 1);

      await admin.getByRole('button', { name: 'Read a meter card' }).click();
      const [meter] = e.query<{ meter_no: string }>('SELECT meter_no FROM meter ORDER BY id LIMIT 1');
      await admin.getByText(`Card read ✓ meter ${meter!.meter_no}`).waitFor();
      await e.screenshot(admin, 'devices-settings');
    },
    E2E_TIMEOUT,
  );
});
