import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecurityError } from './errors.ts';

/**
 * The key-encryption key (KEK) that seals vending keys at rest with AES-256-GCM.
 * Headless sources, in order: OPENVEND_KEK (64 hex digits), then an owner-only file `kek.key` in the data
 * directory. The desktop app supplies it from the OS keychain through the same `KekSource` seam.
 */
export const KEK_FILE = 'kek.key';
const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface KekSource {
  load(): Buffer;
  readonly description: string;
}

function parseKek(hex: string, where: string): Buffer {
  const clean = hex.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(clean)) {
    throw new SecurityError(
      'SECURITY_KEK_INVALID',
      'The key-encryption key is not valid (it must be 64 hex digits).',
      `${where}: expected 64 hex digits, got ${clean.length} characters`,
    );
  }
  return Buffer.from(clean, 'hex');
}

export function kekFromEnvironmentOrFile(dataDir: string, env: NodeJS.ProcessEnv = process.env): KekSource {
  if (env.OPENVEND_KEK) {
    const value = env.OPENVEND_KEK;
    return { description: 'environment variable OPENVEND_KEK', load: () => parseKek(value, 'OPENVEND_KEK') };
  }
  const path = join(dataDir, KEK_FILE);
  return {
    description: `key file ${path}`,
    load() {
      if (!existsSync(path)) {
        throw new SecurityError(
          'SECURITY_KEK_MISSING',
          'The key-encryption key is missing: set OPENVEND_KEK or restore the kek.key file of this outlet.',
          `no OPENVEND_KEK and no ${path}`,
        );
      }
      if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
        throw new SecurityError(
          'SECURITY_KEK_FILE_OPEN_PERMISSIONS',
          'The key file can be read by other users. Restrict it to its owner (chmod 600) and try again.',
          `${path} has mode ${(statSync(path).mode & 0o777).toString(8)}; required 600`,
        );
      }
      return parseKek(readFileSync(path, 'utf8'), path);
    },
  };
}

/** Creates a fresh owner-only KEK file (at `openvend init`); refuses to overwrite one. */
export function createKekFile(dataDir: string): string {
  const path = join(dataDir, KEK_FILE);
  writeFileSync(path, `${randomBytes(KEK_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return path;
}

/** AES-256-GCM: iv ‖ tag ‖ ciphertext. `context` is bound as associated data so a sealed key cannot be moved. */
export function sealSecret(kek: Buffer, plaintext: Uint8Array, context: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function unsealSecret(kek: Buffer, sealed: Uint8Array, context: string): Uint8Array {
  try {
    const data = Buffer.from(sealed);
    const decipher = createDecipheriv('aes-256-gcm', kek, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return new Uint8Array(
      Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]),
    );
  } catch (error) {
    throw new SecurityError(
      'SECURITY_KEY_UNSEAL_FAILED',
      'A stored vending key cannot be opened with this key-encryption key.',
      `AES-GCM open failed for ${context}: ${(error as Error).message}`,
    );
  }
}
