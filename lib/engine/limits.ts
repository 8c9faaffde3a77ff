// Engine limits, named so tests and docs point at one place.

/** Steps of one run (or one map item) running at the same time. */
export const MAX_CONCURRENT_STEPS_PER_RUN = 16;
/** Upper bound for a map's concurrency, whatever its caller asks for (the format's own limit). */
export { MAX_MAP_CONCURRENCY } from '@/lib/workflow/limits';
/** Nesting of subworkflows and maps inside one another; stops a workflow that calls itself. */
export const MAX_RUN_DEPTH = 16;
/** A trace field larger than this (JSON bytes) is stored as a marker with a preview. */
export const MAX_TRACE_FIELD_BYTES = 256 * 1024;
/** Characters of a capped payload kept as a preview. */
export const TRACE_PREVIEW_CHARS = 2_000;
/** How often a running executor checks the store for a cancel issued by another process. */
export const CANCEL_POLL_MS = 1_000;
