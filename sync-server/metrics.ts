import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one server instance (its own registry, so tests can run several in one process). */
export function createMetrics(options: { processMetrics: boolean }) {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'openvend_sync_' });
  return {
    registry,
    batches: new Counter({
      name: 'openvend_sync_batches_total',
      help: 'Uploaded batches by outcome (applied, duplicate, gap, quarantined, refused)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    events: new Counter({
      name: 'openvend_sync_events_total',
      help: 'Events of applied batches, accepted or kept apart as rejected',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'openvend_sync_refusals_total',
      help: 'Refused requests by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    enrollments: new Counter({
      name: 'openvend_sync_enrollments_total',
      help: 'Devices enrolled',
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'openvend_sync_batch_apply_seconds',
      help: 'Time to authenticate, check and apply one batch (until the answer is ready)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type SyncMetrics = ReturnType<typeof createMetrics>;
