import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveAppRequest } from '../../../src-main/electron/app-protocol.ts';

const root = mkdtempSync(join(tmpdir(), 'openvend-app-protocol-'));
const rendererDir = join(root, 'renderer');
mkdirSync(join(rendererDir, 'assets'), { recursive: true });
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>OpenVend</title>');
writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(root, 'secret.txt'), 'outside the build');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => serveAppRequest(new Request(url, { method }), rendererDir);

describe('app:// protocol', () => {
  it('serves the build with the strict CSP and the right content type', async () => {
    const index = await get('app://openvend/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('content-security-policy')).not.toContain('unsafe');
    expect(await index.text()).toContain('OpenVend');
    const script = await get('app://openvend/assets/app.js');
    expect(script.headers.get('content-type')).toContain('text/javascript');
  });

  it.each([
    ['a path outside the build', 'app://openvend/../secret.txt'],
    ['an encoded traversal', 'app://openvend/%2e%2e/secret.txt'],
    ['an encoded slash traversal', 'app://openvend/assets/..%2f..%2fsecret.txt'],
    ['another host', 'app://other/index.html'],
    ['a missing file', 'app://openvend/nope.js'],
  ])('refuses %s with 404', async (_label, url) => {
    const response = await get(url);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('outside the build');
  });

  it('refuses anything but GET', async () => {
    expect((await get('app://openvend/index.html', 'POST')).status).toBe(405);
  });
});
