// Browser step limits, named so tests and docs point at one place.

/** Browser contexts (concurrent browser steps) per process; a step beyond it waits for a slot. */
export const BROWSER_POOL_SIZE = 4;
/** Fresh contexts kept warm ahead of demand (each is used by one step, then closed). */
export const BROWSER_WARM_CONTEXTS = 1;
/** Actions in one step's deterministic list (and in a healed sequence). */
export const MAX_BROWSER_ACTIONS = 50;
/** Per-action wait for a target, a navigation or a condition, unless the step sets timeoutMs. */
export const DEFAULT_ACTION_TIMEOUT_MS = 10_000;
/** No step may wait longer than this for one action. */
export const MAX_ACTION_TIMEOUT_MS = 60_000;
/** Largest viewport side in CSS pixels (screenshots grow with it). */
export const MAX_VIEWPORT_PX = 2560;
/**
 * Bytes a step's page may receive from the network, all requests together (counted by the egress
 * proxy, which sees https only as tunnels: a per-response cap is not possible there). Past it, the
 * open connections are cut and every further request is refused with the reason.
 */
export const MAX_BROWSER_STEP_BYTES = 64 * 1024 * 1024;
/**
 * Bytes of one DOM snapshot (config `domSnapshots`): a larger page is cut there, the artifact says
 * so in its metadata and in a closing comment.
 */
export const MAX_DOM_SNAPSHOT_BYTES = 1024 * 1024;
/** Elements an observe snapshot lists; the rest is summarised as a count. */
export const MAX_SNAPSHOT_ELEMENTS = 150;
/** Rows (table) or items (list) one extract returns. */
export const MAX_EXTRACT_ITEMS = 500;
/** Characters kept of one accessible name or extracted text value. */
export const MAX_TEXT_CHARS = 2_000;
/** Blocked requests kept in the trace (a page may retry one forever). */
export const MAX_BLOCKED_RECORDED = 50;
