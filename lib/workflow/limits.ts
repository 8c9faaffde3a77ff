// Every limit of the definition format, named, so tests and docs can point at one place.
export const MAX_DEFINITION_BYTES = 2 * 1024 * 1024;
export const MAX_NODES = 2_000;
export const MAX_EDGES = 10_000;
export const MAX_STRING_LENGTH = 100_000;
export const MAX_NESTING_DEPTH = 64;
export const MAX_ID_LENGTH = 128;
export const MAX_RETRY_ATTEMPTS = 20;
export const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
export const MAX_AGENT_STEPS = 100;
/** Validation stops collecting after this many problems: a broken 2 MB file must not yield a 50 MB answer. */
export const MAX_PROBLEMS = 500;
/** Longest single expression or code body that validation parses. */
export const MAX_EXPRESSION_LENGTH = 20_000;
/** Map bodies may hold maps; this bounds the recursion of validation and of the engine. */
export const MAX_MAP_NESTING = 8;
export const MAX_MAP_CONCURRENCY = 50;
export const MAX_MAP_ITEMS = 10_000;
/**
 * Steps (attempts, skips, map item steps) one run may record before it fails with
 * run_too_large, so one run cannot occupy a worker and the trace without end. A workflow may set
 * its own `limits.maxSteps`, up to MAX_STEPS_PER_RUN_LIMIT.
 */
export const DEFAULT_MAX_STEPS_PER_RUN = 200_000;
export const MAX_STEPS_PER_RUN_LIMIT = 1_000_000;
export const MAX_SWITCH_CASES = 50;
/** Longest delay node wait: 30 days. */
export const MAX_DELAY_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Names that mean something to every JavaScript object. As node ids, secret names or price keys
 * they would reach an object's prototype instead of a property (`steps.__proto__`), so they are
 * refused wherever a user names a key that later indexes an object.
 */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];
export const isReservedKey = (k: string) => RESERVED_KEYS.includes(k);

/** Canary share of a step in rollout (agent.canaryPercent), in percent of runs. */
export const MIN_CANARY_PERCENT = 1;
export const MAX_CANARY_PERCENT = 99;
/** The canary share a step gets when it advances from shadow without one set. */
export const DEFAULT_CANARY_PERCENT = 10;
/** Most finished steps a rollout gate window reads (agent.gates.window, minSample). */
export const MAX_GATE_WINDOW = 1_000;
