import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RunCancelled, TrellisError } from '@/lib/workflow/errors';
import { ExpressionError, ExpressionTimeout } from './errors';
import {
  COMPILED_CACHE_SIZE,
  CONTEXT_MAX_USES,
  MAX_BATCH_RESULT_BYTES,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_RESULT_BYTES,
  SANDBOX_BATCH_BUDGET_MS,
  SANDBOX_MEMORY_BYTES,
  SANDBOX_POOL_SIZE,
  SANDBOX_STACK_BYTES,
  SANDBOX_WARM_WORKERS,
  SANDBOX_WORKER_STACK_MB,
  WATCHDOG_GRACE_MS,
} from './limits';

// A small pool of worker threads, each running QuickJS (worker.mjs). The host owns the deadline from
// outside: if a worker has not moved past a task by its deadline + WATCHDOG_GRACE_MS (QuickJS's
// interrupt handler missed, e.g. inside a long native sort), the worker is terminated and replaced.
// A job (one message) holds one or more tasks, each a scope with the sources to run against it
// under its own deadline: a single evaluation is a job of one task, a map's items are many.

/** One evaluation's outcome as the worker reports it. */
export type WorkerResult =
  { ok: true; json?: string } | { ok: false; kind: 'syntax' | 'timeout' | 'error'; message: string };

export interface SandboxTask {
  /** JSON of the scope the functions receive. */
  scope: string;
  /** Indexes into the job's sources, run in this order under the task's one deadline. */
  sources: number[];
}

export interface SandboxJob {
  /** Complete wrapper sources, each compiling to one function (see index.ts). */
  sources: string[];
  tasks: SandboxTask[];
  /** Deadline of each task. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Per task, its sources' results in order; null for a task the worker did not start (budget). */
export type JobResults = (WorkerResult[] | null)[];

interface PendingJob extends SandboxJob {
  id: number;
  resolve(results: JobResults): void;
  reject(err: unknown): void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Tasks the worker has started, ever (written by the worker, read by the watchdog). */
  progress: Int32Array;
  job?: PendingJob;
  timer?: NodeJS.Timeout;
}

/** Messages and tasks sent, for tests and benches (a map's items should share messages). */
export interface PoolStats {
  /** Messages posted to workers, resends included. */
  messages: number;
  /** Tasks asked for (a task sent again counts once). */
  tasks: number;
  /** Messages that carry tasks a worker left unstarted at its budget. */
  resent: number;
  /**
   * Worker threads started, replacements included. Warmed at start (issue 21, no cold start): a
   * run after /api/health answered starts none.
   */
  spawned: number;
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
  readonly stats: PoolStats = { messages: 0, tasks: 0, resent: 0, spawned: 0 };

  constructor(
    private readonly size = SANDBOX_POOL_SIZE,
    /** SANDBOX_BATCH_BUDGET_MS, unless a test needs to see another limit alone. */
    private readonly budgetMs = SANDBOX_BATCH_BUDGET_MS,
    private readonly warmCount = Math.min(SANDBOX_WARM_WORKERS, size),
  ) {}

  /**
   * Runs a job's tasks; tasks the worker leaves unstarted at SANDBOX_BATCH_BUDGET_MS go to the back
   * of the queue as a new message, so the result has every task. Rejects when the job cannot finish
   * (cancelled, shut down, a worker the watchdog stopped or that crashed).
   */
  async run(job: SandboxJob): Promise<WorkerResult[][]> {
    this.stats.tasks += job.tasks.length;
    const results = await this.send(job);
    for (;;) {
      const left = results.flatMap((r, i) => (r === null ? [i] : []));
      if (!left.length) return results as WorkerResult[][];
      this.stats.resent++;
      const more = await this.send({ ...job, tasks: left.map((i) => job.tasks[i]) });
      left.forEach((i, k) => (results[i] = more[k]));
    }
  }

  private send(job: SandboxJob): Promise<JobResults> {
    if (this.closed) return Promise.reject(new ExpressionError('Sandbox is shut down'));
    if (job.signal?.aborted) return Promise.reject(abortError(job.signal));
    return new Promise<JobResults>((resolve, reject) => {
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

  /**
   * Starts SANDBOX_WARM_WORKERS workers (if not yet) and resolves once every started one has loaded
   * QuickJS. The others start when jobs queue with no worker free to take them.
   */
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

  /**
   * Keeps SANDBOX_WARM_WORKERS workers, and starts one more for each queued job that no worker is
   * free to take (a starting worker counts as free: it takes a job once ready), up to the pool's
   * size. Each idle worker holds ~14 MB (issue 21, idle memory), so a process that never evaluates
   * in parallel keeps only the warm ones; a worker once started stays.
   */
  private fill(): void {
    const free = this.slots.filter((s) => !s.job).length;
    const wanted = Math.max(this.warmCount - this.slots.length, this.queue.length - free);
    for (let i = 0; i < wanted && this.slots.length < this.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    this.stats.spawned++;
    const progress = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(workerPath(), {
      workerData: {
        progress: progress.buffer,
        limits: {
          memoryBytes: SANDBOX_MEMORY_BYTES,
          stackBytes: SANDBOX_STACK_BYTES,
          maxResultBytes: MAX_RESULT_BYTES,
          maxErrorLength: MAX_ERROR_MESSAGE_LENGTH,
          contextMaxUses: CONTEXT_MAX_USES,
          compiledCacheSize: COMPILED_CACHE_SIZE,
          maxBatchResultBytes: MAX_BATCH_RESULT_BYTES,
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
    const slot: Slot = { worker, ready: false, progress };
    worker.on('message', (msg: { ready?: true; id?: number; results?: JobResults; fatal?: boolean }) => {
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
      job.resolve(msg.results ?? job.tasks.map(() => null));
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
      // The count once the worker has started this job's first task.
      this.watch(slot, job, Atomics.load(slot.progress, 0) + 1);
      this.stats.messages++;
      slot.worker.postMessage({
        id: job.id,
        sources: job.sources,
        tasks: job.tasks,
        timeoutMs: job.timeoutMs,
        budgetMs: this.budgetMs,
      });
    }
  }

  /**
   * The watchdog: once a task's deadline + WATCHDOG_GRACE_MS passes and the worker has not started
   * another task since, it is stuck (an interrupt QuickJS never checked): terminate it. A worker
   * that moved on is watched again, so a stuck task is stopped within two deadlines of its start.
   */
  private watch(slot: Slot, job: PendingJob, seen: number): void {
    slot.timer = setTimeout(() => {
      if (slot.job !== job) return;
      const now = Atomics.load(slot.progress, 0);
      if (now !== seen) return this.watch(slot, job, now);
      this.release(slot);
      this.replace(slot);
      this.settle(job, new ExpressionTimeout(job.timeoutMs));
      this.dispatch();
    }, job.timeoutMs + WATCHDOG_GRACE_MS);
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
