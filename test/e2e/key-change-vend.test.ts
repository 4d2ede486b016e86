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
  TOKEN_GROUPS,
} from './support/ui.ts';

interface MeterKeys {
  krn: number;
  base_date: number;
  pending_krn: number | null;
  pending_base_date: number | null;
}

describe('vend to a meter with a pending key change (demo meter 3: TID roll-over, KRN 1 → 2)', () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E();
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  it(
    'warns before the sale, issues the key change tokens first with "enter first", in ledger order, and moves the keys',
    async () => {
      const meterNo = e.meters[2]!;
      const keys = () =>
        e.query<MeterKeys>(
          'SELECT krn, base_date, pending_krn, pending_base_date FROM meter WHERE meter_no = ?',
          meterNo,
        )[0];
      expect(keys()).toEqual({ krn: 1, base_date: 1993, pending_krn: 2, pending_base_date: 2014 });

      const page = await e.page();
      await e.login(page, 'cashier');
      await ensureShiftOpen(page);
      await meterField(page).fill(meterNo);
      await meterField(page).press('Enter');
      await customerHeading(page).waitFor();
      const warning = page.locator('.ov-customer .ov-notice--warning');
      expect(await seen(warning)).toContain('Key change due');
      expect(await seen(warning)).toContain('KRN 1 → 2');

      await amountAndContinue(page, '50');
      expect(await seen(page.locator('.ov-confirm'))).toContain(
        'Key change tokens will be issued first: the customer must enter them before the credit token.',
      );
      await sellButton(page).click();
      await resultHeading(page).waitFor();

      await page.getByText('Enter these first, in order').waitFor();
      expect(await seen(page.locator('.ov-result'))).toContain(
        'The customer must enter the 2 key change tokens first, in the order shown, then the credit token.',
      );
      const shown = await shownTokens(page);
      expect(shown.map((token) => [token.label, token.enterFirst])).toEqual([
        ['Key change token 1 of 2', true],
        ['Key change token 2 of 2', true],
        ['Credit token', false],
      ]);
      for (const token of shown) expect(token.shown).toMatch(TOKEN_GROUPS);
      const steps = await page.locator('.ov-token__order').allInnerTexts();
      expect(steps).toEqual(['1', '2', '3']);

      const ledger = e.query<{ digits: string; kind: string; subclass: number }>(
        'SELECT t.digits, t.kind, t.subclass FROM token t JOIN sale s ON s.id = t.sale_id WHERE s.kind = ? ORDER BY t.seq',
        'sale',
      );
      expect(ledger.map((token) => token.kind)).toEqual(['key-change', 'key-change', 'credit']);
      // STS: key change 1st token (class 2 subclass 3), then the 2nd (subclass 4), then the credit.
      expect(ledger.map((token) => token.subclass)).toEqual([3, 4, 0]);
      expect(shown.map((token) => token.digits)).toEqual(ledger.map((token) => token.digits));

      expect(keys()).toEqual({ krn: 2, base_date: 2014, pending_krn: null, pending_base_date: null });

      // The print preview says the same, in the same order.
      await page.getByRole('button', { name: /^Print/ }).click();
      const slip = await seen(page.getByRole('dialog', { name: 'Receipt' }).locator('pre'));
      expect(slip).toContain('ENTER KEY CHANGE TOKENS FIRST');
      const positions = shown.map((token) => slip.indexOf(token.shown));
      expect(positions.every((position) => position >= 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    },
    E2E_TIMEOUT,
  );

  it(
    'sells the next token to the same meter without key change tokens (the keys already moved)',
    async () => {
      const page = await e.page();
      await e.login(page, 'cashier');
      await ensureShiftOpen(page);
      await meterField(page).fill(e.meters[2]!);
      await meterField(page).press('Enter');
      await customerHeading(page).waitFor();
      expect(await seen(page.locator('.ov-customer'))).not.toContain('Key change due');
      await amountAndContinue(page, '20');
      await sellButton(page).click();
      await resultHeading(page).waitFor();
      const shown = await shownTokens(page);
      expect(shown.map((token) => token.label)).toEqual(['Credit token']);
      const [last] = e.query<{ kinds: string }>(
        'SELECT group_concat(t.kind) AS kinds FROM token t WHERE t.sale_id = (SELECT max(id) FROM sale)',
      );
      expect(last?.kinds).toBe('credit');
    },
    E2E_TIMEOUT,
  );
});
