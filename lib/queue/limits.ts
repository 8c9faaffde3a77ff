// Timing of the durable queue. Together they bound how long a dead worker's run waits:
// JOB_HEARTBEAT_SECONDS (pg-boss fails a job whose heartbeat stopped) + SUPERVISE_INTERVAL_SECONDS
// (how often a pass looks) + RETRY_DELAY_SECONDS + NOTIFY_POLLING_SECONDS, and the run's lease
// (RUN_LEASE_MS, renewed every LEASE_RENEW_MS) has run out by then. Worst case ≈ 10 + 2 + 1 + 1 s;
// TAKEOVER_BOUND_MS is the figure we promise and test against.

/** pg-boss queue that carries "drive this run" jobs. */
export const RUN_QUEUE = 'trellis-runs';
/** pg-boss queue that carries one job per schedule tick (its id makes the tick fire once). */
export const SCHEDULE_QUEUE = 'trellis-schedule-ticks';
/** pg-boss queue that carries "run this backtest" jobs (lib/queue/backtest-queue.ts). */
export const BACKTEST_QUEUE = 'trellis-backtests';
/** Backtests one worker replays at once (each has its own case concurrency). */
export const WORKER_BACKTEST_CONCURRENCY = 1;
/** pg-boss refuses less than 10. */
export const JOB_HEARTBEAT_SECONDS = 10;
export const SUPERVISE_INTERVAL_SECONDS = 2;
export const RETRY_DELAY_SECONDS = 1;
/** A job is retried this often (each worker death costs one) before it is failed for good. */
export const RUN_JOB_RETRY_LIMIT = 100;
/** Backstop poll; NOTIFY wakes workers at once, this only catches retried and deferred jobs. */
export const NOTIFY_POLLING_SECONDS = 1;
/** A worker owns a run this long after its last renewal. */
export const RUN_LEASE_MS = 8_000;
export const LEASE_RENEW_MS = 2_000;
/**
 * A worker session's transaction left idle this long is ended by Postgres
 * (idle_in_transaction_session_timeout), releasing its row locks: a worker paused mid-transaction
 * must not make the next owner's claim of a run wait. Below RUN_LEASE_MS - LEASE_RENEW_MS, the
 * least a lease has left when its worker stops, so the locks are gone before the lease is.
 */
export const WORKER_IDLE_TRANSACTION_MS = 4_000;
/** How long a dead worker's run may wait before another worker resumes it. */
export const TAKEOVER_BOUND_MS = 20_000;
/** A job may be active this long; heartbeats, not this, detect dead workers. Long runs park instead. */
export const RUN_JOB_EXPIRE_SECONDS = 6 * 60 * 60;
/** SIGTERM: in-flight runs get this long to finish; then they are handed to other workers. */
export const SHUTDOWN_GRACE_MS = 10_000;
/** Worker-to-web event channel (Postgres NOTIFY). */
export const RUN_EVENTS_CHANNEL = 'trellis_run_events';
/** Postgres refuses NOTIFY payloads of 8000 bytes or more; bigger events are sent without payload fields. */
export const MAX_EVENT_PAYLOAD_BYTES = 7_000;
/** Events are sent to Postgres in batches this often, one statement per batch, so order is kept. */
export const EVENT_FLUSH_MS = 5;
/** Schedules: how often each worker looks for due ticks, and re-reads which workflows have schedules. */
export const SCHEDULE_TICK_MS = 500;
export const SCHEDULE_SYNC_MS = 3_000;

/**
 * Runs of one workflow executing at once (top-level runs; child runs are driven inside their
 * parent's slot). More wait in `queued` and start in order as slots free, in both modes. Resumes of
 * runs already started (an approval decided, a delay due) do not wait for a slot.
 */
export const DEFAULT_WORKFLOW_CONCURRENCY = 10;
export const WORKFLOW_CONCURRENCY_ENV = 'TRELLIS_WORKFLOW_CONCURRENCY';
/** Upper bound of the setting: a bigger number is a typo, and would defeat the limit. */
export const MAX_WORKFLOW_CONCURRENCY = 1_000;

/**
 * A new job's NOTIFY that found every idle loop still on a fetch it began earlier is served again
 * this soon (wake.ts), instead of waiting for the polling backstop.
 */
export const WAKE_RETRY_MS = 5;

/** A job fetched in a race for a workflow's last slot looks again this often (worker.ts). */
export const SLOT_POLL_MS = 200;
/**
 * Postgres NOTIFY channel on which the web process says a run it drove ended (local-runs.ts): a
 * worker's jobs waiting for that workflow's slot look again at once instead of at their next poll.
 */
export const SLOT_FREED_CHANNEL = 'trellis_slot_freed';

/** A positive integer setting from the environment; a bad value stops the process with its name. */
export function positiveIntFromEnv(
  name: string,
  fallback: number,
  max: number,
  env: Record<string, string | undefined> = process.env,
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`${name}=${raw}: expected a whole number from 1 to ${max}`);
  return n;
}

export function workflowConcurrency(env: Record<string, string | undefined> = process.env): number {
  return positiveIntFromEnv(
    WORKFLOW_CONCURRENCY_ENV,
    DEFAULT_WORKFLOW_CONCURRENCY,
    MAX_WORKFLOW_CONCURRENCY,
    env,
  );
}
