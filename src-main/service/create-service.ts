import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../engine/errors.ts';
import { type OpenEngine, openEngine } from '../engine/open-engine.ts';
import type { Clock } from '../engine/vend-engine.ts';
import { LEDGER_FILE } from '../ledger/data-dir.ts';
import type { KekSource } from '../security/key-encryption-key.ts';
import { EngineService, type ServiceLogger } from './engine-service.ts';
import type { ServiceOptions } from './handler-types.ts';
import { handlers } from './handlers/index.ts';

export interface RunningService {
  service: EngineService;
  open: OpenEngine;
  close(): Promise<void>;
}

/** Opens the outlet's ledger and engine and puts the bridge service in front of it. */
export function createEngineService(
  options: ServiceOptions & { kek?: KekSource; clock?: Clock; log: ServiceLogger },
): RunningService {
  if (!existsSync(join(options.dataDir, LEDGER_FILE))) {
    throw new EngineError(
      'ENGINE_START_FAILED',
      'No outlet is set up on this computer yet. Ask your administrator to set it up.',
      `no ${LEDGER_FILE} in ${options.dataDir}`,
    );
  }
  const clock = options.clock ?? (() => new Date());
  const open = openEngine(options.dataDir, { clock, ...(options.kek ? { kek: options.kek } : {}) });
  const service = new EngineService(
    open.engine,
    handlers,
    { host: options.host, demo: options.demo, dataDir: options.dataDir },
    clock,
    options.log,
  );
  return {
    service,
    open,
    async close() {
      await service.jobs.settle();
      open.close();
    },
  };
}
