import { randomUUID } from 'node:crypto';
import type { JobView } from '../../src-shared/bridge/contract.ts';
import { isOpenVendError } from '../../src-shared/errors/openvend-error.ts';
import { EngineError } from '../engine/errors.ts';

type JobKind = JobView['kind'];
export type JobProgress = (done: number, total: number, message: string) => void;

/** Finished jobs are kept this long so a slow poller still sees the outcome. */
const KEEP_FINISHED_MS = 10 * 60_000;

/**
 * Long operations (backups) run as jobs: the call returns at once with a job id, the UI polls jobs.get for
 * progress. One job of a kind at a time, so a double click never starts two backups.
 */
export class JobRunner {
  readonly #jobs = new Map<string, JobView & { finishedAt?: number }>();

  start(
    kind: JobKind,
    run: (progress: JobProgress) => Promise<NonNullable<JobView['result']>>,
    now = Date.now(),
  ): JobView {
    this.#prune(now);
    for (const job of this.#jobs.values())
      if (job.kind === kind && job.state === 'running') return { ...job };
    const job: JobView & { finishedAt?: number } = {
      jobId: randomUUID(),
      kind,
      state: 'running',
      done: 0,
      total: 1,
      message: '',
      result: null,
      error: null,
    };
    this.#jobs.set(job.jobId, job);
    const progress: JobProgress = (done, total, message) => {
      Object.assign(job, { done, total, message });
    };
    run(progress).then(
      (result) => Object.assign(job, { state: 'done', done: job.total, result, finishedAt: Date.now() }),
      (error: unknown) =>
        Object.assign(job, {
          state: 'failed',
          finishedAt: Date.now(),
          error: isOpenVendError(error)
            ? { code: error.code, userMessage: error.userMessage }
            : {
                code: 'INTERNAL',
                userMessage: 'The operation failed. Try again; if it fails again, call support.',
              },
        }),
    );
    return { ...job };
  }

  get(jobId: string): JobView {
    const job = this.#jobs.get(jobId);
    if (!job) throw new EngineError('VEND_NOT_FOUND', 'That operation is no longer known.', `job ${jobId}`);
    const { finishedAt: _finishedAt, ...view } = job;
    return view;
  }

  /** Waits for every running job (used at shutdown and in tests). */
  async settle(): Promise<void> {
    while ([...this.#jobs.values()].some((j) => j.state === 'running')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  #prune(now: number): void {
    for (const [id, job] of this.#jobs) {
      if (job.finishedAt !== undefined && now - job.finishedAt > KEEP_FINISHED_MS) this.#jobs.delete(id);
    }
  }
}
