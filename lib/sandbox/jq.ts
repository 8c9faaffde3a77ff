import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RunCancelled, TrellisError } from '@/lib/workflow/errors';
import { ExpressionError, ExpressionTimeout } from './errors';
import { DEFAULT_EXPRESSION_TIMEOUT_MS, MAX_ERROR_MESSAGE_LENGTH, clampTimeout } from './limits';

// jq expressions (Serverless Workflow's required expression language, `expressionLanguage: "jq"`)
// under the same kind of limits as the JavaScript sandbox: a worker thread with a bounded heap,
// a deadline enforced from outside (the thread is terminated and replaced), JSON in and out.

/** Heap of the jq worker thread. */
export const JQ_MEMORY_MB = 64;
/** jq filters evaluated at once; more wait in line (one thread: jq-wasm is not reentrant). */
export const JQ_MAX_QUEUE = 1_000;

interface Job {
  id: number;
  input: unknown;
  filter: string;
  args: Record<string, unknown>;
  timeoutMs: number;
  signal?: AbortSignal;
  resolve(v: unknown[]): void;
  reject(e: unknown): void;
}

function workerPath(): string {
  const beside = fileURLToPath(new URL('./jq-worker.mjs', import.meta.url));
  if (existsSync(beside)) return beside;
  return path.join(/* turbopackIgnore: true */ process.cwd(), 'lib', 'sandbox', 'jq-worker.mjs');
}

class JqRunner {
  private worker?: Worker;
  private ready = false;
  private queue: Job[] = [];
  private current?: { job: Job; timer: NodeJS.Timeout };
  private nextId = 1;

  run(
    input: unknown,
    filter: string,
    args: Record<string, unknown>,
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    if (signal?.aborted)
      return Promise.reject(signal.reason instanceof TrellisError ? signal.reason : new RunCancelled());
    if (this.queue.length >= JQ_MAX_QUEUE)
      return Promise.reject(
        new TrellisError('rate_limited', `more than ${JQ_MAX_QUEUE} jq expressions are waiting`),
      );
    return new Promise<unknown[]>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, filter, args, timeoutMs, signal, resolve, reject });
      this.pump();
    });
  }

  private spawn(): Worker {
    const w = new Worker(workerPath(), { resourceLimits: { maxOldGenerationSizeMb: JQ_MEMORY_MB } });
    w.unref();
    w.on(
      'message',
      (m: { ready?: boolean; id: number; ok: boolean; outputs?: unknown[]; message?: string }) => {
        if (m.ready) {
          if (this.worker === w) this.ready = true;
          return this.pump();
        }
        const cur = this.current;
        if (!cur || cur.job.id !== m.id) return;
        clearTimeout(cur.timer);
        this.current = undefined;
        if (m.ok) cur.job.resolve(m.outputs ?? []);
        else cur.job.reject(new ExpressionError(jqMessage(m.message ?? 'jq failed')));
        this.pump();
      },
    );
    const fail = (err: unknown) => {
      const beforeReady = this.worker === w && !this.ready;
      if (this.worker === w) this.worker = undefined;
      if (beforeReady) {
        // jq could not even start: fail what waits instead of respawning in a loop.
        for (const job of this.queue.splice(0))
          job.reject(new ExpressionError(`jq could not start: ${(err as Error)?.message ?? String(err)}`));
      }
      const cur = this.current;
      if (cur) {
        clearTimeout(cur.timer);
        this.current = undefined;
        cur.job.reject(new ExpressionError(`jq stopped: ${(err as Error)?.message ?? String(err)}`));
      }
      this.pump();
    };
    w.on('error', fail);
    w.on('exit', (code) => code !== 0 && fail(new Error(`exit ${code} (out of memory?)`)));
    return w;
  }

  private pump(): void {
    if (this.current) return;
    const job = this.queue.shift();
    if (!job) {
      this.worker?.unref();
      return;
    }
    if (job.signal?.aborted) {
      job.reject(job.signal.reason instanceof TrellisError ? job.signal.reason : new RunCancelled());
      return this.pump();
    }
    if (!this.worker) {
      this.ready = false;
      this.worker = this.spawn();
    }
    const w = this.worker;
    w.ref();
    if (!this.ready) {
      this.queue.unshift(job);
      return;
    }
    const timer = setTimeout(() => {
      // Past the deadline the thread is killed from outside; a new one serves the next filter.
      this.worker = undefined;
      this.current = undefined;
      void w.terminate();
      job.reject(new ExpressionTimeout(job.timeoutMs));
      this.pump();
    }, job.timeoutMs);
    this.current = { job, timer };
    w.postMessage({ id: job.id, input: job.input, filter: job.filter, args: job.args });
  }

  async shutdown() {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

function jqMessage(raw: string): string {
  const m = raw
    .replace(/^Failed to execute (?:JSON|raw) query: /, '')
    .replace(/\s*\(Unix shell quoting issues\?\)/, '');
  return m.length > MAX_ERROR_MESSAGE_LENGTH ? `${m.slice(0, MAX_ERROR_MESSAGE_LENGTH)}…` : m;
}

let runner: JqRunner | undefined;

/**
 * Every output of `filter` applied to `input`, with `args` bound as `$name` variables. Syntax and
 * runtime errors are ExpressionError; a filter past its deadline is ExpressionTimeout.
 */
export function jqAll(
  input: unknown,
  filter: string,
  args: Record<string, unknown> = {},
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<unknown[]> {
  runner ??= new JqRunner();
  return runner.run(
    input,
    filter,
    args,
    clampTimeout(opts.timeoutMs ?? DEFAULT_EXPRESSION_TIMEOUT_MS),
    opts.signal,
  );
}

/** The first output (null when the filter yields nothing), as `${ }` expressions use it. */
export async function jqOne(
  input: unknown,
  filter: string,
  args: Record<string, unknown> = {},
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<unknown> {
  const all = await jqAll(input, filter, args, opts);
  return all.length ? all[0] : null;
}

export async function shutdownJq() {
  await runner?.shutdown();
  runner = undefined;
}
