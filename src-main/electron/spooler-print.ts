import type { BrowserWindowConstructorOptions, WebContentsPrintOptions } from 'electron';
import { DeviceError } from '../../src-shared/devices/device-errors.ts';
import type { SpoolJob, SpoolPrint } from '../devices/drivers/spooler-printer.ts';

/**
 * The desktop print path for receipt printers behind the OS spooler: the job's HTML is loaded in a hidden,
 * script-less window and printed silently to the named printer. Kept free of Electron values (types only) so it is
 * tested in plain Node with a fake window; main.ts passes `() => new BrowserWindow(printWindowOptions())`.
 */

/** The part of a BrowserWindow this adapter uses. */
export interface PrintWindow {
  loadURL(url: string): Promise<void>;
  webContents: {
    print(
      options: WebContentsPrintOptions,
      callback: (success: boolean, failureReason: string) => void,
    ): void;
  };
  destroy(): void;
}

export function printWindowOptions(): BrowserWindowConstructorOptions {
  return {
    show: false,
    webPreferences: {
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      javascript: false,
      webSecurity: true,
      spellcheck: false,
    },
  };
}

export const spoolDataUrl = (html: string): string =>
  `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;

export function createSpoolerPrint(openWindow: () => PrintWindow): SpoolPrint {
  return async (job: SpoolJob) => {
    const window = openWindow();
    try {
      await window.loadURL(spoolDataUrl(job.html));
      await new Promise<void>((resolve, reject) => {
        window.webContents.print(
          {
            silent: true,
            printBackground: false,
            margins: { marginType: 'none' },
            ...(job.deviceName ? { deviceName: job.deviceName } : {}),
          },
          (success, failureReason) => {
            if (success) resolve();
            else
              reject(
                new DeviceError(
                  'PRINTER_FAULT',
                  `The system print queue refused the receipt (${job.deviceName ?? 'default printer'}). Check the printer name in the device settings and the printer in the system settings.`,
                  `webContents.print failed: ${failureReason}`,
                ),
              );
          },
        );
      });
    } finally {
      window.destroy();
    }
  };
}
