import { contextBridge, ipcRenderer } from 'electron';
import {
  type BridgeRequest,
  ipcChannel,
  METHOD_NAMES,
  type PreloadBridge,
} from '../../src-shared/bridge/contract.ts';

/**
 * Exposes exactly the contract to the page as `window.openvend`: one function per method, each invoking that
 * method's own channel. No raw ipcRenderer, no Node. (Bundled by esbuild: sandboxed preloads cannot import.)
 */
const bridge = Object.fromEntries(
  METHOD_NAMES.map((method) => [
    method,
    (request: BridgeRequest) => ipcRenderer.invoke(ipcChannel(method), request),
  ]),
) as PreloadBridge;

contextBridge.exposeInMainWorld('openvend', bridge);
