// npm run bench:ui — browser-mode UI figures in Debian's Chromium. Prints them next to the floors; asserts nothing.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../src-main/host/renderer-build.ts';
import { CHROMIUM, CHROMIUM_ARGS, startE2E } from '../e2e/support/e2e-harness.ts';
import {
  amountField,
  customerHeading,
  ensureShiftOpen,
  meterField,
  resultHeading,
} from '../e2e/support/ui.ts';

const STARTS = 5;
const VENDS = 20;
const BIN = join(REPO_ROOT, 'src-main', 'bin', 'openvend.mjs');

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const quantile = (values: number[], q: number) => {
  const s = sorted(values);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const ms = (value: number) => `${value.toFixed(0)} ms`;
const say = (line: string) => process.stdout.write(`${line}\n`);
const rows: Array<{ what: string; figure: string; floor: string; verdict: string }> = [];
const report = (what: string, figure: string, floor = '', ok?: boolean) =>
  rows.push({ what, figure, floor, verdict: ok === undefined ? '' : ok ? 'meets' : 'MISSES' });

/**
 * In the page: the time from pressing "Sell …" (pointer down) to the first frame painted after a token appeared in the DOM
 * (a MutationObserver sees the token, the next animation frame is when it is on screen).
 */
const MEASURE_IN_PAGE = `
  let clickedAt = null;
  window.__vendMs = null;
  document.addEventListener('pointerdown', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button') : null;
    if (button && /^Sell /.test(button.textContent || '')) { clickedAt = performance.now(); window.__vendMs = null; }
  }, true);
  new MutationObserver(() => {
    if (clickedAt === null || !document.querySelector('[data-token-digits]')) return;
    const from = clickedAt;
    clickedAt = null;
    requestAnimationFrame(() => { window.__vendMs = performance.now() - from; });
  }).observe(document, { childList: true, subtree: true });
`;

say(`OpenVend UI benchmark — node ${process.version}, ${cpus().length} CPU(s), ${CHROMIUM}`);
// As after `npm ci` (its prepare script): the UI build is current, so a start does not build.
execFileSync(process.execPath, [BIN, 'build', '--if-stale'], { stdio: 'ignore' });

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
try {
  // --- 1. `openvend start --demo` to an interactive login screen --------------------------------------------
  say(
    `\n1. spawn "openvend start --demo --port 0" → login screen interactive (Chromium already running), ${STARTS}×`,
  );
  const toUrl: number[] = [];
  const toLogin: number[] = [];
  for (let run = 0; run < STARTS; run++) {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await context.newPage();
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'start', '--demo', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const pairUrl = await printedPairUrl(child);
      toUrl.push(performance.now() - started);
      await page.goto(pairUrl);
      // Interactive: the operator field is on screen and has the focus, ready for typing.
      await page.locator('input[name="username"]:focus').waitFor();
      toLogin.push(performance.now() - started);
    } finally {
      await context.close();
      await stop(child);
    }
  }
  report('start → pairing address printed, median', ms(quantile(toUrl, 0.5)));
  const medianStart = quantile(toLogin, 0.5);
  report('start → login interactive, median of 5', ms(medianStart), '< 3000 ms', medianStart < 3000);
  report('start → login interactive, max of 5', ms(Math.max(...toLogin)));

  // --- 2. Vend round trip: Sell pressed → token on screen ----------------------------------------------------
  say(`\n2. vend round trip in the UI: Sell clicked → token on screen, ${VENDS} vends`);
  const e = await startE2E();
  try {
    const page = await e.page();
    await page.addInitScript(MEASURE_IN_PAGE);
    await page.reload();
    await e.login(page, 'cashier');
    await ensureShiftOpen(page);
    // Demo meters without a key change (3) or block (7): a plain credit sale each.
    const meters = e.meters.filter((_, index) => index !== 2 && index !== 6);
    const outside: number[] = [];
    const inside: number[] = [];
    for (let i = 0; i < VENDS; i++) {
      await toConfirmStep(page, meters[i % meters.length]!);
      const sell = page.getByRole('button', { name: /^Sell R/ });
      const clicked = performance.now();
      await sell.click();
      await resultHeading(page).waitFor();
      outside.push(performance.now() - clicked);
      inside.push(
        await page.locator('html').evaluate((html) => html.ownerDocument.defaultView.__vendMs as number),
      );
      await page.keyboard.press('F2');
      await meterField(page).waitFor();
    }
    const p50 = quantile(inside, 0.5);
    const p95 = quantile(inside, 0.95);
    report('click → token painted (in page), median', ms(p50), '< 300 ms', p50 < 300);
    report('click → token painted (in page), p95', ms(p95), '< 300 ms', p95 < 300);
    report('click → token seen by the driver, median', ms(quantile(outside, 0.5)));
    report('click → token seen by the driver, p95', ms(quantile(outside, 0.95)));
  } finally {
    await e.close();
  }
} finally {
  await browser.close();
}

const width = Math.max(...rows.map((r) => r.what.length));
const figureWidth = Math.max(...rows.map((r) => r.figure.length));
const floorWidth = Math.max(...rows.map((r) => r.floor.length));
say(`\n${'measure'.padEnd(width)}  ${'figure'.padStart(figureWidth)}  ${'floor'.padEnd(floorWidth)}`);
for (const r of rows)
  say(
    `${r.what.padEnd(width)}  ${r.figure.padStart(figureWidth)}  ${r.floor.padEnd(floorWidth)}  ${r.verdict}`.trimEnd(),
  );

async function toConfirmStep(page: Page, meterNo: string): Promise<void> {
  await meterField(page).fill(meterNo);
  await meterField(page).press('Enter');
  await customerHeading(page).waitFor();
  await page.keyboard.press('Enter');
  await amountField(page).fill('50');
  await amountField(page).press('Enter');
  await page.getByRole('button', { name: /^Sell R/ }).waitFor();
}

function printedPairUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\/pair\?key=[\w-]+/.exec(output)?.[0];
      if (url) resolve(url);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`openvend start exited ${code}: ${output}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
