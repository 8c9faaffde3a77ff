// Engine limits, named so tests and docs point at one place.

/** Steps of one run (or one map item) running at the same time. */
export const MAX_CONCURRENT_STEPS_PER_RUN = 16;
/** Upper bound for a map's concurrency, whatever its caller asks for (the format's own limit). */
export { MAX_MAP_CONCURRENCY } from '@/lib/workflow/limits';
/** Nesting of subworkflows and maps inside one another; stops a workflow that calls itself. */
export const MAX_RUN_DEPTH = 16;
/** How often a running executor checks the store for a cancel issued by another process. */
export const CANCEL_POLL_MS = 250;
/** Steps one run may record (default, and the most a workflow's `limits.maxSteps` may ask for). */
export { DEFAULT_MAX_STEPS_PER_RUN, MAX_STEPS_PER_RUN_LIMIT } from '@/lib/workflow/limits';
/**
 * The engine hands the event loop back after this long of work without a turn (setImmediate, one
 * hand-back shared by every run: time-slice.ts), so API calls, cancels and other runs are served
 * while a large run executes.
 */
export const ENGINE_YIELD_INTERVAL_MS = 10;
/**
 * Items of a map whose body steps' sandbox calls are asked for together, one message per body node
 * (map-prefetch.ts), instead of one message per item and step.
 */
export const MAP_PREFETCH_CHUNK = 64;
/**
 * Chunks prefetched beyond the one whose items are running: the sandbox workers compute the next
 * items while this thread records the current ones; also bounds the answers held in memory.
 */
export const MAP_PREFETCH_AHEAD = 2;
