import { TrellisError } from '@/lib/workflow/errors';
import { createRateLimiter, type RateLimiter } from './rate-limit';

// Password hashing (scrypt, 128 MiB, ~0.3 s of one core) is the most expensive thing a stranger
// can make the server do. Without a bound, 90 parallel sign-ins with random emails queue 90 hashes
// on libuv's 4 threads and the owner's own sign-in waits behind them (18 s measured, issue 14.9).
// So, before any hash: a slot among a few global ones, at most one in flight per client, and
// per-minute allowances per client and overall. Over any of them is 429 at once, never a queue.

/** Hashes in flight at once, server-wide (also bounds scrypt memory to this × 128 MiB). */
export const LOGIN_MAX_CONCURRENT = 3;
/** Hashes in flight per client: one client can never hold every global slot. */
export const LOGIN_MAX_CONCURRENT_PER_CLIENT = 1;
/** Hashes per client per minute (on top of LOGIN_RATE_LIMIT per account). */
export const LOGIN_CLIENT_PER_MINUTE = 20;
/** Hashes per minute server-wide: at most ~40 s of one core per minute. */
export const LOGIN_GLOBAL_PER_MINUTE = 120;
const WINDOW_MS = 60_000;

/**
 * The client a request comes from: the last X-Forwarded-For entry (what the nearest proxy, or
 * Next.js from the socket, wrote), else "direct". A client that forges the header can look like
 * many clients; the global limits still hold, and they are what keeps the server responsive.
 */
export function loginClient(req: Request): string {
  const xff = req.headers.get('x-forwarded-for');
  const last = xff?.split(',').at(-1)?.trim();
  return last ? last.slice(0, 100) : 'direct';
}

interface Guard {
  active: number;
  perClient: Map<string, number>;
  client: RateLimiter;
  global: RateLimiter;
}

const KEY = Symbol.for('trellis.login-guard');
function guard(): Guard {
  const g = globalThis as { [KEY]?: Guard };
  g[KEY] ??= {
    active: 0,
    perClient: new Map(),
    client: createRateLimiter({
      limit: LOGIN_CLIENT_PER_MINUTE,
      windowMs: WINDOW_MS,
      what: 'sign-in attempts from this client',
    }),
    global: createRateLimiter({
      limit: LOGIN_GLOBAL_PER_MINUTE,
      windowMs: WINDOW_MS,
      what: 'sign-in attempts on this server',
    }),
  };
  return g[KEY];
}

function busy(what: string): TrellisError {
  return new TrellisError(
    'rate_limited',
    `Too many sign-in attempts in progress ${what}; retry in a moment`,
    {
      details: { reason: 'login_busy', retryAfterSec: 1 },
    },
  );
}

/** Runs `hash` (the password check) only with a free slot and within the allowances; else 429. */
export async function withLoginSlot<T>(req: Request, hash: () => Promise<T>, now = Date.now()): Promise<T> {
  const g = guard();
  const client = loginClient(req);
  const mine = g.perClient.get(client) ?? 0;
  if (mine >= LOGIN_MAX_CONCURRENT_PER_CLIENT) throw busy('from this client');
  if (g.active >= LOGIN_MAX_CONCURRENT) throw busy('on this server');
  g.client.hit(client, now);
  g.global.hit('*', now);
  g.active++;
  g.perClient.set(client, mine + 1);
  try {
    return await hash();
  } finally {
    g.active--;
    const left = (g.perClient.get(client) ?? 1) - 1;
    if (left <= 0) g.perClient.delete(client);
    else g.perClient.set(client, left);
  }
}

export function resetLoginGuard(): void {
  const g = guard();
  g.client.reset();
  g.global.reset();
}
