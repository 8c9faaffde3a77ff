import { TrellisError, ValidationError, type ErrorCode } from '@/lib/workflow/errors';
import { pointer } from '@/lib/workflow/pointer';
import type { z } from 'zod';
import { requireAuth } from '@/lib/auth/authenticate';
import type { Principal } from '@/lib/auth/store';
import { statusFor } from './http-status';
import { MAX_REQUEST_BODY_BYTES } from './limits';

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

export function toErrorResponse(err: unknown): Response {
  if (err instanceof TrellisError) {
    const res = errorResponse(err.code, err.message, err.details);
    const retry = (err.details as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
    if (err.code === 'rate_limited' && typeof retry === 'number')
      res.headers.set('retry-after', String(retry));
    return res;
  }
  console.error('[trellis] unhandled error in route', err);
  return errorResponse('internal_error', 'Internal error');
}

function wrap<P>(handler: Handler<P>, authenticated: boolean) {
  return async (req: Request, ctx: { params: Promise<P> }): Promise<Response> => {
    try {
      const auth = authenticated ? await requireAuth(req) : undefined;
      const params = ctx?.params ? await ctx.params : ({} as P);
      return await handler({ req, params, auth });
    } catch (err) {
      return toErrorResponse(err);
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
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ValidationError([
      { path: '', code: 'invalid_json', message: `Body is not JSON: ${(e as Error).message}` },
    ]);
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
