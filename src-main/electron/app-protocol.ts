import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { SECURITY_HEADERS } from '../host/content-security.ts';
import { APP_HOST } from './window-security.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/**
 * Serves the renderer build for the app:// scheme: GET only, our host only, no path outside the build folder,
 * and the same security headers (CSP) as browser mode. A plain Request → Response function, so it is tested in Node.
 */
export async function serveAppRequest(request: Request, rendererDir: string): Promise<Response> {
  const headers = { ...SECURITY_HEADERS };
  if (request.method !== 'GET') return new Response('Method not allowed', { status: 405, headers });
  const url = new URL(request.url);
  if (url.host !== APP_HOST) return new Response('Not found', { status: 404, headers });
  const relativePath = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
  const root = normalize(rendererDir + sep);
  const path = normalize(join(root, relativePath));
  if (!path.startsWith(root)) return new Response('Not found', { status: 404, headers });
  try {
    const body = await readFile(path);
    return new Response(body, {
      status: 200,
      headers: { ...headers, 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' },
    });
  } catch {
    return new Response('Not found', { status: 404, headers });
  }
}
