import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDemoOutlet } from '../../src-main/engine/demo.ts';
import { startEngineThread } from '../../src-main/host/engine-thread.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('--simulate-devices: the simulators wired into the engine thread', () => {
  it('vend, print the receipt (token and amount on the printed page), write the card and read the meter back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openvend-devices-thread-'));
    dirs.push(dataDir);
    const meterNo = createDemoOutlet(dataDir, new Date()).meters[0]!.slice(6);
    const thread = await startEngineThread({
      dataDir,
      host: 'browser',
      demo: true,
      logLevel: 'silent',
      simulateDevices: true,
    });
    try {
      const call = async (method: string, args: object, session?: string) => {
        const response = await thread.call(method, { args, ...(session ? { session } : {}) });
        if (!response.ok) throw new Error(`${method}: ${response.error.code} ${response.error.detail}`);
        return response.result as Record<string, unknown>;
      };
      const { session } = (await call('auth.login', {
        username: 'cashier',
        password: 'demo-cashier-pass',
      })) as {
        session: string;
      };
      await call('shift.open', {}, session);
      const sale = (await call(
        'vend.sell',
        { requestId: 'thread-devices-0001', meterNumber: meterNo, tenderMinor: 10_000 },
        session,
      )) as { receiptNo: number; tokens: Array<{ digits: string; kind: string }> };
      const printed = (await call('receipt.print', { receiptNo: sale.receiptNo }, session)) as {
        state: string;
        preview: string;
      };
      expect(printed.state).toBe('confirmed');
      const credit = sale.tokens.find((t) => t.kind === 'credit')!;
      expect(printed.preview).toContain(credit.digits.replace(/(\d{4})(?=\d)/g, '$1 '));
      expect(printed.preview).toContain('100.00');
      const written = await call('card.write', { receiptNo: sale.receiptNo }, session);
      expect(written).toMatchObject({ state: 'verified', carrier: 'magnetic', meterNo });
      expect(await call('card.read', {}, session)).toEqual({ meterNo });
      const { devices } = (await call('devices.list', {}, session)) as { devices: Array<{ state: string }> };
      expect(devices.map((d) => d.state)).toEqual(['connected', 'connected', 'disconnected', 'connected']);
      const { candidates } = (await call('devices.list', {}, session)) as {
        candidates: { problems: string[] };
      };
      expect(candidates.problems.join()).not.toMatch(/undefined/);
    } finally {
      await thread.close();
    }
  }, 60_000);
});
