import { availableParallelism } from 'node:os';

// Every limit of the expression sandbox, named, so tests and docs can point at one place.

/** Deadline of one expression (or one template's batch of expressions) inside QuickJS. */
export const DEFAULT_EXPRESSION_TIMEOUT_MS = 1_000;
/** Deadline of one `code` node body. */
export const CODE_TIMEOUT_MS = 5_000;
/** Heap of one QuickJS runtime (one per worker thread); `'x'.repeat(2**29)` fails with out of memory. */
export const SANDBOX_MEMORY_BYTES = 64 * 1024 * 1024;
/**
 * QuickJS's own stack limit. Kept well below the worker's V8 stack (SANDBOX_WORKER_STACK_MB) because
 * QuickJS recursion also uses V8's stack through the WebAssembly frames: measured, 1 MB of QuickJS
 * stack overflows a default 4 MB V8 stack on deep JSON.stringify, while 512 KB inside 16 MB never does.
 */
export const SANDBOX_STACK_BYTES = 512 * 1024;
/** V8 stack of each worker thread (see SANDBOX_STACK_BYTES). */
export const SANDBOX_WORKER_STACK_MB = 16;
/** Largest JSON result (UTF-8 bytes) an evaluation may hand back to the host. */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024;
/** Longest error message carried out of the sandbox; longer ones are cut with a marker. */
export const MAX_ERROR_MESSAGE_LENGTH = 2_000;
/** Extra time the host waits past the deadline before it terminates the worker from outside. */
export const WATCHDOG_GRACE_MS = 50;
/** Largest explicit timeout a caller may ask for. */
export const MAX_SANDBOX_TIMEOUT_MS = 60_000;
/** A caller's timeout, made whole and kept within 1 ms … MAX_SANDBOX_TIMEOUT_MS. */
export function clampTimeout(ms: number): number {
  if (!Number.isFinite(ms)) return MAX_SANDBOX_TIMEOUT_MS;
  return Math.min(Math.max(1, Math.floor(ms)), MAX_SANDBOX_TIMEOUT_MS);
}

/** Most worker threads the pool starts, however many cores (each holds a QuickJS runtime, ~10 MB). */
export const MAX_SANDBOX_POOL_SIZE = 8;
/**
 * Worker threads in the pool: one per core, so a map's batches use every core; at least 2 so one
 * runaway code body cannot stall every expression.
 */
export const SANDBOX_POOL_SIZE = Math.min(MAX_SANDBOX_POOL_SIZE, Math.max(2, availableParallelism()));
/**
 * Worker threads started ahead of the first evaluation (warmSandbox: server and worker start); the
 * rest of SANDBOX_POOL_SIZE start when evaluations queue with every started worker busy. One warm
 * worker makes the first expression warm (issue 21, no cold start); each further idle one holds
 * ~14 MB (issue 21, idle memory).
 */
export const SANDBOX_WARM_WORKERS = 1;
/** Most items (scopes) one message carries when many are evaluated together (evaluateMany). */
export const SANDBOX_BATCH_TASKS = 64;
/** Most scope JSON (UTF-8 bytes, roughly) one batch message carries; a bigger single item goes alone. */
export const MAX_BATCH_SCOPE_BYTES = 4 * 1024 * 1024;
/**
 * A worker starts no further task of a message after this long (or once its results reach
 * MAX_BATCH_RESULT_BYTES); the rest is sent again behind whatever else waits, so one map's batch
 * does not hold a worker while other runs' expressions queue. Each task keeps its own deadline.
 */
export const SANDBOX_BATCH_BUDGET_MS = 50;
/** Results one message gathers before the worker stops starting tasks (see SANDBOX_BATCH_BUDGET_MS). */
export const MAX_BATCH_RESULT_BYTES = 16 * 1024 * 1024;
/** Evaluations a hardened QuickJS context serves before it is replaced (defence in depth). */
export const CONTEXT_MAX_USES = 5_000;
/** Compiled wrappers each worker keeps per context (the oldest is dropped beyond this). */
export const COMPILED_CACHE_SIZE = 500;
/** Parsed-expression cache entries on the host (plain references and syntax checks). */
export const EXPRESSION_CACHE_SIZE = 2_000;
