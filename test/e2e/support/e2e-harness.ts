import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { createDemoOutlet, DEMO_OPERATORS } from '../../../src-main/engine/demo.ts';
import { type BrowserMode, startBrowserMode } from '../../../src-main/host/browser-mode.ts';
import { ensureRendererBuilt, RENDERER_DIST, REPO_ROOT } from '../../../src-main/host/renderer-build.ts';
import { LEDGER_FILE } from '../../../src-main/ledger/data-dir.ts';

/**
 * End-to-end harness: a fresh demo outlet, the real browser mode (engine thread + loopback host serving the
 * Vite build, from a private snapshot), and Debian's Chromium driven by playwright-core. Tests check what the user sees, then the ledger
 * underneath (read-only SQLite on the same file, or the CLI).
 */

export const CHROMIUM = process.env.OPENVEND_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results', 'screenshots');
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export type DemoOperator = 'admin' | 'super' | 'cashier' | 'engineer';
/** The demo passwords, from the demo seed itself (one source of truth). */
export const DEMO_PASSWORDS = Object.fromEntries(
  DEMO_OPERATORS.map((operator) => [operator.username, operator.password]),
) as Record<DemoOperator, string>;
/** Generous per-test timeout for browser tests on a shared, loaded machine. */
export const E2E_TIMEOUT = 60_000;

export const LANGUAGES = ['en', 'fr', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];

/**
 * A value from the UI's own locale files (`ns` = namespace file, `key` = dotted path, `{{name}}` filled from
 * `values`), so tests follow the texts.
 */
export function text(
  language: Language,
  ns: string,
  key: string,
  values: Record<string, string> = {},
): string {
  const file = join(REPO_ROOT, 'src-renderer', 'i18n', 'locales', language, `${ns}.json`);
  let value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  for (const part of key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  if (typeof value !== 'string') throw new Error(`no text ${language}/${ns}:${key}`);
  return value.replace(/\{\{(\w+)\}\}/g, (_all, name: string) => values[name] ?? `{{${name}}}`);
}

export const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Matches the given text in any of the three languages (exactly, as a whole accessible name). */
export const anyLanguage = (ns: string, key: string): RegExp =>
  new RegExp(`^(${LANGUAGES.map((language) => escapeRegExp(text(language, ns, key))).join('|')})$`);

export interface Counts {
  sale: number;
  token: number;
  floatMovement: number;
  audit: number;
  shift: number;
  outbox: number;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T>(): T;
}

export interface E2E {
  dataDir: string;
  mode: BrowserMode;
  browser: Browser;
  /** The 24 demo meter numbers as printed (index n − 1 = demo meter n). */
  meters: string[];
  /** A new paired page at 1024×768 (or the given size), showing the login screen. */
  page(options?: { width?: number; height?: number; hasTouch?: boolean }): Promise<Page>;
  /** A new browser context that was never paired (no session cookie). */
  unpairedContext(): Promise<BrowserContext>;
  /** Logs in through the login form (labels in any UI language), with the demo password unless one is given. */
  login(page: Page, who: DemoOperator, password?: string): Promise<void>;
  /** A read-only query on the outlet ledger. */
  query<T>(sql: string, ...params: unknown[]): T[];
  /** A direct write to the ledger file (set up a state the UI cannot reach, e.g. an expired authority). */
  write(sql: string, ...params: unknown[]): void;
  /** Row counts of the tables a sale or a shift writes: compare before/after for "nothing written". */
  counts(): Counts;
  /** The real `openvend` CLI on this outlet (`--data-dir` added); `password` goes in OPENVEND_PASSWORD. */
  cli(args: string[], options?: { password?: string }): Promise<CliRun>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

const BIN = join(REPO_ROOT, 'src-main', 'bin', 'openvend.mjs');
const run = promisify(execFile);

/**
 * A private copy of the current renderer build. Colleagues editing src-renderer make any start rebuild
 * dist/renderer in place, which would pull the page's scripts from under a running test; a copy whose index.html
 * finds all its assets is immune to that.
 */
async function snapshotRendererBuild(into: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    await ensureRendererBuilt({ quiet: true });
    rmSync(into, { recursive: true, force: true });
    cpSync(RENDERER_DIST, into, { recursive: true });
    const index = existsSync(join(into, 'index.html')) ? readFileSync(join(into, 'index.html'), 'utf8') : '';
    const assets = [...index.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    if (assets.length > 0 && assets.every((asset) => existsSync(join(into, asset)))) return into;
    if (attempt === 5) throw new Error(`no complete renderer build in ${RENDERER_DIST}`);
  }
}

export interface E2EOptions {
  /** The simulated printer and card encoders (`openvend start --simulate-devices`). */
  simulateDevices?: boolean;
}

export async function startE2E(options: E2EOptions = {}): Promise<E2E> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openvend-e2e-'));
  const ledgerFile = join(dataDir, LEDGER_FILE);
  const meters = createDemoOutlet(dataDir, new Date()).meters.map((pan) => pan.slice(6));
  const mode = await startBrowserMode({
    dataDir,
    demo: true,
    port: 0,
    logLevel: 'silent',
    simulateDevices: options.simulateDevices ?? false,
    rendererDir: () => snapshotRendererBuild(join(dataDir, 'renderer')),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const withDb = <T>(readonly: boolean, body: (db: Database.Database) => T): T => {
    const db = new Database(ledgerFile, { readonly, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 10000');
      return body(db);
    } finally {
      db.close();
    }
  };
  const count = (db: Database.Database, table: string) =>
    (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
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
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(mode.host.pairUrl);
      await page
        .getByRole('textbox', { name: anyLanguage('common', 'login.username') })
        .waitFor()
        .catch((error: unknown) => {
          throw new Error(`no login screen (page errors: ${errors.join(' | ') || 'none'})`, { cause: error });
        });
      return page;
    },
    async unpairedContext() {
      const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
      contexts.push(context);
      return context;
    },
    async login(page, who, password = DEMO_PASSWORDS[who]) {
      await page.getByRole('textbox', { name: anyLanguage('common', 'login.username') }).fill(who);
      const field = page.getByRole('textbox', { name: anyLanguage('common', 'login.password') });
      await field.fill(password);
      await field.press('Enter');
    },
    query<T>(sql: string, ...params: unknown[]) {
      return withDb(true, (db) => db.prepare(sql).all(...params) as T[]);
    },
    write(sql: string, ...params: unknown[]) {
      withDb(false, (db) => db.prepare(sql).run(...params));
    },
    counts() {
      return withDb(true, (db) => ({
        sale: count(db, 'sale'),
        token: count(db, 'token'),
        floatMovement: count(db, 'float_movement'),
        audit: count(db, 'audit_log'),
        shift: count(db, 'shift'),
        outbox: count(db, 'outbox'),
      }));
    },
    async cli(args, options = {}) {
      const env = { ...process.env, ...(options.password ? { OPENVEND_PASSWORD: options.password } : {}) };
      const done = await run(process.execPath, [BIN, ...args, '--data-dir', dataDir], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({
          code: typeof error.code === 'number' ? error.code : 1,
          stdout: error.stdout ?? '',
          stderr: error.stderr ?? '',
        }),
      );
      return { ...done, json: <T>() => JSON.parse(done.stdout) as T };
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
