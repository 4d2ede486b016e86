import type {
  BridgeRequest,
  BridgeResponse,
  MethodArgs,
  MethodName,
  MethodResult,
  PreloadBridge,
} from '../../src-shared/bridge/contract.ts';

/**
 * The renderer's side of the bridge. In the desktop app the preload exposes one function per contract method
 * on `window.openvend`; in browser mode the same envelope goes to the local host over HTTP (the per-start
 * session secret travels in an HttpOnly cookie set when the start URL was opened).
 */

declare global {
  interface Window {
    openvend?: PreloadBridge;
  }
}

/** A refused or failed call, with the cashier-language message to show and the developer detail. */
export class BridgeCallError extends Error {
  readonly code: string;
  readonly userMessage: string;
  readonly detail: string;

  constructor(code: string, userMessage: string, detail: string) {
    super(`${userMessage} [${code}]`);
    this.name = 'BridgeCallError';
    this.code = code;
    this.userMessage = userMessage;
    this.detail = detail;
  }
}

type Transport = (method: MethodName, request: BridgeRequest) => Promise<BridgeResponse>;

const httpTransport: Transport = async (method, request) => {
  let response: Response;
  try {
    response = await fetch(`/rpc/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(request),
    });
  } catch (error) {
    throw new BridgeCallError(
      'BRIDGE_UNREACHABLE',
      'OpenVend is not responding. Check that the OpenVend window is still running, then try again.',
      String(error),
    );
  }
  if (response.status === 401) {
    throw new BridgeCallError(
      'BRIDGE_NOT_PAIRED',
      'This screen is not connected to OpenVend. Open the address that OpenVend printed when it started.',
      'HTTP 401 from the local host',
    );
  }
  return (await response.json()) as BridgeResponse;
};

const preloadTransport =
  (bridge: PreloadBridge): Transport =>
  (method, request) =>
    bridge[method](request);

export interface BridgeClient {
  call<M extends MethodName>(method: M, args: MethodArgs<M>): Promise<MethodResult<M>>;
  setSession(session: string | null): void;
  readonly session: string | null;
  /** Called when the engine says the session is gone (idle timeout): the UI returns to the login screen. */
  onSessionExpired(listener: () => void): () => void;
}

export function createBridgeClient(transport: Transport = pickTransport()): BridgeClient {
  let session: string | null = null;
  const expiredListeners = new Set<() => void>();
  return {
    get session() {
      return session;
    },
    setSession(next) {
      session = next;
    },
    onSessionExpired(listener) {
      expiredListeners.add(listener);
      return () => expiredListeners.delete(listener);
    },
    async call(method, args) {
      const request: BridgeRequest = session === null ? { args } : { args, session };
      const response = await transport(method, request);
      if (response.ok) return response.result as MethodResult<typeof method>;
      const { code, userMessage, detail } = response.error;
      if (code === 'AUTH_SESSION_EXPIRED') {
        session = null;
        for (const listener of expiredListeners) listener();
      }
      throw new BridgeCallError(code, userMessage, detail);
    },
  };
}

function pickTransport(): Transport {
  return typeof window !== 'undefined' && window.openvend ? preloadTransport(window.openvend) : httpTransport;
}
