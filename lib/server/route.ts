import { TrellisError, ValidationError, type ErrorCode } from '@/lib/workflow/errors';
import { pointer } from '@/lib/workflow/pointer';
import type { z } from 'zod';
import { statusFor } from './http-status';
import { MAX_REQUEST_BODY_BYTES } from './limits';

// Thin route handlers: every app/api route is `export const GET = route(handler)`. This wrapper
// owns error mapping, JSON parsing and body limits so handlers see parsed input only.

export interface RouteContext<P> {
  req: Request;
  params: P;
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
  if (err instanceof TrellisError) return errorResponse(err.code, err.message, err.details);
  console.error('[trellis] unhandled error in route', err);
  return errorResponse('internal_error', 'Internal error');
}

export function route<P = Record<string, string>>(handler: Handler<P>) {
  return async (req: Request, ctx: { params: Promise<P> }): Promise<Response> => {
    try {
      const params = ctx?.params ? await ctx.params : ({} as P);
      return await handler({ req, params });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}

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
