import { type BrowserHost, startBrowserHost } from './browser-host.ts';
import { type EngineThread, startEngineThread } from './engine-thread.ts';
import { ensureRendererBuilt, RENDERER_DIST } from './renderer-build.ts';

export interface BrowserModeOptions {
  dataDir: string;
  demo: boolean;
  port: number;
  hostname?: string;
  tls?: { cert: string; key: string };
  secret?: string;
  logLevel?: string;
  simulateDevices?: boolean;
  /**
   * Serve this renderer build instead of dist/renderer (tests serve a snapshot, so a rebuild by someone editing the
   * UI cannot pull the page's scripts from under them). Built on demand when it is a function.
   */
  rendererDir?: () => Promise<string>;
}

export interface BrowserMode {
  host: BrowserHost;
  engine: EngineThread;
  close(): Promise<void>;
}

/** The engine in its thread plus the loopback host serving the renderer build and the bridge over HTTP. */
export async function startBrowserMode(options: BrowserModeOptions): Promise<BrowserMode> {
  const [engine, rendererDir] = await Promise.all([
    startEngineThread({
      dataDir: options.dataDir,
      host: 'browser',
      demo: options.demo,
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      ...(options.simulateDevices ? { simulateDevices: true } : {}),
    }),
    options.rendererDir?.() ?? ensureRendererBuilt({ quiet: true }).then(() => RENDERER_DIST),
  ]);
  try {
    const host = await startBrowserHost({
      engine,
      rendererDir,
      port: options.port,
      ...(options.hostname ? { hostname: options.hostname } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.secret ? { secret: options.secret } : {}),
    });
    return {
      host,
      engine,
      async close() {
        await host.close();
        await engine.close();
      },
    };
  } catch (error) {
    await engine.close();
    throw error;
  }
}
