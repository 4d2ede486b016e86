import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngineFixture, deterministicVend, TEST_KEK } from '../support/engine-fixture.ts';
import { BACKEND_START_MS, createBackend, type TestBackend } from './support.ts';

/**
 * `openvend server` and `openvend server admin`, `openvend sync …` as real child processes: head office
 * sets up an outlet, the server starts, the outlet enrolls and pushes its sales.
 */

const bin = new URL('../../src-main/bin/openvend.mjs', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'openvend-server-cli-'));
const children: ChildProcess[] = [];
/** Each case starts several processes (tsx, PGlite): minutes on a busy machine, not seconds. */
const CASE_MS = 180_000;

function env(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {
    ...process.env,
    OPENVEND_KEK: TEST_KEK().toString('hex'),
    OPENVEND_LOG_LEVEL: 'warn',
  };
  delete out.DATABASE_URL;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

function openvend(args: string[], extra: Record<string, string | undefined> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: env(extra),
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    json: <T = Record<string, unknown>>() => JSON.parse(result.stdout) as T,
  };
}

/** Like `openvend`, without blocking the test worker; `input` goes to standard input. */
function openvendAsync(args: string[], input = '') {
  const child = spawn(process.execPath, [bin, ...args], { env: env({}) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(input);
  return new Promise<{ status: number | null; stdout: string; stderr: string; json: <T>() => T }>(
    (resolve) => {
      child.on('close', (status) =>
        resolve({ status, stdout, stderr, json: <T>() => JSON.parse(stdout) as T }),
      );
    },
  );
}

/** Starts `openvend server …` and resolves with its first lines once it listens. */
function startServer(args: string[], extra: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, [bin, 'server', ...args], { env: env(extra) });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = new Promise<{ url: string; stdout: string }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /listening on (\S+)/.exec(stdout)?.[1];
      const database = stdout.indexOf('database:');
      if (url && database >= 0 && stdout.includes('\n', database)) resolve({ url, stdout });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited, stderr: () => stderr };
}

let backend: TestBackend;
beforeAll(async () => {
  backend = await createBackend('postgresql');
}, BACKEND_START_MS);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await backend?.drop();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

