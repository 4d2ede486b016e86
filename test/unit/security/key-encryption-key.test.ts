import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../../src-main/engine/demo.ts';
import { loadVendingKeys } from '../../../src-main/engine/master-data.ts';
import { LEDGER_FILE } from '../../../src-main/ledger/data-dir.ts';
import { openLedger } from '../../../src-main/ledger/database.ts';
import {
  createKekFile,
  KEK_FILE,
  kekFromEnvironmentOrFile,
  sealSecret,
  unsealSecret,
} from '../../../src-main/security/key-encryption-key.ts';
import { isOpenVendError, type OpenVendError } from '../../../src-shared/errors/openvend-error.ts';

const work = mkdtempSync(join(tmpdir(), 'openvend-kek-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => {
  const dir = join(work, `d${++dirs}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
};
const posix = process.platform !== 'win32';

function thrown(action: () => unknown): OpenVendError {
  try {
    action();
  } catch (error) {
    if (isOpenVendError(error)) return error;
    throw error;
  }
  throw new Error('expected an OpenVendError, nothing was thrown');
}

const HEX_A = 'a1'.repeat(32);
const HEX_B = '5b'.repeat(32);

function writeKek(dir: string, content: string, mode = 0o600): string {
  const path = join(dir, KEK_FILE);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode); // writeFileSync's mode is filtered by the umask
  return path;
}

describe('kekFromEnvironmentOrFile', () => {
  it('OPENVEND_KEK wins over the key file', () => {
    const dir = freshDir();
    writeKek(dir, `${HEX_B}\n`);
    const source = kekFromEnvironmentOrFile(dir, { OPENVEND_KEK: HEX_A });
    expect(source.description).toContain('OPENVEND_KEK');
    expect(source.load()).toEqual(Buffer.from(HEX_A, 'hex'));
  });

  it('reads an owner-only kek.key file (trailing newline and upper-case hex accepted)', () => {
    const dir = freshDir();
    writeKek(dir, `${HEX_A.toUpperCase()}\n`);
    const source = kekFromEnvironmentOrFile(dir, {});
    expect(source.description).toContain(join(dir, KEK_FILE));
    expect(source.load()).toEqual(Buffer.from(HEX_A, 'hex'));
  });

  it.runIf(posix).each([0o640, 0o604, 0o644, 0o660, 0o666, 0o700 | 0o070])(
    'refuses a key file with group/other permissions (mode %o): SECURITY_KEK_FILE_OPEN_PERMISSIONS',
    (mode) => {
      const dir = freshDir();
      writeKek(dir, HEX_A, mode);
      const error = thrown(() => kekFromEnvironmentOrFile(dir, {}).load());
      expect(error.code).toBe('SECURITY_KEK_FILE_OPEN_PERMISSIONS');
      expect(error.userMessage).toMatch(/chmod 600/);
      expect(error.userMessage + error.detail).not.toContain(HEX_A);
    },
  );

  it.runIf(posix)('accepts 0400 (owner read-only)', () => {
    const dir = freshDir();
    writeKek(dir, HEX_A, 0o400);
    expect(kekFromEnvironmentOrFile(dir, {}).load()).toEqual(Buffer.from(HEX_A, 'hex'));
  });

  it('no environment variable and no file: SECURITY_KEK_MISSING', () => {
    const dir = freshDir();
    const error = thrown(() => kekFromEnvironmentOrFile(dir, {}).load());
    expect(error.code).toBe('SECURITY_KEK_MISSING');
    expect(error.userMessage).toContain('OPENVEND_KEK');
    expect(error.userMessage).toContain('kek.key');
  });

  it('an empty OPENVEND_KEK counts as not set', () => {
    const dir = freshDir();
    expect(thrown(() => kekFromEnvironmentOrFile(dir, { OPENVEND_KEK: '' }).load()).code).toBe(
      'SECURITY_KEK_MISSING',
    );
  });

  it.each([
    ['too short', 'ab'.repeat(31)],
    ['too long', 'ab'.repeat(33)],
    ['not hex', `${'zz'}${'ab'.repeat(31)}`],
    ['base64 instead of hex', randomBytes(32).toString('base64')],
  ])('a %s KEK is SECURITY_KEK_INVALID, from the environment or the file, without echoing it', (_, value) => {
    const fromEnv = thrown(() => kekFromEnvironmentOrFile(freshDir(), { OPENVEND_KEK: value }).load());
    expect(fromEnv.code).toBe('SECURITY_KEK_INVALID');
    expect(fromEnv.userMessage).toMatch(/64 hex digits/);
    expect(`${fromEnv.userMessage} ${fromEnv.detail} ${fromEnv.message}`).not.toContain(value);

    const dir = freshDir();
    writeKek(dir, value);
    const fromFile = thrown(() => kekFromEnvironmentOrFile(dir, {}).load());
    expect(fromFile.code).toBe('SECURITY_KEK_INVALID');
    expect(`${fromFile.userMessage} ${fromFile.detail}`).not.toContain(value);
  });
});

describe('createKekFile', () => {
  it('creates a 0600 file with 64 random hex digits that kekFromEnvironmentOrFile accepts', () => {
    const dir = freshDir();
    const path = createKekFile(dir);
    expect(path).toBe(join(dir, KEK_FILE));
    if (posix) expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(kekFromEnvironmentOrFile(dir, {}).load()).toHaveLength(32);
    const other = freshDir();
    createKekFile(other);
    expect(readFileSync(join(other, KEK_FILE), 'utf8')).not.toBe(readFileSync(path, 'utf8'));
  });

  it('refuses to overwrite an existing key file (the old one would seal keys nobody could open)', () => {
    const dir = freshDir();
    const path = writeKek(dir, `${HEX_A}\n`);
    expect(() => createKekFile(dir)).toThrow(/EEXIST|exists/);
    expect(readFileSync(path, 'utf8')).toBe(`${HEX_A}\n`);
  });
});

describe('sealSecret / unsealSecret (AES-256-GCM, context bound as AAD)', () => {
  const kek = Buffer.from(HEX_A, 'hex');
  const secret = Uint8Array.from(Buffer.from('0123456789abcdef', 'hex'));
  const context = 'openvend:vending-key:DKGA02:123456:1';

  it('round-trips, with a fresh IV each time (iv ‖ tag ‖ ciphertext)', () => {
    const a = sealSecret(kek, secret, context);
    const b = sealSecret(kek, secret, context);
    expect(a).toHaveLength(12 + 16 + secret.length);
    expect(a.equals(b)).toBe(false);
    expect(unsealSecret(kek, a, context)).toEqual(secret);
    expect(unsealSecret(kek, b, context)).toEqual(secret);
    expect(a.includes(Buffer.from(secret))).toBe(false);
  });

  it('a wrong KEK is SECURITY_KEY_UNSEAL_FAILED', () => {
    const sealed = sealSecret(kek, secret, context);
    const error = thrown(() => unsealSecret(Buffer.from(HEX_B, 'hex'), sealed, context));
    expect(error.code).toBe('SECURITY_KEY_UNSEAL_FAILED');
    expect(error.detail).toContain(context);
  });

  it('a changed context (the sealed key moved to another supply group or revision) is SECURITY_KEY_UNSEAL_FAILED', () => {
    const sealed = sealSecret(kek, secret, context);
    for (const moved of [
      'openvend:vending-key:DKGA02:123456:2',
      'openvend:vending-key:DKGA02:123457:1',
      'openvend:vending-key:DKGA04:123456:1',
    ]) {
      expect(thrown(() => unsealSecret(kek, sealed, moved)).code).toBe('SECURITY_KEY_UNSEAL_FAILED');
    }
  });

  it('any flipped bit (iv, tag or ciphertext) or a truncated blob is SECURITY_KEY_UNSEAL_FAILED', () => {
    const sealed = sealSecret(kek, secret, context);
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i]! ^= 0x01;
      expect(thrown(() => unsealSecret(kek, tampered, context)).code).toBe('SECURITY_KEY_UNSEAL_FAILED');
    }
    expect(thrown(() => unsealSecret(kek, sealed.subarray(0, 20), context)).code).toBe(
      'SECURITY_KEY_UNSEAL_FAILED',
    );
  });

  it('errors never carry the secret or the KEK', () => {
    const sealed = sealSecret(kek, secret, context);
    const error = thrown(() => unsealSecret(Buffer.from(HEX_B, 'hex'), sealed, context));
    const text =
      `${error.message} ${error.userMessage} ${error.detail} ${JSON.stringify(error)}`.toLowerCase();
    for (const needle of [HEX_A, HEX_B, '0123456789abcdef']) expect(text).not.toContain(needle);
  });
});

describe('vending keys at rest in the demo ledger', () => {
  const kek = randomBytes(32);
  const dir = join(work, 'demo');
  const ledger = openLedger(dir);
  seedDemo(ledger.sqlite, kek, new Date('2026-03-10T08:00:00Z'));
  ledger.close();
  const files = () => readdirSync(dir).filter((name) => name.startsWith(LEDGER_FILE));
  const clearKeys = ['abababababababab', 'cdcdcdcdcdcdcdcd', '9494949494949494'];

  it('no ledger file contains a vending key, as raw bytes or as hex (any case)', () => {
    expect(files()).toContain(LEDGER_FILE);
    for (const name of files()) {
      const bytes = readFileSync(join(dir, name));
      for (const hex of clearKeys) {
        expect(bytes.includes(Buffer.from(hex, 'hex')), `${name} holds raw ${hex}`).toBe(false);
        expect(bytes.includes(Buffer.from(hex, 'latin1')), `${name} holds hex ${hex}`).toBe(false);
        expect(bytes.includes(Buffer.from(hex.toUpperCase(), 'latin1')), `${name} holds HEX ${hex}`).toBe(
          false,
        );
      }
    }
  });

  it('the supply_group rows hold only sealed blobs, which unseal to the demo keys with the right KEK', () => {
    const db = new Database(join(dir, LEDGER_FILE), { readonly: true });
    try {
      const rows = db.prepare('SELECT vending_key_sealed AS sealed FROM supply_group').all() as Array<{
        sealed: Buffer;
      }>;
      expect(rows).toHaveLength(3);
      for (const { sealed } of rows) {
        for (const hex of clearKeys) {
          expect(sealed.includes(Buffer.from(hex, 'hex'))).toBe(false);
          expect(sealed.toString('latin1')).not.toContain(hex);
        }
      }
      const keys = loadVendingKeys(db, kek).map((k) => k.key.revealHex().toLowerCase());
      expect(keys.sort()).toEqual(
        ['abababababababab', 'cdcdcdcdcdcdcdcd', 'abababababababab949494949494949401234567'].sort(),
      );
      expect(thrown(() => loadVendingKeys(db, randomBytes(32))).code).toBe('SECURITY_KEY_UNSEAL_FAILED');
    } finally {
      db.close();
    }
  });

  it('a sealed key copied onto another supply-group row does not unseal there', () => {
    const copyDir = join(work, 'demo-moved');
    mkdirSync(copyDir);
    const path = join(copyDir, LEDGER_FILE);
    writeFileSync(path, readFileSync(join(dir, LEDGER_FILE)));
    const db = new Database(path);
    try {
      db.prepare(
        "UPDATE supply_group SET vending_key_sealed = (SELECT vending_key_sealed FROM supply_group WHERE krn = 2 AND sgc = '123456') WHERE krn = 1 AND sgc = '123456'",
      ).run();
      expect(thrown(() => loadVendingKeys(db, kek)).code).toBe('SECURITY_KEY_UNSEAL_FAILED');
    } finally {
      db.close();
    }
  });
});
