import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RunCancelled, TrellisError } from '@/lib/workflow/errors';
import { ExpressionError, ExpressionTimeout } from './errors';
import {
  COMPILED_CACHE_SIZE,
  CONTEXT_MAX_USES,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_RESULT_BYTES,
  SANDBOX_MEMORY_BYTES,
  SANDBOX_POOL_SIZE,
  SANDBOX_STACK_BYTES,
  SANDBOX_WORKER_STACK_MB,
  WATCHDOG_GRACE_MS,
} from './limits';

// A small pool of worker threads, each running QuickJS (worker.mjs). The host owns the deadline from
// outside: if a worker has not answered by deadline + WATCHDOG_GRACE_MS (QuickJS's interrupt handler
// missed, e.g. inside a long native sort), the worker is terminated and replaced.

/** One evaluation's outcome as the worker reports it. */
export type WorkerResult =
  { ok: true; json?: string } | { ok: false; kind: 'syntax' | 'timeout' | 'error'; message: string };

export interface SandboxJob {
  /** Complete wrapper sources, each compiling to one function (see index.ts). */
  sources: string[];
  /** JSON of the scope the functions receive. */
  scope: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

interface PendingJob extends SandboxJob {
  id: number;
  resolve(results: WorkerResult[]): void;
  reject(err: unknown): void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: PendingJob;
  timer?: NodeJS.Timeout;
}

function workerPath(): string {
  const beside = fileURLToPath(new URL('./worker.mjs', import.meta.url));
  if (existsSync(beside)) return beside;
  // Bundled servers (Next.js) move this module; the worker file stays in the source tree.
  return path.join(/* turbopackIgnore: true */ process.cwd(), 'lib', 'sandbox', 'worker.mjs');
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason instanceof TrellisError ? signal.reason : new RunCancelled();
}

export class SandboxPool {
  private slots: Slot[] = [];
  private queue: PendingJob[] = [];
  private nextId = 1;
  private closed = false;
  private readyWaiters: Array<() => void> = [];

  constructor(private readonly size = SANDBOX_POOL_SIZE) {}

  run(job: SandboxJob): Promise<WorkerResult[]> {
    if (this.closed) return Promise.reject(new ExpressionError('Sandbox is shut down'));
    if (job.signal?.aborted) return Promise.reject(abortError(job.signal));
    return new Promise<WorkerResult[]>((resolve, reject) => {
      const pending: PendingJob = { ...job, id: this.nextId++, resolve, reject };
      if (job.signal) {
        const signal = job.signal;
        pending.onAbort = () => this.abort(pending, abortError(signal));
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.fill();
      this.dispatch();
    });
  }

  /** Terminates every worker; queued and running jobs fail. The next run() starts a new pool. */
  async shutdown(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    for (const job of this.queue.splice(0)) this.settle(job, new ExpressionError('Sandbox is shut down'));
    for (const slot of slots)
      if (slot.job) this.settle(slot.job, new ExpressionError('Sandbox is shut down'));
    this.closed = true;
    for (const wake of this.readyWaiters.splice(0)) wake();
    await Promise.all(slots.map((s) => s.worker.terminate()));
    this.closed = false;
  }

  /** Starts the workers (if not yet) and resolves once every one has loaded QuickJS. */
  warm(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.fill();
    if (this.slots.every((s) => s.ready)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Workers alive right now (for tests). */
  get workerCount(): number {
    return this.slots.length;
  }

  private fill(): void {
    while (this.slots.length < this.size) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(workerPath(), {
      workerData: {
        limits: {
          memoryBytes: SANDBOX_MEMORY_BYTES,
          stackBytes: SANDBOX_STACK_BYTES,
          maxResultBytes: MAX_RESULT_BYTES,
          maxErrorLength: MAX_ERROR_MESSAGE_LENGTH,
          contextMaxUses: CONTEXT_MAX_USES,
          compiledCacheSize: COMPILED_CACHE_SIZE,
        },
      },
      resourceLimits: { stackSizeMb: SANDBOX_WORKER_STACK_MB, maxOldGenerationSizeMb: 256 },
      // Keep the parent's loaders (tsx, vitest) out of the worker: it is plain JavaScript.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    // Idle workers never keep the process alive; a worker is ref'd only while it runs a job.
    worker.unref();
    const slot: Slot = { worker, ready: false };
    worker.on('message', (msg: { ready?: true; id?: number; results?: WorkerResult[]; fatal?: boolean }) => {
      if (msg.ready) {
        slot.ready = true;
        if (this.slots.every((x) => x.ready)) for (const wake of this.readyWaiters.splice(0)) wake();
        this.dispatch();
        return;
      }
      const job = slot.job;
      if (!job || job.id !== msg.id) return;
      this.release(slot);
      if (msg.fatal) this.replace(slot);
      job.signal?.removeEventListener('abort', job.onAbort!);
      job.resolve(msg.results ?? []);
      this.dispatch();
    });
    worker.on('error', (err) => this.crashed(slot, err));
    worker.on('exit', () => this.crashed(slot, new Error('sandbox worker exited')));
    return slot;
  }

  private crashed(slot: Slot, err: unknown): void {
    if (!this.slots.includes(slot)) return;
    const job = slot.job;
    this.release(slot);
    this.replace(slot);
    if (job)
      this.settle(job, new ExpressionError(`Sandbox worker failed: ${(err as Error)?.message ?? err}`));
    this.dispatch();
  }

  private release(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    slot.worker.unref();
  }

  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    slot.worker.removeAllListeners('exit');
    slot.worker.on('error', () => {});
    void slot.worker.terminate();
    if (!this.closed) this.fill();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!this.queue.length) return;
      if (!slot.ready || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.timer = setTimeout(() => {
        if (slot.job !== job) return;
        this.release(slot);
        this.replace(slot);
        this.settle(job, new ExpressionTimeout(job.timeoutMs));
        this.dispatch();
      }, job.timeoutMs + WATCHDOG_GRACE_MS);
      slot.worker.postMessage({
        id: job.id,
        sources: job.sources,
        scope: job.scope,
        timeoutMs: job.timeoutMs,
      });
    }
  }

  private abort(job: PendingJob, err: unknown): void {
    const q = this.queue.indexOf(job);
    if (q >= 0) this.queue.splice(q, 1);
    const slot = this.slots.find((s) => s.job === job);
    if (slot) {
      this.release(slot);
      this.replace(slot);
    }
    this.settle(job, err);
    this.dispatch();
  }

  private settle(job: PendingJob, err: unknown): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.reject(err);
  }
}