describe('openvend server and openvend sync (child processes)', () => {
  it(
    'head office sets up an outlet; the outlet enrolls and pushes its sales',
    async () => {
      const db = { DATABASE_URL: backend.url! };
      const serverDir = join(work, 'server-pg');
      expect(
        openvend(['server', 'admin', 'utility', 'create', '--code', 'CITY', '--name', 'City Power'], db)
          .status,
      ).toBe(0);
      const outlet = openvend(
        [
          'server',
          'admin',
          'outlet',
          'create',
          '--utility',
          'CITY',
          '--code',
          'SHOP-1',
          '--name',
          'Corner Shop',
        ],
        db,
      );
      expect(outlet.status, outlet.stderr).toBe(0);
      expect(outlet.json()).toMatchObject({ code: 'SHOP-1', utilityCode: 'CITY' });
      const missing = openvend(
        ['server', 'admin', 'outlet', 'create', '--utility', 'NOPE', '--code', 'X', '--name', 'x'],
        db,
      );
      expect(missing.status).toBe(2);
      expect(JSON.parse(missing.stderr).error.code).toBe('ADMIN_NOT_FOUND');
      const code = openvend(
        [
          'server',
          'admin',
          'enrollment-code',
          '--outlet',
          'SHOP-1',
          '--expires-in',
          '2h',
          '--data-dir',
          serverDir,
        ],
        db,
      ).json<{ code: string; outletCommand: string }>();
      expect(code.outletCommand).toContain(`--code ${code.code}`);

      const server = startServer(['--insecure-http', '--port', '0', '--data-dir', serverDir], db);
      const { url, stdout } = await server.ready;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(stdout).toContain('database: postgresql');
      expect(stdout).toContain('WARNING: plain HTTP');

      const fixture = createEngineFixture({ now: new Date() });
      try {
        const open = fixture.open();
        for (let n = 1; n <= 3; n++) {
          open.engine.vend(fixture.sessions.cashier, deterministicVend('cli', n, fixture.vendableMeters));
        }
        open.close();
        const outletDir = ['--data-dir', fixture.dataDir];
        const enrolled = openvend([
          'sync',
          'enroll',
          ...outletDir,
          '--server',
          url,
          '--code',
          code.code,
          '--insecure-http',
        ]);
        expect(enrolled.status, enrolled.stderr).toBe(0);
        expect(enrolled.json()).toMatchObject({ outletCode: 'SHOP-1', utilityName: 'City Power' });
        const pushed = openvend(['sync', 'push', ...outletDir, '--json']);
        expect(pushed.status, pushed.stderr).toBe(0);
        expect(pushed.json()).toEqual({
          sealed: 1,
          applied: 1,
          duplicates: 0,
          rejectedEvents: 0,
          halted: null,
          error: null,
        });
        const status = openvend(['sync', 'status', ...outletDir, '--json']).json();
        expect(status).toMatchObject({
          state: 'online',
          pendingEvents: 0,
          quarantinedEvents: 0,
          outletCode: 'SHOP-1',
        });
        const devices = openvend(['server', 'admin', 'device', 'list'], db).json<
          Array<{ lastSeq: number }>
        >();
        expect(devices).toEqual([
          expect.objectContaining({ outletCode: 'SHOP-1', status: 'active', lastSeq: 1 }),
        ]);
      } finally {
        fixture.cleanup();
      }
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    },
    CASE_MS,
  );

  it(
    'runs on its embedded database by default over HTTPS, and keeps admin commands off it while running',
    async () => {
      const serverDir = join(work, 'server-embedded');
      const server = startServer(['--host', '127.0.0.1', '--port', '0', '--data-dir', serverDir]);
      const { url, stdout } = await server.ready;
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(stdout).toContain('database: pglite');
      expect(stdout).toMatch(
        /TLS certificate SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2} \(new self-signed/,
      );
      const locked = openvend(['server', 'admin', 'outlet', 'list', '--data-dir', serverDir]);
      expect(locked.status, locked.stderr).toBe(2);
      expect(JSON.parse(locked.stderr).error.code).toBe('SERVER_DATA_DIR_LOCKED');
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      const after = openvend(['server', 'admin', 'outlet', 'list', '--data-dir', serverDir]);
      expect(after.status, after.stderr).toBe(0);
      expect(after.json()).toEqual([]);
    },
    CASE_MS,
  );
  it(
    'sends master data down through admin commands; bad input exits non-zero and writes nothing',
    async () => {
      const dir = ['--data-dir', join(work, 'server-master')];
      // Asynchronous children: a minute of spawnSync would block the test worker's own messages.
      const admin = (...args: string[]) => openvendAsync(['server', 'admin', ...args, ...dir]);
      expect((await admin('utility', 'create', '--code', 'CITY', '--name', 'City Power')).status).toBe(0);
      const created = await admin(
        'outlet',
        'create',
        '--utility',
        'CITY',
        '--code',
        'SHOP-1',
        '--name',
        'Shop',
      );
      expect(created.status, created.stderr).toBe(0);
      const good = join(work, 'customers.csv');
      writeFileSync(good, 'account_no,name,fbe_eligible\nC-1,Ada,yes\nC-2,Ben,no\n');
      const bad = join(work, 'customers-bad.csv');
      writeFileSync(bad, 'account_no,name\nC-3,\n');
      const imported = await admin('master', 'import-customers', '--utility', 'CITY', '--file', good);
      expect(imported.status, imported.stderr).toBe(0);
      expect(imported.json()).toEqual({ imported: 2, problems: [] });
      const refused = await admin('master', 'import-customers', '--utility', 'CITY', '--file', bad);
      expect(refused.status).toBe(1);
      expect(refused.json<{ imported: number }>().imported).toBe(0);
      const blocked = await admin(
        'master',
        'block-meter',
        '--utility',
        'CITY',
        '--meter',
        '01234567890',
        '--reason',
        'tampered',
      );
      expect(blocked.status, blocked.stderr).toBe(0);
      const topUp = await admin(
        'master',
        'float-top-up',
        '--outlet',
        'SHOP-1',
        '--amount-minor',
        '50000',
        '--reference',
        'DEP-1',
      );
      expect(topUp.status, topUp.stderr).toBe(0);
      expect(topUp.json<{ seq: number }>().seq).toBeGreaterThan(blocked.json<{ seq: number }>().seq);
      const fractional = await admin(
        'master',
        'float-top-up',
        '--outlet',
        'SHOP-1',
        '--amount-minor',
        '12.5',
        '--reference',
        'X',
      );
      expect(fractional.status).toBe(2);
      expect(fractional.stderr).toContain('whole number');
      const authority = await admin(
        'master',
        'authority',
        '--outlet',
        'SHOP-1',
        '--credit-limit-minor',
        '1000000',
        '--valid-until',
        '2027-01-31T22:00:00Z',
      );
      expect(authority.status, authority.stderr).toBe(0);
      const operator = await openvendAsync(
        [
          'server',
          'admin',
          'master',
          'operator',
          '--utility',
          'CITY',
          '--username',
          'thandi',
          '--display-name',
          'Thandi',
          '--role',
          'cashier',
          '--password-stdin',
          ...dir,
        ],
        'a long secret\n',
      );
      expect(operator.status, operator.stderr).toBe(0);
      expect(operator.stdout).not.toContain('a long secret');
    },
    CASE_MS,
  );
});
