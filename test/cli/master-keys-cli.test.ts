import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoPan } from '../../src-main/engine/demo.ts';
import { openMigratedDatabase } from '../../sync-server/start.ts';

/**
 * `openvend server admin master supply-group | tariff | import-meters | key-change | rollover | retire-meter` as
 * real child processes on the embedded database: the vending key comes from standard input only, the server
 * makes its owner-only kek.key, and the key is nowhere in clear in the output or the database.
 */

const bin = new URL('../../src-main/bin/openvend.mjs', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'openvend-master-keys-cli-'));
const dataDir = join(work, 'server');
const VENDING_KEY = '0123456789abcdef';
/** Several processes (tsx, PGlite) one after another: minutes on a busy machine. */
const CASE_MS = 300_000;

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `openvend server admin master …` without blocking the test worker; `input` goes to standard input. */
function admin(args: string[], input = '') {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENVEND_LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.OPENVEND_SERVER_KEK;
  const child = spawn(process.execPath, [bin, 'server', 'admin', ...args, '--data-dir', dataDir], { env });
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

const master = (...args: string[]) => admin(['master', ...args, '--utility', 'CITY']);

describe('openvend server admin master (keys, tariffs, meters, key changes)', () => {
  it(
    'publishes a key from stdin, a tariff, meters and key changes; bad input exits non-zero',
    async () => {
      expect((await admin(['utility', 'create', '--code', 'CITY', '--name', 'City Power'])).status).toBe(0);
      const group = (krn: string, key: string) =>
        admin(
          [
            'master',
            'supply-group',
            '--utility',
            'CITY',
            '--sgc',
            '123456',
            '--krn',
            krn,
            '--name',
            `KRN ${krn}`,
            '--base-date',
            '1993',
            '--key-stdin',
          ],
          `${key}\n`,
        );
      const published = await group('1', VENDING_KEY);
      expect(published.status, published.stderr).toBe(0);
      expect(published.json()).toMatchObject({
        key: '123456:1:DKGA02',
        kcv: expect.stringMatching(/^[0-9A-F]{6}$/),
      });
      expect(`${published.stdout}${published.stderr}`).not.toContain(VENDING_KEY);
      if (process.platform !== 'win32') expect(statSync(join(dataDir, 'kek.key')).mode & 0o777).toBe(0o600);
      const shortKey = await group('2', 'abcd');
      expect(shortKey.status).not.toBe(0);
      expect(shortKey.stderr).not.toContain('abcd');
      expect((await group('2', 'fedcba9876543210')).status).toBe(0);

      const tariffFile = join(work, 'tariff.json');
      const version = {
        version: 1,
        effectiveFromLocal: '2026-01-01',
        kind: 'flat',
        blocks: [{ upToUnits: null, rateMilliMinorPerKwh: 250_000 }],
        vatRateBp: 1500,
        pricesIncludeVat: true,
        fixedCharge: null,
        levies: [],
        fbeMonthlyUnits: 0,
        minVendMinor: 100,
        maxVendMinor: 500_000,
      };
      const tariff = { code: 'HQ-FLAT', name: 'Flat', ti: 1, resource: 'electricity', versions: [version] };
      writeFileSync(tariffFile, JSON.stringify(tariff));
      const tariffed = await master('tariff', '--file', tariffFile);
      expect(tariffed.status, tariffed.stderr).toBe(0);
      expect(tariffed.json()).toMatchObject({ code: 'HQ-FLAT', added: 1 });
      writeFileSync(tariffFile, JSON.stringify({ ...tariff, versions: [{ ...version, vatRateBp: 0 }] }));
      const republished = await master('tariff', '--file', tariffFile);
      expect(republished.status).not.toBe(0);
      expect(republished.stderr).toContain('already published');

      const meters = join(work, 'meters.csv');
      writeFileSync(
        meters,
        `pan,meter_type,customer_account_no,tariff_code,sgc,ti,krn,key_type,ea,dkga,base_date,ken\n${[1, 2]
          .map((n) => `${demoPan(n)},electricity,,HQ-FLAT,123456,1,1,2,EA07,DKGA02,1993,255`)
          .join('\n')}\n`,
      );
      const imported = await master('import-meters', '--file', meters);
      expect(imported.status, imported.stderr).toBe(0);
      expect(imported.json()).toEqual({ imported: 2, problems: [] });
      writeFileSync(meters, `pan,meter_type,tariff_code\n${demoPan(3)},electricity,NOPE\n`);
      const refused = await master('import-meters', '--file', meters);
      expect(refused.status).toBe(1);
      expect(refused.json<{ imported: number }>().imported).toBe(0);

      const meter1 = demoPan(1).slice(6);
      const changed = await master('key-change', '--meter', meter1, '--to-krn', '2');
      expect(changed.status, changed.stderr).toBe(0);
      expect(changed.json()).toMatchObject({ keyChange: { krn: 2, cancelled: false } });
      const rollover = await master('rollover', '--sgc', '123456', '--to-base-date', '2014');
      expect(rollover.status, rollover.stderr).toBe(0);
      expect(rollover.json()).toMatchObject({ scheduled: 2 });
      const cancelled = await master('key-change', '--meter', meter1, '--cancel');
      expect(cancelled.status, cancelled.stderr).toBe(0);
      const badKrn = await master('key-change', '--meter', meter1, '--to-krn', 'two');
      expect(badKrn.status).toBe(2);
      const retired = await master('retire-meter', '--meter', demoPan(2).slice(6));
      expect(retired.status, retired.stderr).toBe(0);

      // The database holds the key sealed only.
      const database = await openMigratedDatabase({ dataDir }, 'test');
      try {
        const rows = (await database.db.execute('SELECT kind, data FROM master_change')) as unknown as {
          rows: Array<{ kind: string; data: unknown }>;
        };
        const text = JSON.stringify(rows.rows);
        expect(text).not.toMatch(new RegExp(VENDING_KEY, 'i'));
        expect(text).not.toContain(Buffer.from(VENDING_KEY, 'hex').toString('base64'));
        expect(rows.rows.map((r) => r.kind)).toEqual([
          'supply-group',
          'supply-group',
          'tariff',
          'meter',
          'meter',
          'meter.key-change',
          'meter.key-change',
          'meter.key-change',
          'meter.key-change',
          'meter',
        ]);
      } finally {
        await database.close();
      }
    },
    CASE_MS,
  );
});
