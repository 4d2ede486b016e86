import { describe, expect, it } from 'vitest';
import type { SpoolJob } from '../../../src-main/devices/drivers/spooler-printer.ts';
import {
  createSpoolerPrint,
  type PrintWindow,
  printWindowOptions,
  spoolDataUrl,
} from '../../../src-main/electron/spooler-print.ts';
import { runSpool } from '../../../src-main/host/engine-thread.ts';
import { refusal } from '../service/service-kit.ts';

function fakeWindow(answer: { success: boolean; failureReason?: string; loadFails?: boolean }) {
  const calls: { loaded: string[]; printed: unknown[]; destroyed: number } = {
    loaded: [],
    printed: [],
    destroyed: 0,
  };
  const window: PrintWindow = {
    async loadURL(url) {
      calls.loaded.push(url);
      if (answer.loadFails) throw new Error('ERR_FAILED');
    },
    webContents: {
      print(options, callback) {
        calls.printed.push(options);
        setImmediate(() => callback(answer.success, answer.failureReason ?? ''));
      },
    },
    destroy() {
      calls.destroyed++;
    },
  };
  return { window, calls };
}

const job: SpoolJob = { deviceName: 'POS-80', title: 't', html: '<pre>A & B</pre>', text: 'A & B' };

describe('desktop print path for spooler printers', () => {
  it('opens a hidden window without scripts or Node', () => {
    expect(printWindowOptions()).toMatchObject({
      show: false,
      webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false },
    });
  });

  it('loads the job as a data: URL and prints it silently to the named printer, then closes the window', async () => {
    const { window, calls } = fakeWindow({ success: true });
    await createSpoolerPrint(() => window)(job);
    expect(calls.loaded).toEqual([spoolDataUrl(job.html)]);
    expect(decodeURIComponent(calls.loaded[0]!.split(',')[1]!)).toBe('<pre>A & B</pre>');
    expect(calls.printed).toEqual([
      { silent: true, printBackground: false, margins: { marginType: 'none' }, deviceName: 'POS-80' },
    ]);
    expect(calls.destroyed).toBe(1);
  });

  it('prints to the default printer when no name is set', async () => {
    const { window, calls } = fakeWindow({ success: true });
    await createSpoolerPrint(() => window)({ title: 't', html: '', text: '' });
    expect(calls.printed[0]).not.toHaveProperty('deviceName');
  });

  it('a refused print is PRINTER_FAULT with the reason, and the window is closed', async () => {
    const { window, calls } = fakeWindow({ success: false, failureReason: 'failed' });
    const error = await refusal(() => createSpoolerPrint(() => window)(job));
    expect(error).toMatchObject({ code: 'PRINTER_FAULT', detail: 'webContents.print failed: failed' });
    expect(error.userMessage).toContain('POS-80');
    expect(calls.destroyed).toBe(1);
  });

  it('a page that does not load is not printed, and the window is closed', async () => {
    const { window, calls } = fakeWindow({ success: true, loadFails: true });
    await expect(createSpoolerPrint(() => window)(job)).rejects.toThrow('ERR_FAILED');
    expect(calls.printed).toEqual([]);
    expect(calls.destroyed).toBe(1);
  });
});

describe('engine thread → main spool message', () => {
  it('answers null when printed, an error view when the print path failed, and DEVICE_UNAVAILABLE without one', async () => {
    expect(await runSpool(async () => undefined, job)).toBeNull();
    const { window } = fakeWindow({ success: false, failureReason: 'cancelled' });
    expect(
      await runSpool(
        createSpoolerPrint(() => window),
        job,
      ),
    ).toMatchObject({
      code: 'PRINTER_FAULT',
      detail: 'webContents.print failed: cancelled',
    });
    expect(
      await runSpool(async () => {
        throw new Error('gone');
      }, job),
    ).toMatchObject({ code: 'PRINTER_FAULT', detail: 'Error: gone' });
    expect(await runSpool(undefined, job)).toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
  });
});
