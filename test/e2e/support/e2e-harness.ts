import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createDemoOutlet } from '../../../src-main/engine/demo.ts';
import { type BrowserMode, startBrowserMode } from '../../../src-main/host/browser-mode.ts';
import { REPO_ROOT } from '../../../src-main/host/renderer-build.ts';

/**
 * End-to-end harness: a fresh demo outlet, the real browser mode (engine thread + loopback host serving the
 * Vite build), and Debian's Chromium driven by playwright-core. Tests check what the user sees, then the ledger
 * underneath (read-only SQLite on the same file, or the CLI).
 */

export const CHROMIUM = process.env.OPENVEND_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results', 'screenshots');
export const DEMO_PASSWORDS = {
  admin: 'demo-admin-pass',
  super: 'demo-super-pass',
  cashier: 'demo-cashier-pass',
  engineer: 'demo-engineer-pass',
} as const;
export type DemoOperator = keyof typeof DEMO_PASSWORDS;

export interface E2E {
  dataDir: string;
  mode: BrowserMode;
  browser: Browser;
  /** The 24 demo meter numbers as printed (index n − 1 = demo meter n). */
  meters: string[];
  /** A new paired page at 1024×768 (or the given size), already showing the login screen. */
  page(options?: { width?: number; height?: number; hasTouch?: boolean }): Promise<Page>;
  /** Logs in through the login form. */
  login(page: Page, who: DemoOperator): Promise<void>;
  /** A read-only query on the outlet ledger. */
  query<T>(sql: string, ...params: unknown[]): T[];
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startE2E(): Promise<E2E> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openvend-e2e-'));
  const meters = createDemoOutlet(dataDir, new Date()).meters.map((pan) => pan.slice(6));
  const mode = await startBrowserMode({ dataDir, demo: true, port: 0, logLevel: 'silent' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const contexts: BrowserContext[] = [];
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    dataDir,
    mode,
    browser,
    meters,
    async page(options = {}) {
      const context = await browser.newContext({
        viewport: { width: options.width ?? 1024, height: options.height ?? 768 },
        hasTouch: options.hasTouch ?? false,
      });
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(mode.host.pairUrl);
      return page;
    },
    async login(page, who) {
      await page
        .getByLabel(/operator/i)
        .first()
        .fill(who);
      await page
        .getByLabel(/password/i)
        .first()
        .fill(DEMO_PASSWORDS[who]);
      await page
        .getByLabel(/password/i)
        .first()
        .press('Enter');
    },
    query<T>(sql: string, ...params: unknown[]) {
      const db = new Database(join(dataDir, 'outlet.db'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all(...params) as T[];
      } finally {
        db.close();
      }
    },
    async screenshot(page, name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: false });
      return path;
    },
    async close() {
      for (const context of contexts) await context.close();
      await browser.close();
      await mode.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
