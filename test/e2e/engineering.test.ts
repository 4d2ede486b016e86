import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, E2E_TIMEOUT, startE2E } from './support/e2e-harness.ts';
import { radioLabel, readKeyValues, type ShownToken, seen, shownTokens, TOKEN_GROUPS } from './support/ui.ts';

interface LedgerToken {
  receipt_no: number;
  sale_kind: string;
  operator: string;
  kind: string;
  token_class: number;
  subclass: number;
  digits: string;
}

/**
 * The engineer's screen (F6): management tokens, key changes and the token helper. Each issue is checked on
 * screen (tokens large, in entry order) and in the ledger (sale kind, STS class/subclass, same digits, no money).
 */
describe('engineering tokens and the token helper', () => {
  let e: E2E;
  let page: Page;

  const issueTab = () => page.getByRole('tab', { name: 'Issue a token' });
  const meterNumber = () => page.getByRole('textbox', { name: 'Meter number' });
  const ledgerTokens = (receiptNo: number) =>
    e.query<LedgerToken>(
      `SELECT s.receipt_no, s.kind AS sale_kind, o.username AS operator, t.kind, t.token_class, t.subclass, t.digits
         FROM token t JOIN sale s ON s.id = t.sale_id JOIN operator o ON o.id = s.operator_id
        WHERE s.receipt_no = ? ORDER BY t.seq`,
      receiptNo,
    );
  const receiptShown = async () =>
    Number(/Receipt (\S+)-(\d+)/.exec(await seen(page.locator('.ov-eng-result')))?.[2]);

  /** Fills the issue form for a meter and a token choice, then presses Issue. */
  const issue = async (meterNo: string, choice: string, fill?: () => Promise<void>) => {
    const again = page.getByRole('button', { name: 'Another meter' });
    if (await again.isVisible()) await again.click();
    await meterNumber().fill(meterNo);
    await radioLabel(page, choice).click();
    await fill?.();
    await page.getByRole('button', { name: /^Issue (token|key change tokens)/ }).click();
  };

  const expectOneToken = async (label: string): Promise<{ token: ShownToken; receiptNo: number }> => {
    await page.getByRole('heading', { name: 'Token issued: enter it on the meter' }).waitFor();
    const tokens = await shownTokens(page);
    expect(tokens.map((token) => token.label)).toEqual([label]);
    expect(tokens[0]!.shown).toMatch(TOKEN_GROUPS);
    return { token: tokens[0]!, receiptNo: await receiptShown() };
  };

  beforeAll(async () => {
    e = await startE2E();
    page = await e.page();
    await e.login(page, 'engineer');
    await page.getByRole('heading', { name: 'Engineering', level: 1 }).waitFor();
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  it(
    'shows the engineer only the engineering screen, with both sections',
    async () => {
      const nav = page.getByRole('navigation', { name: 'Screens' });
      expect(await nav.getByRole('button').allInnerTexts()).toEqual([
        expect.stringMatching(/^Engineering\s+F6$/),
      ]);
      await issueTab().waitFor();
      await page.getByRole('tab', { name: 'Token helper' }).waitFor();
    },
    E2E_TIMEOUT,
  );

  it(
    'issues a clear tamper token: shown in 4-4-4-4-4, booked as an engineering sale (class 2/5), no money moved',
    async () => {
      const floatBefore = e.query('SELECT float_balance_minor FROM outlet');
      await issue(e.meters[3]!, 'Clear tamper');
      const { token, receiptNo } = await expectOneToken('Clear tamper');
      expect(ledgerTokens(receiptNo)).toEqual([
        {
          receipt_no: receiptNo,
          sale_kind: 'engineering',
          operator: 'engineer',
          kind: 'engineering',
          token_class: 2,
          subclass: 5,
          digits: token.digits,
        },
      ]);
      const slip = page.locator('.ov-eng-result').getByRole('figure', { name: /^Receipt T0001-\d{8}$/ });
      expect(await seen(slip)).toContain(token.shown);
      expect(e.query('SELECT float_balance_minor FROM outlet')).toEqual(floatBefore);
      expect(e.query("SELECT count(*) AS n FROM audit_log WHERE action = 'sale.engineering'")).toEqual([
        { n: 1 },
      ]);
    },
    E2E_TIMEOUT,
  );

  it(
    'sets a power limit: a bad wattage is caught in the form (nothing written), a good one issues class 2/0',
    async () => {
      const before = e.counts();
      await issue(e.meters[3]!, 'Set power limit', async () => {
        await page.getByRole('textbox', { name: 'Limit in watts' }).fill('70000');
      });
      await page.getByText('Type a whole number of watts from 0 to 65535.').waitFor();
      expect(e.counts()).toEqual(before);

      await page.getByRole('textbox', { name: 'Limit in watts' }).fill('3000');
      await page.getByRole('button', { name: /^Issue token/ }).click();
      const { token, receiptNo } = await expectOneToken('Set power limit');
      expect(ledgerTokens(receiptNo)).toMatchObject([{ token_class: 2, subclass: 0, digits: token.digits }]);
    },
    E2E_TIMEOUT,
  );

  it(
    'issues a test / display token (class 1, not encrypted)',
    async () => {
      await issue(e.meters[3]!, 'Test / display');
      const { token, receiptNo } = await expectOneToken('Test / display');
      expect(ledgerTokens(receiptNo)).toMatchObject([
        { kind: 'engineering', token_class: 1, digits: token.digits },
      ]);
    },
    E2E_TIMEOUT,
  );

  it(
    'refuses "the scheduled key change" for a meter without one, with the reason; nothing written',
    async () => {
      const before = e.counts();
      await issue(e.meters[3]!, 'Key change');
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await seen(alert)).toContain('No token was issued');
      expect(await seen(alert)).toContain('no key change scheduled');
      expect(e.counts()).toEqual(before);
    },
    E2E_TIMEOUT,
  );

  it(
    'issues a key change to a key revision given by the engineer: two tokens, "enter first", the meter keys moved',
    async () => {
      await radioLabel(page, 'Key data I give').click();
      await page.getByRole('textbox', { name: /\bKRN\b/ }).fill('2');
      await page.getByRole('button', { name: /^Issue key change tokens/ }).click();
      await page
        .getByRole('heading', { name: 'Tokens issued: enter them on the meter in this order' })
        .waitFor();
      expect(await seen(page.locator('.ov-eng-result'))).toContain(
        'Enter the 2 key change tokens on the meter in the order shown.',
      );
      const tokens = await shownTokens(page);
      expect(tokens.map((token) => [token.label, token.enterFirst])).toEqual([
        ['Key change token 1 of 2', true],
        ['Key change token 2 of 2', true],
      ]);
      const ledger = ledgerTokens(await receiptShown());
      expect(ledger.map((token) => [token.sale_kind, token.kind, token.subclass])).toEqual([
        ['key-change', 'key-change', 3],
        ['key-change', 'key-change', 4],
      ]);
      expect(tokens.map((token) => token.digits)).toEqual(ledger.map((token) => token.digits));
      expect(e.query('SELECT krn, pending_krn FROM meter WHERE meter_no = ?', e.meters[3])).toEqual([
        { krn: 2, pending_krn: null },
      ]);
    },
    E2E_TIMEOUT,
  );

  it(
    'issues the scheduled key change of demo meter 3 (TID roll-over): base date and key revision move',
    async () => {
      await issue(e.meters[2]!, 'Key change', async () => {
        await radioLabel(page, 'The key change scheduled for this meter').click();
      });
      await page
        .getByRole('heading', { name: 'Tokens issued: enter them on the meter in this order' })
        .waitFor();
      expect((await shownTokens(page)).every((token) => token.enterFirst)).toBe(true);
      expect(
        e.query('SELECT krn, base_date, pending_krn FROM meter WHERE meter_no = ?', e.meters[2]),
      ).toEqual([{ krn: 2, base_date: 2014, pending_krn: null }]);
    },
    E2E_TIMEOUT,
  );

  it(
    'token helper: explains a good token (accepted, with type and key), and a typo (refused, points at the right one)',
    async () => {
      await issue(e.meters[5]!, 'Set power limit', async () => {
        await page.getByRole('textbox', { name: 'Limit in watts' }).fill('4500');
      });
      const { token, receiptNo } = await expectOneToken('Set power limit');
      const before = e.counts();

      await page.getByRole('tab', { name: 'Token helper' }).click();
      await page.getByRole('heading', { name: 'Why does the meter refuse a token?' }).waitFor();
      await meterNumber().fill(e.meters[5]!);
      const tokenField = page.getByRole('textbox', { name: 'Token', exact: true });
      await tokenField.fill(token.shown);
      await page.getByText('20 digits.').waitFor();
      await page.getByRole('button', { name: /^Explain token/ }).click();
      const explanation = page.getByRole('region', { name: 'What the meter will do' });
      await explanation.getByText('The meter accepts this token').waitFor();
      const facts = await readKeyValues(explanation.locator('.ov-eng-explain__facts'));
      expect(facts).toMatchObject({
        'Token type': 'Set power limit (class 2, subclass 0)',
        'Decoded with': "The meter's current key: SGC 123456, KRN 1, TI 01",
        'Issued on receipt': String(receiptNo),
      });
      expect(facts.Content).toContain('4500');

      const digits = token.digits;
      const typo = `${digits.slice(0, 9)}${(Number(digits[9]) + 1) % 10}${digits.slice(10)}`;
      await tokenField.fill(typo);
      await page.getByRole('button', { name: /^Explain token/ }).click();
      await explanation.getByText('The meter refuses this token').waitFor();
      const findings = await seen(explanation.getByRole('list'));
      expect(findings).toContain('Does not decode (typing error or wrong meter)');
      expect(findings).toContain('Probable typing error');
      expect(findings).toContain(`the token on receipt ${receiptNo} (${token.shown})`);

      // Half a token is caught before anything is asked.
      await tokenField.fill(digits.slice(0, 12));
      await page.getByRole('button', { name: /^Explain token/ }).click();
      await page.getByText('12 digits: a token has 20.').waitFor();
      expect(e.counts()).toEqual(before);
    },
    E2E_TIMEOUT,
  );
});
