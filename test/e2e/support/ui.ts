import type { Locator, Page } from 'playwright-core';
import { demoPan } from '../../../src-main/engine/demo.ts';
import { escapeRegExp } from './e2e-harness.ts';

/**
 * The cashier's steps on the vend screen, by role and visible (English) text, shared by the e2e files. Each step
 * waits for what the user would wait for; none of them sleeps.
 */

/**
 * The text of an element as rendered on screen, what the user reads (Playwright's innerText leaves out hidden
 * parts; textContent would not).
 */
export const seen = (locator: Locator): Promise<string> =>
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, and the rendered text is the point
  locator.innerText();

export const meterField = (page: Page) => page.getByRole('textbox', { name: 'Meter number' });
export const amountField = (page: Page) => page.getByRole('textbox', { name: 'Amount paid' });
export const customerHeading = (page: Page) => page.getByRole('heading', { name: 'Check the customer' });
export const confirmHeading = (page: Page) => page.getByRole('heading', { name: 'Confirm the sale' });
export const resultHeading = (page: Page) => page.getByRole('heading', { name: /^Sale complete/ });
export const openShiftButton = (page: Page) => page.getByRole('button', { name: /^Open shift/ });
export const sellButton = (page: Page) => page.getByRole('button', { name: /^Sell R/ });

/** After login: opens the operator's shift when the vend screen asks for it, then waits for the meter field. */
export async function ensureShiftOpen(page: Page): Promise<void> {
  await meterField(page).or(openShiftButton(page)).first().waitFor();
  if (await openShiftButton(page).isVisible()) await openShiftButton(page).click();
  await meterField(page).waitFor();
}

/** Meter → customer panel (by clicks). */
export async function findMeter(page: Page, meterNo: string): Promise<void> {
  await meterField(page).fill(meterNo);
  await page.getByRole('button', { name: /^Find meter/ }).click();
  await customerHeading(page).waitFor();
}

/** Customer confirmed → amount typed → its quote is in → Continue → the confirmation step. */
export async function amountAndContinue(page: Page, amount: string): Promise<void> {
  await page.getByRole('button', { name: /^Customer confirmed/ }).click();
  await amountField(page).fill(amount);
  await quoteTotal(page).waitFor();
  await page.getByRole('button', { name: /^Continue/ }).click();
  await confirmHeading(page).waitFor();
}

/** The "Total paid" line of the live quote. */
export const quoteTotal = (page: Page) => page.locator('.ov-amount__quote').getByRole('definition').last();

/** A whole sale by mouse from the meter step; returns the tokens shown. */
export async function sellByClicks(page: Page, meterNo: string, amount: string): Promise<ShownToken[]> {
  await findMeter(page, meterNo);
  await amountAndContinue(page, amount);
  await sellButton(page).click();
  await resultHeading(page).waitFor();
  return shownTokens(page);
}

export interface ShownToken {
  /** The 20 digits the display was made from. */
  digits: string;
  /** The digits as shown on screen. */
  shown: string;
  /** The token's label, e.g. "Credit token" or "Key change token 1 of 2". */
  label: string;
  /** Whether the "enter first" mark is on it. */
  enterFirst: boolean;
}

/** The tokens on screen, in the order shown. */
export async function shownTokens(page: Page): Promise<ShownToken[]> {
  return page.locator('.ov-token').evaluateAll((sections) =>
    sections.map((section) => ({
      digits: section.querySelector('[data-token-digits]')?.getAttribute('data-token-digits') ?? '',
      shown: (section.querySelector('.ov-token__digits')?.textContent ?? '').trim(),
      label: (section.querySelector('.ov-token__label')?.textContent ?? '').trim(),
      enterFirst: section.querySelector('.ov-badge') !== null,
    })),
  );
}

/** 20 digits in five groups of four, the way the customer types them. */
export const TOKEN_GROUPS = /^\d{4} \d{4} \d{4} \d{4} \d{4}$/;

/** Picks a radio choice by clicking its label (react-aria keeps the input itself visually hidden). */
export const radioLabel = (page: Page | Locator, name: string) =>
  page.locator('label').filter({ has: page.getByRole('radio', { name, exact: true }) });

/**
 * Opens a react-aria Select and picks an option. Its button is named by the current value, then the label
 * ("Choose a reason Reason"), so it is found by the label at the end of its name.
 */
