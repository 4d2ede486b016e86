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
}

export interface BrowserMode {
  host: BrowserHost;
  engine: EngineThread;
  close(): Promise<void>;
}

/** The engine in its thread plus the loopback host serving the renderer build and the bridge over HTTP. */
export async function startBrowserMode(options: BrowserModeOptions): Promise<BrowserMode> {
  const [engine] = await Promise.all([
    startEngineThread({
      dataDir: options.dataDir,
      host: 'browser',
      demo: options.demo,
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      ...(options.simulateDevices ? { simulateDevices: true } : {}),
    }),
    ensureRendererBuilt({ quiet: true }),
  ]);
  try {
    const host = await startBrowserHost({
      engine,
      rendererDir: RENDERER_DIST,
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
