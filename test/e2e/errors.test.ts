import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, E2E_TIMEOUT, startE2E } from './support/e2e-harness.ts';
import {
  amountAndContinue,
  amountField,
  confirmHeading,
  customerHeading,
  ensureShiftOpen,
  findMeter,
  meterField,
  rand,
  resultHeading,
  seen,
  sellButton,
  unregisteredMeterNo,
  withWrongCheckDigit,
} from './support/ui.ts';

/**
 * Every refusal a cashier can meet: what the screen says, and that the ledger did not change (no sale, token,
 * float movement, audit entry or sync event). One outlet; each test opens its own page as the cashier.
 */
describe('error states: the message the cashier sees, and nothing written', () => {
  let e: E2E;

  const cashierPage = async (): Promise<Page> => {
    const page = await e.page();
    await e.login(page, 'cashier');
    await ensureShiftOpen(page);
    return page;
  };

  beforeAll(async () => {
    e = await startE2E();
    // The shift is opened once here, so the tests' "nothing written" compares only what they do.
    await cashierPage();
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  it(
    'unknown meter (right check digit, not registered): "not registered at this outlet"',
    async () => {
      const page = await cashierPage();
      const before = e.counts();
      await meterField(page).fill(unregisteredMeterNo());
      await page.getByText('Check digit correct.').waitFor();
      await meterField(page).press('Enter');
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await seen(alert)).toContain('Meter not found');
      expect(await seen(alert)).toContain('This meter number is not registered at this outlet.');
      expect(await seen(alert)).toContain('Check the number with the customer');
      expect(await seen(alert)).toContain('Code: METER_UNKNOWN');
      expect(await customerHeading(page).count()).toBe(0);
      expect(e.counts()).toEqual(before);
    },
    E2E_TIMEOUT,
  );

  it(
    'bad check digit: said live while typing, with the digit it should be; Enter looks nothing up',
    async () => {
      const page = await cashierPage();
      const before = e.counts();
      const good = e.meters[0]!;
      await meterField(page).fill(withWrongCheckDigit(good));
      await page
        .getByText(`Check digit should be ${good.slice(-1)}. Check the number on the meter.`)
        .waitFor();
      expect(await meterField(page).getAttribute('aria-invalid')).toBe('true');
      await meterField(page).press('Enter');
      await page.getByRole('button', { name: /^Find meter/ }).click();
      // Still on the meter step with the same message: no lookup was made.
      expect(await page.getByText(/^Check digit should be/).count()).toBe(1);
      expect(await customerHeading(page).count()).toBe(0);
      expect(await page.getByRole('alert').count()).toBe(0);
      expect(e.counts()).toEqual(before);

      // Fixing the last digit makes it valid at once.
      await meterField(page).fill(good);
      await page.getByText('Check digit correct.').waitFor();
      expect(await meterField(page).getAttribute('aria-invalid')).toBeNull();
    },
    E2E_TIMEOUT,
  );

  it(
    'blocked meter: the customer panel says so with the reason and offers no way to take an amount',
    async () => {
      const page = await cashierPage();
      const before = e.counts();
      await findMeter(page, e.meters[6]!);
      const blocked = page.getByRole('alert');
      await blocked.waitFor();
      expect(await seen(blocked)).toContain('This meter is blocked');
      expect(await seen(blocked)).toContain('Reason: Tamper reported by field inspection');
      expect(await seen(blocked)).toContain("Do not take money. Refer the customer to the utility's office.");
      expect(await page.getByRole('button', { name: /^Customer confirmed/ }).count()).toBe(0);
      // Enter (the focused "Another meter") goes back to the meter number, never to an amount.
      await page.keyboard.press('Enter');
      await meterField(page).waitFor();
      expect(await amountField(page).count()).toBe(0);
      expect(e.counts()).toEqual(before);
      expect(e.query('SELECT blocked FROM meter WHERE meter_no = ?', e.meters[6])).toEqual([{ blocked: 1 }]);
    },
    E2E_TIMEOUT,
  );

  it(
    "amount below the minimum or above the maximum: the field says the limit and the sale can't go on",
    async () => {
      const page = await cashierPage();
      const before = e.counts();
      await findMeter(page, e.meters[1]!);
      await page.getByRole('button', { name: /^Customer confirmed/ }).click();
      const [limits] = e.query<{ min: number; max: number }>(
        `SELECT v.min_vend_minor AS min, v.max_vend_minor AS max FROM tariff_version v
           JOIN meter m ON m.tariff_id = v.tariff_id WHERE m.meter_no = ?`,
        e.meters[1],
      );
      const continueButton = page.getByRole('button', { name: /^Continue/ });
      await amountField(page).fill('5');
      await page.getByText(`The minimum is ${rand(limits!.min)}.`).waitFor();
      expect(await amountField(page).getAttribute('aria-invalid')).toBe('true');
      expect(await continueButton.isDisabled()).toBe(true);
      await amountField(page).press('Enter');
      expect(await confirmHeading(page).count()).toBe(0);
      expect(await seen(page.locator('.ov-amount__quote'))).toContain(
        'Type an amount to see the units and the breakdown.',
      );

      await amountField(page).fill('5000.01');
      await page.getByText(`The maximum is ${rand(limits!.max)}.`).waitFor();
      expect(await continueButton.isDisabled()).toBe(true);
      await amountField(page).press('Enter');
      expect(await confirmHeading(page).count()).toBe(0);
      expect(e.counts()).toEqual(before);
    },
    E2E_TIMEOUT,
  );

  it(
    'amount within the limits but too small for the charges and arrears: the quote is refused with the reason',
    async () => {
      const page = await cashierPage();
      const before = e.counts();
      await findMeter(page, e.meters[0]!);
      await page.getByRole('button', { name: /^Customer confirmed/ }).click();
      await amountField(page).fill('10');
      const refused = page.locator('.ov-amount__quote').getByRole('alert');
      await refused.waitFor();
      expect(await seen(refused)).toContain('No quote for this amount');
      expect(await seen(refused)).toContain('The amount is too low for this meter.');
      expect(await page.getByRole('button', { name: /^Continue/ }).isDisabled()).toBe(true);
      expect(e.counts()).toEqual(before);
    },
    E2E_TIMEOUT,
  );

  it(
    'insufficient float: the sale is refused at Sell with the reason; no token, no money moved',
    async () => {
      const page = await cashierPage();
      await findMeter(page, e.meters[1]!);
      await amountAndContinue(page, '100');
      const [{ float } = { float: 0 }] = e.query<{ float: number }>(
        'SELECT float_balance_minor AS float FROM outlet',
      );
      e.write('UPDATE outlet SET float_balance_minor = ? WHERE id = 1', 5_000);
      try {
        const before = e.counts();
        await sellButton(page).click();
        const alert = page.getByRole('alert');
        await alert.waitFor();
        expect(await seen(alert)).toContain('The sale did not go through');
        expect(await seen(alert)).toContain("The outlet's float is too low for this sale.");
        expect(await seen(alert)).toContain('Code: VEND_FLOAT_INSUFFICIENT');
        // A known refusal: the "may have gone through" warning is not shown.
        expect(await page.getByText('The last attempt may have gone through').count()).toBe(0);
        expect(await resultHeading(page).count()).toBe(0);
        expect(e.counts()).toEqual(before);
        expect(e.query('SELECT float_balance_minor AS float FROM outlet')).toEqual([{ float: 5_000 }]);
      } finally {
        e.write('UPDATE outlet SET float_balance_minor = ? WHERE id = 1', float);
      }
    },
    E2E_TIMEOUT,
  );

  it(
    'expired vending authority: the sale is refused, the cashier is told not to take money; nothing written',
    async () => {
      const page = await cashierPage();
      await findMeter(page, e.meters[1]!);
      await amountAndContinue(page, '50');
      const [{ until } = { until: '' }] = e.query<{ until: string }>(
        'SELECT authority_valid_until AS until FROM outlet',
      );
      e.write(
        'UPDATE outlet SET authority_valid_until = ? WHERE id = 1',
        new Date(Date.now() - 86_400_000).toISOString(),
      );
      try {
        const before = e.counts();
        const [{ used } = { used: -1 }] = e.query<{ used: number }>(
          'SELECT authority_used_minor AS used FROM outlet',
        );
        await sellButton(page).click();
        const alert = page.getByRole('alert');
        await alert.waitFor();
        expect(await seen(alert)).toContain(
          "This outlet's vending authority has expired: no tokens can be made.",
        );
        expect(await seen(alert)).toContain(
          'Do not take money. Call the utility to renew the vending authority.',
        );
        expect(await seen(alert)).toContain('Code: SECURITY_AUTHORITY_EXPIRED');
        expect(await resultHeading(page).count()).toBe(0);
        expect(e.counts()).toEqual(before);
        expect(e.query('SELECT authority_used_minor AS used FROM outlet')).toEqual([{ used }]);
      } finally {
        e.write('UPDATE outlet SET authority_valid_until = ? WHERE id = 1', until);
      }
    },
    E2E_TIMEOUT,
  );

  it(
    'wrong password, then lockout after 5: the messages shown, the operator row locked, no session or shift',
    async () => {
      const page = await e.page();
      const operator = () =>
        e.query<{ failed_attempts: number; locked_until: string | null }>(
          "SELECT failed_attempts, locked_until FROM operator WHERE username = 'engineer'",
        )[0]!;
      const before = e.counts();
      const failed = page.getByRole('alert');
      const password = page.getByRole('textbox', { name: 'Password' });
      // The form clears the typed password when the answer is back: that is when to look.
      const answered = () => expect.poll(() => password.inputValue()).toBe('');

      await e.login(page, 'engineer', 'wrong-password-1');
      await answered();
      await failed.getByText('Wrong operator name or password.').waitFor();
      expect(await seen(failed)).toContain('Not logged in');
      expect(await seen(failed)).toContain('Code: AUTH_FAILED');
      expect(operator()).toEqual({ failed_attempts: 1, locked_until: null });

      for (let attempt = 2; attempt <= 4; attempt++) {
        await e.login(page, 'engineer', `wrong-password-${attempt}`);
        await answered();
        expect(await seen(failed)).toContain('Code: AUTH_FAILED');
        expect(operator().failed_attempts).toBe(attempt);
      }
      await e.login(page, 'engineer', 'wrong-password-5');
      await answered();
      await failed.getByText('Too many wrong passwords: this operator is locked for now.').waitFor();
      expect(await seen(failed)).toContain('Code: AUTH_LOCKED');
      expect(await seen(failed)).toContain('ask a supervisor or administrator to unlock the operator');
      const locked = operator();
      expect(locked.locked_until).not.toBeNull();
      expect(Date.parse(locked.locked_until!)).toBeGreaterThan(Date.now());

      // Locked: even the right password is refused now.
      await e.login(page, 'engineer');
      await answered();
      expect(await seen(failed)).toContain('Code: AUTH_LOCKED');
      expect(await page.getByRole('navigation', { name: 'Screens' }).count()).toBe(0);
      expect(e.counts()).toEqual(before);
    },
    E2E_TIMEOUT,
  );
});
