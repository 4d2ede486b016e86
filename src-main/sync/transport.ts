import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { SyncError } from '../../src-shared/sync/errors.ts';

/**
 * HTTP(S) to the sync server with the server certificate pinned: the certificate stored at enrollment is
 * the only trust anchor, and its SHA-256 must match the pinned fingerprint (the host name is not checked:
 * outlets often reach the server by an address the certificate does not name). Nothing is sent to a server
 * that fails the pin.
 */

export interface TransportResponse {
  status: number;
  body: Buffer;
}

export interface SyncTransport {
  send(
    method: 'GET' | 'POST',
    path: string,
    body: Buffer | null,
    headers: Record<string, string>,
  ): Promise<TransportResponse>;
  close(): void;
}

export interface PinnedServer {
  serverUrl: string;
  /** Required for https: the certificate pinned at enrollment. */
  certificatePem: string | null;
  fingerprint: string | null;
  timeoutMs?: number;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

const TLS_TRUST_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'ERR_OPENVEND_PIN',
]);

/** A server address the protocol can use: http(s), a host, no path, query or credentials. */
export function parseServerUrl(serverUrl: string): URL {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new SyncError('SYNC_MALFORMED', `not a URL: ${serverUrl}`, {
      userMessage: `The server address ${serverUrl} is not valid (example: https://sync.example.com:8443).`,
    });
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.username ||
    url.password
  ) {
    throw new SyncError('SYNC_MALFORMED', `unsupported server URL ${serverUrl}`, {
      userMessage: 'The server address must be https://HOST[:PORT] with nothing after it.',
    });
  }
  return url;
}

function transportError(error: NodeJS.ErrnoException, server: string): SyncError {
  if (error.code && TLS_TRUST_ERRORS.has(error.code)) {
    return new SyncError('SYNC_SERVER_IDENTITY', `${server}: ${error.code} ${error.message}`);
  }
  return new SyncError('SYNC_UNAVAILABLE', `${server}: ${error.code ?? ''} ${error.message}`.trim());
}

export function createTransport(server: PinnedServer): SyncTransport {
  const url = parseServerUrl(server.serverUrl);
  const secure = url.protocol === 'https:';
  if (secure && (!server.certificatePem || !server.fingerprint)) {
    throw new SyncError('SYNC_SERVER_IDENTITY', 'https server without a pinned certificate');
  }
  const pinned = server.fingerprint;
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        maxSockets: 2,
        ca: server.certificatePem!,
        checkServerIdentity: (_host, cert) =>
          cert.fingerprint256 === pinned
            ? undefined
            : Object.assign(new Error(`certificate ${cert.fingerprint256} is not the pinned ${pinned}`), {
                code: 'ERR_OPENVEND_PIN',
              }),
      })
    : new http.Agent({ keepAlive: true, maxSockets: 2 });
  const timeoutMs = server.timeoutMs ?? 30_000;
  const request = secure ? https.request : http.request;
  return {
    send(method, path, body, headers) {
      return new Promise<TransportResponse>((resolve, reject) => {
        const req = request(
          {
            protocol: url.protocol,
            hostname: url.hostname.replace(/^\[|\]$/g, ''),
            port: url.port || (secure ? 443 : 80),
            method,
            path,
            agent,
            headers: {
              ...headers,
              ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > MAX_RESPONSE_BYTES) {
                req.destroy(new Error(`response over ${MAX_RESPONSE_BYTES} bytes`));
                return;
              }
              chunks.push(chunk);
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
            res.on('error', (error) => reject(transportError(error, url.origin)));
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (error) => reject(transportError(error, url.origin)));
        req.end(body ?? undefined);
      });
    },
    close: () => agent.destroy(),
  };
}

/**
 * The certificate a server presents, fetched without trusting it (before enrollment), so the outlet can
 * compare its fingerprint with the one head office gave, before the enrollment code is sent.
 */
export function probeServerCertificate(
  serverUrl: string,
  timeoutMs = 15_000,
): Promise<{ pem: string; fingerprint: string }> {
  const url = parseServerUrl(serverUrl);
  return new Promise((resolve, reject) => {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const socket = tlsConnect({
      host: hostname,
      port: Number(url.port || 443),
      rejectUnauthorized: false,
      ...(/^[\d.:]+$/.test(hostname) ? {} : { servername: hostname }),
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no TLS answer within ${timeoutMs} ms`)));
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate(true).raw;
      socket.end();
      if (!raw) {
        reject(new SyncError('SYNC_SERVER_IDENTITY', `${url.origin} presented no certificate`));
        return;
      }
      const certificate = new X509Certificate(raw);
      resolve({ pem: certificate.toString(), fingerprint: certificate.fingerprint256 });
    });
    socket.once('error', (error) => reject(transportError(error, url.origin)));
  });
}

/** Fingerprints compare without case or separators: "aa bb …" equals "AA:BB:…". */
export const normalizeFingerprint = (text: string): string =>
  text
    .replace(/^sha256[:=]?/i, '')
    .replace(/[^0-9a-f]/gi, '')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
