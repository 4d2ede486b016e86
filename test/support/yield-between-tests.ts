import { beforeEach } from 'vitest';

// CLI tests run the real binary with spawnSync, which blocks the worker. A file of synchronous tests would then
// never yield to the event loop, and vitest's worker RPC times out ("Timeout calling onTaskUpdate") on a loaded
// machine. One macrotask turn before each test lets the worker answer.
beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
