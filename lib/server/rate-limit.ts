import type { PrismaClient } from '@/lib/db/generated/client';
import { TrellisError } from '@/lib/workflow/errors';

// Fixed-window counters in process memory. Enough for one web process (embedded mode, or each
// replica on its own); a shared limit across replicas would live in Postgres, which would turn
// every webhook into a write — rejected for now.

/** Webhook calls accepted per workflow per window; more get 429 with Retry-After. */
export const WEBHOOK_RATE_LIMIT = 60;
export const WEBHOOK_RATE_WINDOW_MS = 60_000;
/** Login and setup attempts per account name per window (scrypt already makes each one slow). */
export const LOGIN_RATE_LIMIT = 10;
export const LOGIN_RATE_WINDOW_MS = 60_000;
/** Keys tracked before old windows are swept, so random keys cannot grow memory without bound. */
export const MAX_RATE_LIMIT_KEYS = 10_000;

export interface RateLimiter {
  /** Counts one hit; throws `rate_limited` (429) when the key is over its limit. */
  hit(key: string, now?: number): void;
  reset(): void;
}

export function createRateLimiter(opts: { limit: number; windowMs: number; what: string }): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, now = Date.now()) {
      let w = windows.get(key);
      if (!w || now - w.start >= opts.windowMs) {
        if (windows.size >= MAX_RATE_LIMIT_KEYS) {
          for (const [k, v] of windows) if (now - v.start >= opts.windowMs) windows.delete(k);
          if (windows.size >= MAX_RATE_LIMIT_KEYS) windows.clear();
        }
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      if (w.count > opts.limit) {
        const retryAfterSec = Math.max(1, Math.ceil((w.start + opts.windowMs - now) / 1000));
        throw new TrellisError(
          'rate_limited',
          `Too many ${opts.what}: at most ${opts.limit} per ${opts.windowMs / 1000} s; retry in ${retryAfterSec} s`,
          { details: { limit: opts.limit, windowMs: opts.windowMs, retryAfterSec } },
        );
      }
    },
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

/** Call at the top of the webhook handler, before reading the body. */
export function assertWebhookRate(workflowId: string, now?: number): void {
  limiters().webhook.hit(workflowId, now);
}

export function assertLoginRate(account: string, now?: number): void {
  limiters().login.hit(account.toLowerCase(), now);
}

export function resetRateLimits(): void {
  const l = limiters();
  l.webhook.reset();
  l.login.reset();
}

/** Runs of one workflow that may be queued or running at once; the next start gets 429. */
export const MAX_CONCURRENT_RUNS_PER_WORKFLOW = 20;
const ACTIVE_RUN_STATUSES = ['queued', 'running'];

/** Call before starting a run of a saved workflow (manual, webhook). */
export async function assertRunCapacity(
  prisma: PrismaClient,
  workflowId: string,
  max = MAX_CONCURRENT_RUNS_PER_WORKFLOW,
): Promise<void> {
  const active = await prisma.run.count({
    where: { workflowId, status: { in: ACTIVE_RUN_STATUSES }, parentRunId: null },
  });
  if (active >= max) {
    throw new TrellisError(
      'rate_limited',
      `Workflow ${workflowId} has ${active} runs in progress; the limit is ${max}. Retry when some finish.`,
      { details: { limit: max, active, retryAfterSec: 5 } },
    );
  }
}
