import type { PrismaClient } from '@/lib/db/generated/client';
import { MAX_WEBHOOK_RATE } from '@/lib/nodes/trigger-webhook';
import { positiveIntFromEnv } from '@/lib/queue/limits';
import { TrellisError } from '@/lib/workflow/errors';

// Fixed-window counters in process memory. Enough for one web process (embedded mode, or each
// replica on its own); a shared limit across replicas would live in Postgres, which would turn
// every webhook into a write — rejected for now.

/**
 * Webhook calls accepted per workflow per second; more get 429 with Retry-After. Sized for real
 * bursts (a batch of events from a SaaS sender): the runs they start queue under the workflow's
 * concurrency limit, so accepting them costs a row each, not a slot. Above what one process runs
 * (issue 21 asks 300 runs/s), so the limit is not what a busy workflow meets first: the backlog
 * (DEFAULT_RUN_BACKLOG_PER_WORKFLOW) is what says "slow down" to a sender outrunning the server.
 * TRELLIS_WEBHOOK_RATE sets the server default; a workflow's `trigger.webhook` node may set its own
 * `ratePerSecond`.
 */
export const WEBHOOK_RATE_LIMIT = 1_000;
export const WEBHOOK_RATE_WINDOW_MS = 1_000;
export const WEBHOOK_RATE_ENV = 'TRELLIS_WEBHOOK_RATE';
/** Upper bound of TRELLIS_WEBHOOK_RATE and of a node's ratePerSecond. */
export { MAX_WEBHOOK_RATE };
/** Login and setup attempts per account name per window (scrypt already makes each one slow). */
export const LOGIN_RATE_LIMIT = 10;
export const LOGIN_RATE_WINDOW_MS = 60_000;
/**
 * Keys tracked at most, so random keys cannot grow memory without bound. When full, the key hit
 * least recently is dropped — never the whole table: flooding with fresh keys must not give an
 * account that is still being guessed a clean slate (each guess keeps its key recent).
 */
export const MAX_RATE_LIMIT_KEYS = 10_000;

export interface RateLimiter {
  /** Counts one hit; throws `rate_limited` (429) when the key is over its limit (default opts.limit). */
  hit(key: string, now?: number, limit?: number): void;
  /** Keys tracked now (tests). */
  size(): number;
  reset(): void;
}

export function createRateLimiter(opts: { limit: number; windowMs: number; what: string }): RateLimiter {
  // A Map iterates in insertion order and every hit re-inserts its key, so the first entry is the
  // key hit least recently: eviction is O(1).
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, now = Date.now(), limit = opts.limit) {
      let w = windows.get(key);
      windows.delete(key);
      if (!w || now - w.start >= opts.windowMs) w = { start: now, count: 0 };
      while (windows.size >= MAX_RATE_LIMIT_KEYS) windows.delete(windows.keys().next().value!);
      windows.set(key, w);
      w.count++;
      if (w.count > limit) {
        const retryAfterSec = Math.max(1, Math.ceil((w.start + opts.windowMs - now) / 1000));
        throw new TrellisError(
          'rate_limited',
          `Too many ${opts.what}: at most ${limit} per ${opts.windowMs / 1000} s; retry in ${retryAfterSec} s`,
          { details: { limit, windowMs: opts.windowMs, retryAfterSec } },
        );
      }
    },
    size: () => windows.size,
    reset: () => windows.clear(),
  };
}

const KEY = Symbol.for('trellis.rate-limits');
type Holder = { [KEY]?: { webhook: RateLimiter; login: RateLimiter } };

function limiters() {
  const g = globalThis as Holder;
  g[KEY] ??= {
    webhook: createRateLimiter({
      limit: WEBHOOK_RATE_LIMIT,
      windowMs: WEBHOOK_RATE_WINDOW_MS,
      what: 'webhook calls',
    }),
    login: createRateLimiter({
      limit: LOGIN_RATE_LIMIT,
      windowMs: LOGIN_RATE_WINDOW_MS,
      what: 'sign-in attempts',
    }),
  };
  return g[KEY];
}

/** Server default of webhook calls per workflow per second (TRELLIS_WEBHOOK_RATE). */
export function webhookRateFromEnv(env: Record<string, string | undefined> = process.env): number {
  return positiveIntFromEnv(WEBHOOK_RATE_ENV, WEBHOOK_RATE_LIMIT, MAX_WEBHOOK_RATE, env);
}

/**
 * Call in the webhook handler, before reading the body. `perSecond`: the workflow's own
 * `ratePerSecond`, else the server default.
 */
export function assertWebhookRate(workflowId: string, now?: number, perSecond?: number): void {
  limiters().webhook.hit(workflowId, now, perSecond ?? webhookRateFromEnv());
}

export function assertLoginRate(account: string, now?: number): void {
  limiters().login.hit(account.toLowerCase(), now);
}

export function resetRateLimits(): void {
  const l = limiters();
  l.webhook.reset();
  l.login.reset();
}

/**
 * Runs of one workflow accepted and not yet started (status `queued`, top-level) at most. A burst
 * under this queues and runs as the workflow's concurrency slots free (DEFAULT_WORKFLOW_CONCURRENCY);
 * a backlog over it means runs arrive faster than they finish, and the next start gets 429.
 */
export const DEFAULT_RUN_BACKLOG_PER_WORKFLOW = 1_000;
export const RUN_BACKLOG_ENV = 'TRELLIS_RUN_BACKLOG';
export const MAX_RUN_BACKLOG_PER_WORKFLOW = 1_000_000;
/** Retry-After of a full backlog: long enough for a few runs to start. */
export const BACKLOG_RETRY_AFTER_SEC = 5;

export function runBacklogFromEnv(env: Record<string, string | undefined> = process.env): number {
  return positiveIntFromEnv(
    RUN_BACKLOG_ENV,
    DEFAULT_RUN_BACKLOG_PER_WORKFLOW,
    MAX_RUN_BACKLOG_PER_WORKFLOW,
    env,
  );
}

/** Call before starting a run of a saved workflow (manual, webhook, rerun). */
export async function assertRunCapacity(
  prisma: PrismaClient,
  workflowId: string,
  max = runBacklogFromEnv(),
): Promise<void> {
  const queued = await prisma.run.count({ where: { workflowId, status: 'queued', parentRunId: null } });
  assertBacklogRoom(workflowId, queued, max);
}

/**
 * assertRunCapacity for a caller that counted the workflow's queued top-level runs itself (the
 * webhook reads the count with its secret, in one round trip).
 */
export function assertBacklogRoom(workflowId: string, queued: number, max = runBacklogFromEnv()): void {
  if (queued >= max) {
    throw new TrellisError(
      'rate_limited',
      `Workflow ${workflowId} has ${queued} runs waiting to start; the backlog limit is ${max}. Retry when some have started.`,
      { details: { limit: max, queued, retryAfterSec: BACKLOG_RETRY_AFTER_SEC } },
    );
  }
}
