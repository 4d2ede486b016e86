import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src-main/host/content-security.ts';
import { type E2E, E2E_TIMEOUT, startE2E } from './support/e2e-harness.ts';
import {
  amountField,
  confirmHeading,
  customerHeading,
  ensureShiftOpen,
  meterField,
  openShiftButton,
  quoteTotal,
  rand,
  resultHeading,
  seen,
  sellButton,
  sellByClicks,
  shownTokens,
  TOKEN_GROUPS,
} from './support/ui.ts';

/** Collects every CSP violation the page reports, from before the app's first script runs. */
const RECORD_CSP_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline'));
  });
`;
const cspViolations = (page: Page) =>
  page.locator('html').evaluate((html) => html.ownerDocument.defaultView.__cspViolations as string[]);

describe('browser-mode security: CSP, pairing, touch', () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E();
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  it(
    'runs a whole sale under the strict CSP with no violation and no console error; inline code is refused',
    async () => {
      const page = await e.page();
      const consoleMessages: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') consoleMessages.push(message.text());
      });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.addInitScript(RECORD_CSP_VIOLATIONS);
      const response = await page.reload();
      expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
      expect(CONTENT_SECURITY_POLICY).toContain("style-src 'self'");

      await e.login(page, 'cashier');
      await ensureShiftOpen(page);
      const [token] = await sellByClicks(page, e.meters[4]!, '60');
      expect(token?.shown).toMatch(TOKEN_GROUPS);
      await page.getByRole('button', { name: /^Print/ }).click();
      await page.getByRole('dialog', { name: 'Receipt' }).waitFor();

      expect(await cspViolations(page)).toEqual([]);
      expect(consoleMessages).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(await page.locator('style').count()).toBe(0);

      // The listener is live and the policy enforced: an injected inline script is blocked and reported.
      await page.locator('body').evaluate((body) => {
        const script = body.ownerDocument.createElement('script');
        script.textContent = 'window.__inlineRan = true;';
        body.append(script);
      });
      await expect.poll(() => cspViolations(page)).toEqual([expect.stringMatching(/^script-src/)]);
      expect(await page.locator('html').evaluate((html) => html.ownerDocument.defaultView.__inlineRan)).toBe(
        undefined,
      );
    },
    E2E_TIMEOUT,
  );

  it(
    'gives a browser that was never paired no UI and no bridge; a wrong pairing key is refused',
    async () => {
      const context = await e.unpairedContext();
      const page = await context.newPage();
      const response = await page.goto(e.mode.host.url);
      expect(response?.status()).toBe(401);
      expect(await seen(page.locator('body'))).toContain('This screen is not paired with OpenVend.');
      expect(await page.locator('#root').count()).toBe(0);
      expect(await page.locator('script').count()).toBe(0);

      const rpc = await context.request.post(`${e.mode.host.url}rpc/app.info`, { data: { args: {} } });
      expect(rpc.status()).toBe(401);
      const html = await context.request.get(`${e.mode.host.url}index.html`);
      expect(html.status()).toBe(401);

      const wrongKey = await page.goto(`${e.mode.host.url}pair?key=not-the-key`);
      expect(wrongKey?.status()).toBe(401);
      expect(await seen(page.locator('body'))).toContain('Wrong or expired pairing key.');
      expect((await context.cookies()).map((cookie) => cookie.name)).toEqual([]);
    },
    E2E_TIMEOUT,
  );

  it(
    'completes a sale with taps only on a touch screen (quick amount), on touch-sized buttons',
    async () => {
      const page = await e.page({ hasTouch: true });
      /** Taps a button after checking it is a touch-sized target (at least 44 px high). */
      const tapTall = async (button: Locator) => {
        const box = await button.boundingBox();
        expect(box?.height, `${button} height`).toBeGreaterThanOrEqual(44);
        await button.tap();
      };
      const before = e.counts().sale;

      await page.getByRole('textbox', { name: 'Operator' }).tap();
      await page.keyboard.type('super');
      await page.getByRole('textbox', { name: 'Password' }).tap();
      await page.keyboard.type('demo-super-pass');
      await tapTall(page.getByRole('button', { name: /^Log in/ }));

      await openShiftButton(page).waitFor();
      await tapTall(openShiftButton(page));
      await meterField(page).tap();
      await page.keyboard.type(e.meters[8]!);
      await tapTall(page.getByRole('button', { name: /^Find meter/ }));
      await customerHeading(page).waitFor();
      await tapTall(page.getByRole('button', { name: /^Customer confirmed/ }));

      await amountField(page).waitFor();
      const quick = page
        .getByRole('group', { name: 'Quick amounts' })
        .getByRole('button', { name: rand(5_000) });
      await tapTall(quick);
      await expect.poll(() => amountField(page).inputValue()).toBe('50.00');
      await expect.poll(() => seen(quoteTotal(page))).toBe(rand(5_000));
      await tapTall(page.getByRole('button', { name: /^Continue/ }));
      await confirmHeading(page).waitFor();
      await tapTall(sellButton(page));
      await resultHeading(page).waitFor();

      const [token] = await shownTokens(page);
      expect(token?.shown).toMatch(TOKEN_GROUPS);
      const sales = e.query<{ tender_minor: number; digits: string }>(
        `SELECT s.tender_minor, t.digits FROM sale s JOIN token t ON t.sale_id = s.id
          JOIN operator o ON o.id = s.operator_id WHERE o.username = 'super' AND t.kind = 'credit'`,
      );
      expect(sales).toEqual([{ tender_minor: 5_000, digits: token!.digits }]);
      expect(e.counts().sale).toBe(before + 1);
    },
    E2E_TIMEOUT,
  );
});
