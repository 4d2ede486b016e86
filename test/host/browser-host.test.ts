import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHost, startBrowserHost } from '../../src-main/host/browser-host.ts';
import { createServiceFixture, type ServiceFixture } from '../support/service-fixture.ts';

const rendererDir = mkdtempSync(join(tmpdir(), 'openvend-renderer-'));
mkdirSync(join(rendererDir, 'assets'));
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>OpenVend</title><div id="root"></div>');
writeFileSync(join(rendererDir, 'assets', 'main.js'), 'export {}');

let f: ServiceFixture;
let host: BrowserHost;
let cookie = '';
beforeAll(async () => {
  f = createServiceFixture();
  host = await startBrowserHost({
    engine: { call: (method, body) => f.running.service.dispatch(method, body) },
    rendererDir,
    port: 0,
  });
  const paired = await fetch(host.pairUrl, { redirect: 'manual' });
  cookie = (paired.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
});
afterAll(async () => {
  await host.close();
  await f.cleanup();
  rmSync(rendererDir, { recursive: true, force: true });
});

const rpc = (method: string, body: unknown, headers: Record<string, string> = { cookie }) =>
  fetch(`${host.url}rpc/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** A raw request with a chosen Host header (fetch does not let a page or a test set it). */
const withHost = (hostHeader: string) =>
  new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: host.port, path: '/', headers: { host: hostHeader, cookie } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });

describe('browser-mode host', () => {
  it('listens on loopback only and prints a pairing address with a per-start secret', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(host.pairUrl).toMatch(/\/pair\?key=[\w-]{32}$/);
  });

  it('pairing sets an HttpOnly SameSite=Strict cookie and redirects to the UI', async () => {
    const paired = await fetch(host.pairUrl, { redirect: 'manual' });
    expect(paired.status).toBe(303);
    expect(paired.headers.get('location')).toBe('/');
    const setCookie = paired.headers.get('set-cookie') ?? '';
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
  });

  it('serves the UI with the strict CSP to a paired browser', async () => {
    const page = await fetch(host.url, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('OpenVend');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses an unpaired browser: no UI, no engine', async () => {
    expect((await fetch(host.url)).status).toBe(401);
    const call = await rpc('app.info', { args: {} }, {});
    expect(call.status).toBe(401);
    expect((await fetch(`${host.url}pair?key=wrong`, { redirect: 'manual' })).status).toBe(401);
    const forged = await rpc('app.info', { args: {} }, { cookie: 'openvend_pair=forged' });
    expect(forged.status).toBe(401);
  });

  it('refuses a request naming another host (DNS rebinding)', async () => {
    expect(await withHost(`127.0.0.1:${host.port}`)).toBe(200);
    expect(await withHost(`localhost:${host.port}`)).toBe(200);
    expect(await withHost(`evil.example:${host.port}`)).toBe(421);
  });

  it('refuses a cross-origin call', async () => {
    const response = await rpc('app.info', { args: {} }, { cookie, origin: 'https://evil.example' });
    expect(response.status).toBe(403);
  });

  it('carries the contract over HTTP: login, then a session call', async () => {
    const info = (await (await rpc('app.info', { args: {} })).json()) as {
      ok: boolean;
      result: { host: string };
    };
    expect(info).toMatchObject({ ok: true, result: { host: 'browser' } });
    const login = (await (
      await rpc('auth.login', { args: { username: 'cashier', password: 'demo-cashier-pass' } })
    ).json()) as { ok: true; result: { session: string } };
    const confirm = (await (
      await rpc('meter.confirm', {
        session: login.result.session,
        args: { meterNumber: f.fixture.meterNumbers[0] },
      })
    ).json()) as { ok: boolean; result: { meterNo: string } };
    expect(confirm).toMatchObject({ ok: true, result: { meterNo: f.fixture.meterNumbers[0] } });
  });

  it('answers bad input with 4xx or a typed error, and keeps running', async () => {
    expect((await rpc('app.info', '{not json')).status).toBe(400);
    const unknown = (await (await rpc('nope', { args: {} })).json()) as {
      ok: boolean;
      error: { code: string };
    };
    expect(unknown).toMatchObject({ ok: false, error: { code: 'BRIDGE_UNKNOWN_METHOD' } });
    const big = await rpc('app.info', JSON.stringify({ args: { pad: 'x'.repeat(71 * 1024 * 1024) } }));
    expect(big.status).toBe(413);
    expect((await rpc('app.info', { args: {} })).status).toBe(200);
  });

  it('will not serve other computers without TLS', async () => {
    await expect(
      startBrowserHost({
        engine: { call: async () => ({ ok: true, result: null }) },
        rendererDir,
        port: 0,
        hostname: '0.0.0.0',
      }),
    ).rejects.toMatchObject({ code: 'ENGINE_START_FAILED', detail: expect.stringContaining('without TLS') });
  });
});