export async function choose(
  page: Page,
  scope: Page | Locator,
  labels: string | readonly string[],
  option: string,
): Promise<void> {
  const names = (typeof labels === 'string' ? [labels] : labels).map(escapeRegExp);
  await scope.getByRole('button', { name: new RegExp(`(^|\\s)(${names.join('|')})$`) }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

/** Switches the UI language with the language switcher on the screen (login card or top bar). */
export async function switchLanguage(page: Page, nativeName: string): Promise<void> {
  await choose(page, page, ['Language', 'Langue', 'Idioma'], nativeName);
}

/** A meter number with a right check digit that the demo outlet does not have (its meters are 1 to 24). */
export const unregisteredMeterNo = (): string => demoPan(99).slice(6);

/** The same number with its last (check) digit changed: the live check must catch it. */
export const withWrongCheckDigit = (meterNo: string): string =>
  meterNo.slice(0, -1) + ((Number(meterNo.slice(-1)) + 1) % 10);

/** Money as the English UI shows the demo's rand amounts ("R 1,234.50", "-R 79.90", with the no-break space Intl puts after the symbol), from integer cents. */
export function rand(minor: number): string {
  const abs = Math.abs(minor);
  const whole = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${minor < 0 ? '-' : ''}R\u00a0${whole}.${String(abs % 100).padStart(2, '0')}`;
}

/** Units as shown: tenths of a kWh with one decimal ("36.6 kWh"). */
export const kwh = (tenths: number): string => `${Math.trunc(tenths / 10)}.${Math.abs(tenths % 10)} kWh`;

/** A description list (`<dl>`) read as label → value, as the user reads it. */
export async function readKeyValues(list: Locator): Promise<Record<string, string>> {
  const rows = await list
    .locator('.ov-kv__row')
    .evaluateAll((items) =>
      items.map((item) => [
        (item.querySelector('dt')?.textContent ?? '').trim(),
        (item.querySelector('dd')?.textContent ?? '').trim(),
      ]),
    );
  return Object.fromEntries(rows);
}

/** How far the page is wider than the window (0 = no horizontal scroll bar). */
export const horizontalOverflow = (page: Page): Promise<number> =>
  page
    .locator('html')
    .evaluate((html) => Math.max(0, html.scrollWidth - html.ownerDocument.defaultView.innerWidth));

/**
 * Visible texts inside `scope` (e.g. the top bar) that are cut off: an element that scrolls or hides its own
 * overflowing text, or text sticking out of a clipping ancestor or out of the window. Visually hidden texts
 * (screen-reader only) are skipped. Returns "text (why)" for each.
 */
export function clippedTexts(scope: Locator): Promise<string[]> {
  return scope.evaluateAll((roots) => {
    const problems: string[] = [];
    for (const root of roots) {
      const view = root.ownerDocument.defaultView;
      const hidden = (el: typeof root | null): boolean => {
        for (let node = el; node; node = node.parentElement) {
          const style = view.getComputedStyle(node);
          if (style.display === 'none' || style.visibility === 'hidden') return true;
          if (style.clip !== 'auto' || style.clipPath !== 'none') return true;
          const box = node.getBoundingClientRect();
          if (box.width <= 1 || box.height <= 1) return true;
          if (node === root) break;
        }
        return false;
      };
      for (const el of [root, ...root.querySelectorAll('*')]) {
        const own = [...el.childNodes]
          .filter((child) => child.nodeType === 3)
          .map((child) => child.textContent ?? '')
          .join('')
          .trim();
        if (!own || hidden(el)) continue;
        const style = view.getComputedStyle(el);
        const rect = el.getBoundingClientRect();
        const label = `"${own}"`;
        if (
          (style.overflowX !== 'visible' || style.textOverflow === 'ellipsis') &&
          el.scrollWidth > el.clientWidth + 1
        ) {
          problems.push(`${label} (cut by its own width: ${el.scrollWidth} > ${el.clientWidth} px)`);
          continue;
        }
        if (rect.left < -1 || rect.right > view.innerWidth + 1) {
          problems.push(
            `${label} (outside the window: ${Math.round(rect.left)}–${Math.round(rect.right)} px)`,
          );
          continue;
        }
        for (let up = el.parentElement; up; up = up.parentElement) {
          const upStyle = view.getComputedStyle(up);
          if (upStyle.overflowX !== 'visible' || upStyle.overflowY !== 'visible') {
            const box = up.getBoundingClientRect();
            if (
              rect.left < box.left - 1 ||
              rect.right > box.right + 1 ||
              rect.top < box.top - 1 ||
              rect.bottom > box.bottom + 1
            ) {
              problems.push(
                `${label} (sticks out of a clipping ${up.tagName.toLowerCase()}.${up.className})`,
              );
              break;
            }
          }
          if (up === root) break;
        }
      }
    }
    return problems;
  });
}
