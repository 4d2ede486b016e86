import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, E2E_TIMEOUT, startE2E } from './support/e2e-harness.ts';
import {
  amountAndContinue,
  customerHeading,
  ensureShiftOpen,
  resultHeading,
  seen,
  sellButton,
  shownTokens,
} from './support/ui.ts';

interface JobRow {
  copy: number;
  state: string;
  error_code: string | null;
}

const digitsOnly = (text: string) => text.replace(/\D/g, '');

/**
 * A print failure end to end: the simulated printer runs out of paper (scripted through the test-only status file
 * that OPENVEND_SIMULATED_PRINTER_STATUS points to; the engine thread inherits this process's environment), the
 * cashier is told to load paper and press Reprint, the ledger records the job as failed; once paper is loaded,
 * Reprint prints the original (not a copy), shown as text and as an image.
 */
describe('devices: the printer runs out of paper, paper is loaded, Reprint prints the original', () => {
  let e: E2E;
  let page: Page;
  const scriptDir = mkdtempSync(join(tmpdir(), 'openvend-printer-script-'));
  const statusFile = join(scriptDir, 'printer-status.json');
  const script = (status: { paperEnd: boolean }) => writeFileSync(statusFile, JSON.stringify(status));
  const sale = { receiptNo: 0, token: '' };
  const jobs = () =>
    e.query<JobRow>(
      "SELECT copy, state, error_code FROM carrier_job WHERE receipt_no = ? AND carrier = 'receipt' ORDER BY created_at, rowid",
      sale.receiptNo,
    );

  beforeAll(async () => {
    script({ paperEnd: false });
    process.env.OPENVEND_SIMULATED_PRINTER_STATUS = statusFile;
    e = await startE2E({ simulateDevices: true });
    page = await e.page();
  }, E2E_TIMEOUT);
  afterAll(async () => {
    delete process.env.OPENVEND_SIMULATED_PRINTER_STATUS;
    await e?.close();
    rmSync(scriptDir, { recursive: true, force: true });
  });

  it(
    'refuses to print without paper: the cashier is told to load paper and press Reprint; the job is failed',
    async () => {
      await e.login(page, 'cashier');
      await ensureShiftOpen(page);
      await page.getByRole('button', { name: /^Read meter card/ }).click();
      await customerHeading(page).waitFor();
      await amountAndContinue(page, '50');
      await sellButton(page).click();
      await resultHeading(page).waitFor();
      const [token] = await shownTokens(page);
      const [row] = e.query<{ receipt_no: number }>('SELECT receipt_no FROM sale');
      sale.receiptNo = row!.receipt_no;
      sale.token = token!.digits;

      script({ paperEnd: true });
      await page.getByRole('button', { name: /^Print/ }).click();
      const failure = page.getByText('The receipt did not print. Load paper, then press Reprint.');
      await failure.waitFor();
      await page.getByText(/The printer is out of paper/).waitFor();
      expect(await page.getByRole('button', { name: 'Show the printed receipt' }).count()).toBe(0);
      expect(jobs()).toEqual([{ copy: 0, state: 'failed', error_code: 'PRINTER_PAPER_END' }]);
    },
    E2E_TIMEOUT,
  );

  it(
    'prints the original with Reprint once paper is loaded: not marked COPY, shown as text and as an image',
    async () => {
      script({ paperEnd: false });
      await page.getByRole('button', { name: /^Reprint/ }).click();
      await page.getByText('Receipt printed ✓').waitFor();
      expect(jobs()).toEqual([
        { copy: 0, state: 'failed', error_code: 'PRINTER_PAPER_END' },
        { copy: 0, state: 'confirmed', error_code: null },
      ]);

      await page.getByRole('button', { name: 'Show the printed receipt' }).click();
      const dialog = page.getByRole('dialog', { name: 'Printed receipt' });
      await dialog.waitFor();
      const printed = await seen(dialog.locator('pre'));
      expect(digitsOnly(printed)).toContain(sale.token);
      expect(printed).toContain('50.00');
      expect(printed).not.toContain('COPY');
      const image = dialog.getByRole('img', { name: 'The receipt as printed (image)' });
      expect(await image.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
      // The image really rendered (a broken data: URL has no natural size).
      expect(
        await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      ).toBeGreaterThan(100);
      await e.screenshot(page, 'devices-printed-image');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    },
    E2E_TIMEOUT,
  );
});
