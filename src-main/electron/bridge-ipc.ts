import type { IpcMain } from 'electron';
import { ipcChannel, METHOD_NAMES } from '../../src-shared/bridge/contract.ts';
import type { BridgeCaller } from '../host/engine-thread.ts';
import { isTrustedSender } from './window-security.ts';

export interface IpcLogger {
  warn(details: object, message: string): void;
}

/**
 * One ipcMain handler per contract method. The sender is checked (the app's own top frame only); the engine
 * validates the arguments with the contract's zod schema and answers with the same envelope as browser mode.
 */
export function registerBridgeHandlers(
  ipcMain: Pick<IpcMain, 'handle'>,
  engine: BridgeCaller,
  log: IpcLogger,
): string[] {
  const channels: string[] = [];
  for (const method of METHOD_NAMES) {
    const channel = ipcChannel(method);
    ipcMain.handle(channel, (event, request: unknown) => {
      if (!isTrustedSender(event)) {
        log.warn(
          { channel, url: event.senderFrame?.url ?? null },
          'bridge call from an untrusted frame refused',
        );
        return {
          ok: false,
          error: {
            code: 'BRIDGE_UNTRUSTED_SENDER',
            userMessage: 'This action is not allowed here.',
            detail: channel,
          },
        };
      }
      return engine.call(method, request);
    });
    channels.push(channel);
  }
  return channels;
}
