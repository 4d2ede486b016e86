import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { EngineError } from '../engine/errors.ts';
import { SECURITY_HEADERS } from './content-security.ts';
import type { BridgeCaller } from './engine-thread.ts';

export interface BrowserHostOptions {
  engine: BridgeCaller;
  rendererDir: string;
  /** 0 picks a free port. */
  port: number;
  /** 127.0.0.1 unless serving other machines was explicitly enabled (which needs TLS). */
  hostname?: string;
  tls?: { cert: string; key: string };
  /** Overrides the random per-start secret (tests). */
  secret?: string;
  logger?: boolean;
}

export interface BrowserHost {
  url: string;
  /** The address to open once: it pairs the browser (sets the session cookie) and shows the UI. */
  pairUrl: string;
  port: number;
  close(): Promise<void>;
}

const COOKIE = 'openvend_pair';
/** CSV imports travel in one call; the contract caps the text at 64 MiB. */
const BODY_LIMIT = 70 * 1024 * 1024;

const isLoopback = (hostname: string) =>
  hostname === 'localhost' || hostname === '::1' || hostname.startsWith('127.');

function cookieValue(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE) return rest.join('=');
  }
  return undefined;
}

function sameSecret(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Browser mode: the same renderer build, served on loopback, with the same bridge contract over HTTP. A random
 * secret is made at each start; opening the printed /pair URL once stores it in an HttpOnly SameSite=Strict cookie,
 * and every other request needs it. The Host header must name this host (so a web page cannot reach the engine
 * through DNS rebinding) and a cross-origin POST is refused.
 */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const hostname = options.hostname ?? '127.0.0.1';
  if (!isLoopback(hostname) && !options.tls) {
    throw new EngineError(
      'ENGINE_START_FAILED',
      'Serving OpenVend to other computers needs a TLS certificate.',
      `refusing to listen on ${hostname} without TLS: give --tls-cert and --tls-key`,
    );
  }
  if (!existsSync(join(options.rendererDir, 'index.html'))) {
    throw new EngineError(
      'ENGINE_START_FAILED',
      'The OpenVend screens are not built.',
      `${options.rendererDir}/index.html missing (run: npm run build)`,
    );
  }
  const secret = options.secret ?? randomBytes(24).toString('base64url');
  const scheme = options.tls ? 'https' : 'http';
  const app: FastifyInstance = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT,
    ...(options.tls
      ? { https: { cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) } }
      : {}),
  });
  let allowedHosts = new Set<string>();

  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    reply.header('cache-control', 'no-store');
    if (!allowedHosts.has(request.headers.host ?? '')) {
      return reply.code(421).type('text/plain').send('Misdirected request');
    }
    const origin = request.headers.origin;
    if (
      request.method !== 'GET' &&
      origin !== undefined &&
      origin !== `${scheme}://${request.headers.host}`
    ) {
      return reply.code(403).type('text/plain').send('Cross-origin request refused');
    }
    if (request.url.startsWith('/pair')) return;
    if (!sameSecret(cookieValue(request), secret)) {
      return reply
        .code(401)
        .type('text/plain; charset=utf-8')
        .send('This screen is not paired with OpenVend. Open the address OpenVend printed when it started.');
    }
  });

  app.get('/pair', async (request, reply) => {
    const key = (request.query as { key?: string }).key;
    if (!sameSecret(key, secret)) {
      return reply
        .code(401)
        .type('text/plain')
        .send('Wrong or expired pairing key. Use the address OpenVend printed.');
    }
    const secure = options.tls ? '; Secure' : '';
    reply.header('set-cookie', `${COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/${secure}`);
    return reply.redirect('/', 303);
  });

  app.post<{ Params: { method: string } }>('/rpc/:method', async (request, reply) => {
    const response = await options.engine.call(request.params.method, request.body ?? {});
    return reply.type('application/json').send(response);
  });

  await app.register(fastifyStatic, { root: options.rendererDir, index: 'index.html', wildcard: true });

  await app.listen({ host: hostname, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shown = isIP(hostname) === 6 ? `[${hostname}]` : hostname;
  allowedHosts = new Set([
    `${shown}:${port}`,
    ...(isLoopback(hostname) ? [`localhost:${port}`, `127.0.0.1:${port}`] : []),
  ]);
  const url = `${scheme}://${shown}:${port}/`;
  return {
    url,
    pairUrl: `${url}pair?key=${secret}`,
    port,
    close: () => app.close(),
  };
}
