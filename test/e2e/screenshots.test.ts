import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2E, E2E_TIMEOUT, LANGUAGES, type Language, startE2E, text } from './support/e2e-harness.ts';
import { clippedTexts, horizontalOverflow, seen, shownTokens, switchLanguage } from './support/ui.ts';

const NATIVE: Record<Language, string> = { en: 'English', fr: 'Français', pt: 'Português' };
const ADMIN_TABS = [
  'meters',
  'customers',
  'import',
  'tariffs',
  'operators',
  'outlet',
  'float',
  'maintenance',
];
/** The whole tour of one language takes a while on a loaded machine. */
const TOUR_TIMEOUT = 180_000;

/**
 * Every main screen in English, French and Portuguese at 1024×768, switched with the UI's own language switcher,
 * written to test-results/screenshots/<lang>-<screen>.png. On each: no horizontal scrolling, and no text cut off
 * in the navigation (the top bar's buttons: screens, language, logout) or the status bar. The outlet name beside
 * the navigation is left out: it is shortened with an ellipsis on purpose when five screens need the room.
 */
describe('screenshots of every main screen in en, fr and pt at 1024×768', () => {
  let e: E2E;
  beforeAll(async () => {
    e = await startE2E();
  }, E2E_TIMEOUT);
  afterAll(async () => e?.close());

  for (const lang of LANGUAGES) {
    it(
      `${lang}: login, vend (each step, key change tokens shown), history, shift close and Z, engineering, admin tabs`,
      async () => {
        const t = (ns: string, key: string, values?: Record<string, string>) => text(lang, ns, key, values);
        const page = await e.page();
        const shots: string[] = [];
        const problems: string[] = [];
        const shot = async (screen: string) => {
          const name = `${lang}-${screen}`;
          await e.screenshot(page, name);
          shots.push(name);
          const overflow = await horizontalOverflow(page);
          if (overflow > 0) problems.push(`${name}: page ${overflow} px wider than the window`);
          // The navigation with the language switcher and logout (the top bar's buttons), and the status bar.
          const bars = [
            page.getByRole('banner').getByRole('button'),
            page.getByRole('region', { name: t('common', 'status.label') }),
          ];
          for (const cut of (await Promise.all(bars.map(clippedTexts))).flat())
            problems.push(`${name}: ${cut}`);
        };
        const heading = (name: string, level?: number) =>
          page.getByRole('heading', { name, exact: true, ...(level ? { level } : {}) });
        const navigate = async (screen: string, title: string) => {
          await page
            .getByRole('navigation', { name: t('common', 'nav.label') })
            .getByRole('button', { name: t('common', `nav.${screen}`), exact: true })
            .click();
          await heading(title, 1).waitFor();
        };

        // Login, in the language chosen on the login screen itself.
        if (lang !== 'en') await switchLanguage(page, NATIVE[lang]);
        await heading(t('common', 'login.title')).waitFor();
        expect(await page.locator('html').getAttribute('lang')).toBe(lang);
        await shot('login');
        await e.login(page, 'admin');

        // Vend: open shift, then each step of a sale to demo meter 3 with a key change scheduled.
        e.write(
          'UPDATE meter SET pending_krn = CASE krn WHEN 1 THEN 2 ELSE 1 END, pending_base_date = 2014 WHERE meter_no = ?',
          e.meters[2],
        );
        const openShift = page.getByRole('button', { name: new RegExp(`^${t('shift', 'open.button')}`) });
        await openShift.waitFor();
        await shot('vend-open-shift');
        await openShift.click();
        const meter = page.getByRole('textbox', { name: t('vend', 'meter.label') });
        await meter.fill(e.meters[2]!);
        await page.getByText(t('vend', 'meter.checkDigitOk')).waitFor();
        await shot('vend-meter');
        await meter.press('Enter');
        await heading(t('vend', 'customer.title')).waitFor();
        await shot('vend-customer');
        await page.keyboard.press('Enter');
        const amount = page.getByRole('textbox', { name: t('vend', 'amount.label') });
        await amount.fill('150');
        await page.getByText(t('vend', 'quote.total')).waitFor();
        await shot('vend-amount');
        await amount.press('Enter');
        await heading(t('vend', 'confirm.title')).waitFor();
        await shot('vend-confirm');
        await page.keyboard.press('Enter');
        await heading(t('vend', 'result.title')).waitFor();
        expect((await shownTokens(page)).map((token) => token.enterFirst)).toEqual([true, true, false]);
        await shot('vend-tokens');
        await page.keyboard.press('F8');
        const slip = page.getByRole('dialog', { name: t('vend', 'slip.printTitle') });
        await slip.waitFor();
        await shot('vend-print');
        await page.keyboard.press('Escape');
        await slip.waitFor({ state: 'detached' });

        // History with the sales so far.
        await navigate('history', t('history', 'title'));
        await page
          .getByRole('grid', { name: t('history', 'table.label') })
          .getByRole('row')
          .nth(1)
          .waitFor();
        await shot('history');

        // Shift: the screen, the blind count, the Z report with its variance.
        await navigate('shift', t('shift', 'title'));
        await shot('shift');
        await page.getByRole('button', { name: t('shift', 'close.button'), exact: true }).click();
        const count = page.getByRole('alertdialog', { name: t('shift', 'close.title') });
        await count.getByRole('textbox', { name: t('shift', 'close.cashLabel') }).fill('100');
        await shot('shift-close');
        await count.getByRole('textbox', { name: t('shift', 'close.cashLabel') }).press('Enter');
        const z = page.getByRole('alertdialog', {
          name: new RegExp(t('shift', 'close.doneTitle', { reportNo: '\\d+' })),
        });
        await z.waitFor();
        await shot('shift-z');
        await z.getByRole('button', { name: t('common', 'action.close'), exact: true }).click();
        await z.waitFor({ state: 'detached' });

        // Engineering: both sections.
        await navigate('engineering', t('engineering', 'title'));
        await page.getByRole('textbox', { name: t('engineering', 'meter.label') }).fill(e.meters[3]!);
        await shot('engineering');
        await page.getByRole('tab', { name: t('engineering', 'tab.helper') }).click();
        await heading(t('engineering', 'helper.title')).waitFor();
        await shot('engineering-helper');

        // Admin: every tab, each once its data is in.
        await navigate('admin', t('admin', 'title'));
        for (const tab of ADMIN_TABS) {
          await page.getByRole('tab', { name: t('admin', `tab.${tab}`) }).click();
          const panel = page.getByRole('tabpanel');
          await panel.waitFor();
          await expect.poll(() => seen(panel)).not.toContain(t('admin', 'loading'));
          await shot(`admin-${tab}`);
        }

        expect(shots).toHaveLength(22);
        expect(problems).toEqual([]);
      },
      TOUR_TIMEOUT,
    );
  }

  it(
    "keeps the language an operator picks in the top bar as that operator's language (ledger) for the next login",
    async () => {
      const page = await e.page();
      await e.login(page, 'cashier');
      await page.getByRole('navigation', { name: 'Screens' }).waitFor();
      await switchLanguage(page, 'Português');
      await page
        .getByRole('navigation', { name: 'Ecrãs' })
        .getByRole('button', { name: 'Venda', exact: true })
        .waitFor();
      await expect
        .poll(() => e.query("SELECT language FROM operator WHERE username = 'cashier'"))
        .toEqual([{ language: 'pt' }]);

      // A fresh browser (nothing remembered there) comes up in English, and the login brings Portuguese back.
      const fresh: Page = await e.page();
      await fresh.getByRole('heading', { name: 'OpenVend – log in' }).waitFor();
      await e.login(fresh, 'cashier');
      await fresh.getByRole('navigation', { name: 'Ecrãs' }).waitFor();
      expect(await fresh.locator('html').getAttribute('lang')).toBe('pt');
    },
    E2E_TIMEOUT,
  );
});
