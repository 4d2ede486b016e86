import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, E2E_TIMEOUT, startE2E } from './support/e2e-harness.ts';
import {
  amountField,
  confirmHeading,
  customerHeading,
  meterField,
  openShiftButton,
  rand,
  resultHeading,
  seen,
  shownTokens,
  TOKEN_GROUPS,
} from './support/ui.ts';

/** Records every pointer and mouse press in the page, so the test can prove the keyboard did all the work. */
const COUNT_POINTER_PRESSES = `
  window.__pointerPresses = 0;
  for (const type of ['pointerdown', 'mousedown', 'touchstart']) {
    window.addEventListener(type, () => { window.__pointerPresses += 1; }, true);
  }
`;
const pointerPresses = (page: Page) =>
  page.locator('html').evaluate((html) => html.ownerDocument.defaultView.__pointerPresses as number);

/** The shortcuts the screen shows in its shortcut bar, as "key label" pairs. */
const shownShortcuts = (page: Page) =>
  page
    .getByRole('list', { name: 'Keyboard shortcuts' })
    .getByRole('listitem')
    .evaluateAll((items) => items.map((item) => (item.textContent ?? '').replace(/\s+/g, ' ').trim()));

describe('keyboard-only vend', () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E();
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  it(
    'logs in, opens the shift and sells with keys only (digits, Enter, F-keys as shown); one sale in the ledger',
    async () => {
      const page = await e.page();
      await page.addInitScript(COUNT_POINTER_PRESSES);
      await page.reload();
      const focused = (name: string) =>
        expect.poll(() => page.locator(':focus').getAttribute('name')).toBe(name);

      // Login: the operator field has the focus; Tab to the password, Enter logs in.
      await page.getByRole('textbox', { name: 'Operator' }).waitFor();
      await focused('username');
      await page.keyboard.type('cashier');
      await page.keyboard.press('Tab');
      await focused('password');
      await page.keyboard.type('demo-cashier-pass');
      await page.keyboard.press('Enter');

      // The open-shift button takes the focus; Enter opens the shift.
      await openShiftButton(page).waitFor();
      await expect
        .poll(() => openShiftButton(page).evaluate((b) => b === b.ownerDocument.activeElement))
        .toBe(true);
      await page.keyboard.press('Enter');

      // Meter: typed into the focused field, Enter looks it up.
      await meterField(page).waitFor();
      await focused('meterNumber');
      expect(await shownShortcuts(page)).toEqual(['Enter Next step', 'Esc Clear', 'F2 New sale']);
      await page.keyboard.type(e.meters[1]!);
      await page.getByText('Check digit correct.').waitFor();
      await page.keyboard.press('Enter');
      await customerHeading(page).waitFor();

      // Esc goes back one step, Enter comes forward again.
      expect(await shownShortcuts(page)).toEqual(['Enter Next step', 'Esc Back one step', 'F2 New sale']);
      await page.keyboard.press('Escape');
      await meterField(page).waitFor();
      expect(await meterField(page).inputValue()).toBe(e.meters[1]);
      await page.keyboard.press('Enter');
      await customerHeading(page).waitFor();
      await expect
        .poll(() =>
          page
            .getByRole('button', { name: /^Customer confirmed/ })
            .evaluate((b) => b === b.ownerDocument.activeElement),
        )
        .toBe(true);
      await page.keyboard.press('Enter');

      // Amount: typed, Enter waits for the quote of exactly this amount and moves on.
      await amountField(page).waitFor();
      await focused('amount');
      await page.keyboard.type('75');
      await page.keyboard.press('Enter');
      await confirmHeading(page).waitFor();
      expect(await seen(page.locator('.ov-confirm'))).toContain(`Sell ${rand(7_500)}`);

      // Confirm: Enter sells.
      expect(e.counts().sale).toBe(0);
      await page.keyboard.press('Enter');
      await resultHeading(page).waitFor();
      const [token] = await shownTokens(page);
      expect(token?.shown).toMatch(TOKEN_GROUPS);
      expect(await shownShortcuts(page)).toEqual([
        'F8 Print',
        'F9 Reprint',
        'F10 Write to card',
        'F2 New sale',
      ]);

      // F8: the print preview; Esc closes it.
      await page.keyboard.press('F8');
      const preview = page.getByRole('dialog', { name: 'Receipt' });
      await preview.waitFor();
      expect(await seen(preview)).toContain(token!.shown);
      await page.keyboard.press('Escape');
      await preview.waitFor({ state: 'detached' });

      // F9: the reprint, marked COPY.
      await page.keyboard.press('F9');
      const copy = page.getByRole('dialog', { name: 'Receipt (copy)' });
      await copy.waitFor();
      expect(await seen(copy)).toContain('COPY');
      await page.keyboard.press('Escape');
      await copy.waitFor({ state: 'detached' });

      // F3 shows the sale in the history, F2 comes back, F2 again starts a new sale.
      await page.keyboard.press('F3');
      await page.getByRole('heading', { name: 'History', level: 1 }).waitFor();
      const row = page.getByRole('grid', { name: 'Sales' }).getByRole('row').nth(1);
      await expect.poll(() => seen(row)).toContain(e.meters[1]!);
      await page.keyboard.press('F2');
      await resultHeading(page).waitFor();
      await page.keyboard.press('F2');
      await meterField(page).waitFor();
      await focused('meterNumber');
      expect(await meterField(page).inputValue()).toBe('');

      expect(await pointerPresses(page)).toBe(0);
      const sales = e.query<{ id: number; tender_minor: number; kind: string }>(
        'SELECT id, tender_minor, kind FROM sale',
      );
      expect(sales).toEqual([{ id: sales[0]!.id, tender_minor: 7_500, kind: 'sale' }]);
      expect(e.query('SELECT digits FROM token WHERE sale_id = ?', sales[0]!.id)).toEqual([
        { digits: token!.digits },
      ]);
    },
    E2E_TIMEOUT,
  );
});
