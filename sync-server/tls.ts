import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ServerError } from './errors.ts';

export const TLS_DIR = 'tls';
export const CERT_FILE = 'server.crt';
export const KEY_FILE = 'server.key';

export interface ServerTls {
  key: string;
  cert: string;
  /** SHA-256 of the certificate, AA:BB:… (what outlets pin). */
  fingerprint: string;
  certPath: string;
  generated: boolean;
}

export const certificateFingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

function readPair(certPath: string, keyPath: string, generated: boolean): ServerTls {
  const cert = readFileSync(certPath, 'utf8');
  const key = readFileSync(keyPath, 'utf8');
  let fingerprint: string;
  try {
    fingerprint = certificateFingerprint(cert);
  } catch (error) {
    throw new ServerError(
      'SERVER_TLS',
      `The TLS certificate ${certPath} cannot be read.`,
      (error as Error).message,
    );
  }
  return { key, cert, fingerprint, certPath, generated };
}

/**
 * The server's TLS identity: a given certificate and key, else the self-signed pair in the data folder,
 * created on first start with the `openssl` command (P-256, 10 years; owner-only files). Outlets pin its
 * fingerprint at enrollment, so it must never change silently: an existing pair is always reused.
 */
export function loadOrCreateTls(
  dataDir: string,
  given: { certPath?: string | undefined; keyPath?: string | undefined } = {},
): ServerTls {
  if (given.certPath || given.keyPath) {
    if (!given.certPath || !given.keyPath) {
      throw new ServerError('SERVER_CONFIG', 'Give both --tls-cert and --tls-key, or neither.');
    }
    return readPair(given.certPath, given.keyPath, false);
  }
  const dir = join(dataDir, TLS_DIR);
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) return readPair(certPath, keyPath, false);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // Written beside the final names, then renamed: a crash never leaves half a pair.
  const tmpCert = `${certPath}.tmp`;
  const tmpKey = `${keyPath}.tmp`;
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=OpenVend sync server',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '-keyout',
      tmpKey,
      '-out',
      tmpCert,
    ],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, OPENSSL_CONF: '/dev/null' } },
  );
  if (result.error || result.status !== 0) {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
    throw new ServerError(
      'SERVER_TLS',
      'The sync server could not create its TLS certificate: install the openssl command, or give --tls-cert and --tls-key.',
      result.error?.message ?? result.stderr,
    );
  }
  chmodSync(tmpKey, 0o600);
  chmodSync(tmpCert, 0o600);
  renameSync(tmpKey, keyPath);
  renameSync(tmpCert, certPath);
  return readPair(certPath, keyPath, true);
}
