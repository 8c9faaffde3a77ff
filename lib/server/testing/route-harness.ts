import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { tempDataDir } from '@/lib/db/testing/databases';
import { tempQueueDb } from '@/lib/queue/testing/queue-db';
import { toErrorResponse } from '../route';
import { createRuntime, getRuntime, openedRuntime, type Runtime } from '../runtime';
import { API_DIR } from './route-files';

// The route handlers as Next.js calls them (Request in, Response out) on a real runtime: the
// setup every route suite shares. Call the use… functions at the top of a file or a describe;
// they register their own beforeAll/afterAll.

export type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
// Responses are read loosely: the assertions name the shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = Record<string, any>;

/** The handlers an app/api route file exports, by its path under app/api (`workflows/[id]/runs`). */
export const loadRoute = async (rel: string) =>
  (await import(/* @vite-ignore */ path.join(API_DIR, rel, 'route.ts'))) as Record<string, Handler>;

export interface CallOptions {
  method?: string;
  /** JSON-encoded unless a string (sent as is). */
  body?: unknown;
  params?: Record<string, string>;
  /** Bearer token; null sends none. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** One request through a handler; an error thrown by a lib handler becomes its HTTP answer. */
export async function callRoute(h: Handler, url: string, opts: CallOptions = {}): Promise<Response> {
  const { body, token, params = {} } = opts;
  const req = new Request(`http://127.0.0.1${url}`, {
    method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      'content-type': 'application/json',
      ...opts.headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  try {
    return await h(req, { params: Promise.resolve(params) });
  } catch (err) {
    return toErrorResponse(err);
  }
}

/** callRoute, with the answer read as JSON (null for 204). */
export async function callJson(h: Handler, url: string, opts: CallOptions = {}) {
  const res = await callRoute(h, url, opts);
  return { status: res.status, body: (res.status === 204 ? null : await res.json()) as Body };
}

/** `call(handler, method, path, body?, params?)` → `{ status, body }`, authenticated with `token`. */
export function routeCaller(token: string) {
  return (h: Handler, method: string, url: string, body?: unknown, params: Record<string, string> = {}) =>
    callJson(h, url, { method, body, params, token });
}

/** Polls until `ok` holds; throws naming `what` after `ms`. */
export async function until(what: string, ok: () => Promise<boolean>, ms = 60_000, everyMs = 50) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Closes the runtime the handlers opened (getRuntime): its dispatcher, trace store and database. */
export async function closeProcessRuntime(): Promise<void> {
  const rt = await openedRuntime()?.catch(() => null);
  await rt?.dispatcher.close?.();
  await rt?.store.close().catch(() => {});
  await rt?.db.close().catch(() => {});
}

type Env = Record<string, string | undefined>;

/**
 * The process runtime as the app opens it (getRuntime) on a fresh embedded database, with an API
 * token; `env` (or what it returns, read when the runtime opens: after the file's earlier
 * beforeAll hooks started its servers) is set for the file (undefined deletes) and restored after.
 */
export function useEmbeddedRuntime(name: string, opts: { env?: Env | (() => Env); timeoutMs?: number } = {}) {
  // Env tokens shorter than 16 characters are refused (lib/auth/password.ts).
  const token = `test-token-${name}-0123456789`;
  const tmp = tempDataDir(`trellis-${name}-`);
  const saved = { ...process.env };
  beforeAll(async () => {
    delete process.env.DATABASE_URL;
    const env = typeof opts.env === 'function' ? opts.env() : (opts.env ?? {});
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    process.env.TRELLIS_DATA_DIR = tmp.dir;
    process.env.TRELLIS_API_TOKEN = token;
    // Opening the embedded database (initdb, migrations, example seeding) is the slow part.
    await getRuntime();
  }, opts.timeoutMs);
  afterAll(async () => {
    await closeProcessRuntime();
    process.env = saved;
    tmp.remove();
  });
  return { token, call: routeCaller(token) };
}

/**
 * A runtime on a throwaway Postgres database (in-process dispatch unless `databaseUrl` is passed
 * on), installed as the process runtime the handlers read. Skip the suite when !pgAvailable.
 */
export function usePostgresRuntime(area: string, opts: { queue?: boolean; webRunSlots?: number } = {}) {
  const KEY = Symbol.for('trellis.runtime');
  const ctx = {} as { db: Db; rt: Runtime; url: string };
  let tmp: Awaited<ReturnType<typeof tempQueueDb>> | undefined;
  beforeAll(async () => {
    tmp = await tempQueueDb(area);
    ctx.url = tmp.url;
    ctx.db = await openDb({ databaseUrl: tmp.url });
    ctx.rt = await createRuntime(
      opts.queue
        ? { db: ctx.db, databaseUrl: tmp.url, seed: false, webRunSlots: opts.webRunSlots }
        : { db: ctx.db, dispatch: 'in-process', seed: false },
    );
    (globalThis as Record<symbol, unknown>)[KEY] = Promise.resolve(ctx.rt);
  });
  afterAll(async () => {
    delete (globalThis as Record<symbol, unknown>)[KEY];
    if (opts.queue) await ctx.rt?.dispatcher.close?.();
    await ctx.db?.close();
    await tmp?.drop();
  });
  return ctx;
}
