import { TrellisError, ValidationError, type ErrorCode } from '@/lib/workflow/errors';
import { pointer } from '@/lib/workflow/pointer';
import type { z } from 'zod';
import { requireAuth } from '@/lib/auth/authenticate';
import type { Principal } from '@/lib/auth/store';
import { statusFor } from './http-status';
import { isAllowedHost } from './host-check';
import { MAX_JSON_DEPTH, MAX_REQUEST_BODY_BYTES } from './limits';

// Thin route handlers: every app/api route is `export const GET = route(handler)`. This wrapper
// owns error mapping, JSON parsing and body limits so handlers see parsed input only.

export interface RouteContext<P> {
  req: Request;
  params: P;
  /** The authenticated caller; undefined in route.public handlers. */
  auth?: Principal;
}

type Handler<P> = (ctx: RouteContext<P>) => Promise<Response> | Response;

export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

export function errorResponse(code: ErrorCode, message: string, details?: unknown): Response {
  return json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, statusFor[code]);
}

/**
 * `oneLine`: for a caller we do not know, one log line, not a stack — a stranger sending bad
 * requests must not be able to fill the log (or hide other lines) with traces.
 */
export function toErrorResponse(err: unknown, opts: { oneLine?: string } = {}): Response {
  if (err instanceof TrellisError) {
    const res = errorResponse(err.code, err.message, err.details);
    const retry = (err.details as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
    if (err.code === 'rate_limited' && typeof retry === 'number')
      res.headers.set('retry-after', String(retry));
    return res;
  }
  if (opts.oneLine !== undefined) {
    const first = String((err as Error)?.message ?? err)
      .split('\n')[0]
      .slice(0, 300);
    console.error(`[trellis] unhandled error in route (unauthenticated ${opts.oneLine}): ${first}`);
  } else console.error('[trellis] unhandled error in route', err);
  return errorResponse('internal_error', 'Internal error');
}

/** Checks every route makes before authentication: Host, NUL in the URL, a declared body size. */
export function assertRequestShape(req: Request): void {
  let urlHost: string | undefined;
  try {
    urlHost = new URL(req.url).host;
  } catch {
    urlHost = undefined;
  }
  if (!isAllowedHost(req.headers, urlHost, process.env)) {
    throw new TrellisError(
      'misdirected_request',
      'This server does not answer to that Host. Add it to TRELLIS_ALLOWED_HOSTS or TRELLIS_PUBLIC_URL.',
      { details: { reason: 'host_not_allowed' } },
    );
  }
  // Postgres text and jsonb cannot hold NUL: refused here so no id or query value reaches a query.
  if (/%00/i.test(req.url) || req.url.includes('\0')) {
    throw new ValidationError([
      { path: '', code: 'invalid_characters', message: 'The URL contains a NUL character (%00)' },
    ]);
  }
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > MAX_REQUEST_BODY_BYTES) {
    throw new TrellisError('payload_too_large', `Body exceeds ${MAX_REQUEST_BODY_BYTES} bytes`);
  }
}

function describe(req: Request): string {
  try {
    return `${req.method} ${new URL(req.url).pathname}`.slice(0, 200);
  } catch {
    return req.method;
  }
}

function wrap<P>(handler: Handler<P>, authenticated: boolean) {
  return async (req: Request, ctx: { params: Promise<P> }): Promise<Response> => {
    let auth: Principal | undefined;
    try {
      assertRequestShape(req);
      auth = authenticated ? await requireAuth(req) : undefined;
      const params = ctx?.params ? await ctx.params : ({} as P);
      return await handler({ req, params, auth });
    } catch (err) {
      return toErrorResponse(err, auth ? {} : { oneLine: describe(req) });
    }
  };
}

/**
 * Authenticated by default (session cookie with an Origin check, or a Bearer token): a route
 * cannot ship open by forgetting a call. Unauthenticated callers get 401 before the handler runs.
 */
export function route<P = Record<string, string>>(handler: Handler<P>) {
  return wrap(handler, true);
}

/** For the few routes anyone may call (health, the demo API, webhooks with their own secret). */
route.public = function publicRoute<P = Record<string, string>>(handler: Handler<P>) {
  return wrap(handler, false);
};

/** Read a JSON body with a byte limit; a too-large body is 413, bad JSON is 400 at path "". */
export async function readJson(req: Request, maxBytes = MAX_REQUEST_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new TrellisError('payload_too_large', `Body exceeds ${maxBytes} bytes`);
  const reader = req.body?.getReader();
  if (!reader) throw new ValidationError([{ path: '', code: 'invalid_json', message: 'Body must be JSON' }]);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new TrellisError('payload_too_large', `Body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ValidationError([
      { path: '', code: 'invalid_json', message: `Body is not JSON: ${(e as Error).message}` },
    ]);
  }
  assertStorableJson(value);
  return value;
}

/**
 * Refuses what parses but cannot be handled later: nesting deeper than MAX_JSON_DEPTH (422;
 * every recursive walk after this — stringify, redaction, validation — would overflow the stack)
 * and NUL characters in strings or keys (400; Postgres cannot store them). Iterative, so a
 * 100,000-deep body is measured without recursing.
 */
export function assertStorableJson(value: unknown, maxDepth = MAX_JSON_DEPTH): void {
  // Parent links instead of path arrays: memory stays linear in the body, paths are built on error.
  type Item = { v: unknown; depth: number; key?: string | number; parent?: Item };
  const pathOf = (it: Item | undefined) => {
    const keys: (string | number)[] = [];
    for (let p = it; p && p.key !== undefined; p = p.parent) keys.push(p.key);
    return pointer(...keys.reverse());
  };
  const nul = (at: string, what: string) =>
    new ValidationError([
      { path: at, code: 'invalid_characters', message: `NUL characters are not allowed in ${what}` },
    ]);
  const stack: Item[] = [{ v: value, depth: 0 }];
  while (stack.length) {
    const item = stack.pop()!;
    const v = item.v;
    if (typeof v === 'string') {
      if (v.includes('\0')) throw nul(pathOf(item), 'strings');
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (item.depth >= maxDepth) {
      const at = pathOf(item);
      throw new TrellisError('unprocessable', `JSON nests deeper than ${maxDepth} levels`, {
        details: {
          problems: [
            {
              path: at.length > 200 ? `${at.slice(0, 200)}…` : at,
              code: 'too_deep',
              message: `at most ${maxDepth} levels`,
            },
          ],
        },
      });
    }
    const depth = item.depth + 1;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth, key: i, parent: item });
    } else {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0')) throw nul(pathOf(item), 'keys');
        stack.push({ v: x, depth, key: k, parent: item });
      }
    }
  }
}

/** Parse with zod; problems become a 400 naming each field by JSON pointer. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  base: (string | number)[] = [],
): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ValidationError(
    r.error.issues.map((i) => ({
      path: pointer(...base, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))),
      code: i.code,
      message: i.message,
    })),
  );
}
