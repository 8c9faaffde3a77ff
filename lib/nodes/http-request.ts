import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TrellisError } from '@/lib/workflow/errors';
import { defineNode, type NodeRunContext } from '@/lib/nodes/define-node';
import { guardedFetch } from '@/lib/net/guarded-fetch';
import { configTool } from '@/lib/nodes/tool-schema';
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, MAX_RESPONSE_BYTES } from '@/lib/net/limits';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const httpRequestConfig = z.object({
  method: z.enum(HTTP_METHODS).default('GET').describe('HTTP method'),
  url: z
    .string()
    .min(1)
    .describe(
      'URL to call (http or https); may hold {{ }} expressions, e.g. https://api.example/items/{{ input.id }}',
    ),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('Request headers; values may hold {{ }} expressions such as {{ secrets.apiKey }}'),
  query: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe('Query parameters appended to the URL; values may hold {{ }} expressions'),
  body: z
    .unknown()
    .optional()
    .describe('Request body (template): objects and arrays are sent as JSON, strings as text'),
  responseType: z
    .enum(['json', 'text'])
    .optional()
    .describe('How to read the response: json (falls back to text when it does not parse) or text'),
  allowHosts: z
    .array(z.string())
    .optional()
    .describe(
      'Hosts this node may call (host or host:port). When set, every other host is refused; listed hosts may be private or local addresses.',
    ),
  maxResponseBytes: z
    .number()
    .int()
    .min(1)
    .max(MAX_RESPONSE_BYTES)
    .optional()
    .describe(`Largest response body accepted, in bytes (default ${DEFAULT_MAX_RESPONSE_BYTES})`),
});
export type HttpRequestConfig = z.infer<typeof httpRequestConfig>;

/** What an agent may set through the `self` tool: never the allow-list or the size cap. */
export const httpRequestToolParams = httpRequestConfig.omit({ allowHosts: true, maxResponseBytes: true });

export interface HttpRequestOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Same effect → same key on every attempt, so the server can drop duplicates; distinct effects →
 * distinct keys. An effect is named by its top-level run, the frame path inside it (map bodies,
 * nested maps, child runs: NodeRunContext.effect), the node and the map item.
 */
export function idempotencyKey(runId: string, nodeId: string, itemIndex?: number, frame?: string): string {
  // A top-level step hashes exactly as before frames were part of the key.
  return createHash('sha256')
    .update(`${runId}\u0000${nodeId}\u0000${itemIndex ?? ''}${frame ? `\u0000${frame}` : ''}`)
    .digest('hex');
}

function asString(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export async function runHttpRequest(ctx: NodeRunContext<HttpRequestConfig>): Promise<HttpRequestOutput> {
  const { config, scope, signal, services } = ctx;
  const method = config.method ?? 'GET';
  const rawUrl = asString(await services.render(config.url, scope, signal));
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new TrellisError('http_error', `Invalid URL: ${rawUrl.slice(0, 200)}`);
  }
  if (config.query) {
    const query = (await services.render(config.query, scope, signal)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null) continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, asString(item));
    }
  }
  const headers = new Headers();
  if (config.headers) {
    const rendered = (await services.render(config.headers, scope, signal)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(rendered ?? {})) headers.set(k, asString(v));
  }
  let body: string | undefined;
  if (config.body !== undefined && method !== 'GET' && method !== 'HEAD') {
    const rendered = await services.render(config.body, scope, signal);
    if (typeof rendered === 'string') {
      body = rendered;
      if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
    } else if (rendered !== undefined && rendered !== null) {
      body = JSON.stringify(rendered);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
  }
  if (!READ_ONLY_METHODS.has(method) && !headers.has('idempotency-key')) {
    headers.set(
      'idempotency-key',
      idempotencyKey(ctx.effect?.runId ?? ctx.runId, ctx.node.id, ctx.itemIndex, ctx.effect?.frame),
    );
  }

  // The engine's signal carries the node's timeoutMs and run cancellation; the default timeout only
  // bounds requests from nodes without one.
  const timeoutMs = ctx.node.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const requestSignal = AbortSignal.any([signal, timeout]);
  const fetcher = services.fetch ?? guardedFetch;
  let res: Response;
  let text: string;
  try {
    res = await fetcher(url.toString(), {
      method,
      headers,
      body,
      signal: requestSignal,
      allowHosts: config.allowHosts,
      maxBytes: config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
    text = method === 'HEAD' ? '' : await res.text();
  } catch (err) {
    if (signal.aborted) throw signal.reason ?? err;
    if (timeout.aborted) {
      throw new TrellisError('http_error', `${method} ${url.host}: no response within ${timeoutMs} ms`, {
        retryable: true,
        cause: err,
      });
    }
    if (err instanceof TrellisError && err.code === 'ssrf_blocked') {
      // Name the host, so the editor can offer the fix (add it to this node's allowHosts) where
      // that fix is allowed: never for cloud metadata or a refused scheme.
      const reason = String((err.details as { reason?: unknown } | undefined)?.reason ?? err.message);
      throw new TrellisError('ssrf_blocked', err.message, {
        details: {
          ...(err.details as object | undefined),
          host: url.host,
          allowable: !/metadata|scheme|no host|invalid URL/i.test(reason),
        },
        cause: err,
      });
    }
    if (err instanceof TrellisError) throw err;
    throw new TrellisError('http_error', `${method} ${url.host}: ${(err as Error)?.message ?? String(err)}`, {
      retryable: true,
      cause: err,
    });
  }

  const outHeaders: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    outHeaders[key] = value;
  });
  let parsed: unknown = text;
  if (config.responseType !== 'text' && text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text; // json requested but the server sent something else: keep the text
    }
  }
  if (res.status >= 400) {
    throw new TrellisError('http_error', `${method} ${url.host}${url.pathname} returned HTTP ${res.status}`, {
      retryable: res.status >= 500 || res.status === 429,
      details: { status: res.status, headers: outHeaders, body: parsed },
    });
  }
  return { status: res.status, headers: outHeaders, body: parsed };
}

export const httpRequest = defineNode({
  type: 'http.request',
  label: 'HTTP request',
  group: 'Data',
  icon: 'globe',
  description:
    'Call an HTTP API and return its status, headers and body. Private addresses are refused unless allow-listed.',
  config: httpRequestConfig,
  defaultConfig: { method: 'GET', url: 'https://example.com', responseType: 'json' },
  agentCapable: true,
  async run(ctx) {
    const output = await runHttpRequest(ctx);
    return { kind: 'done', output };
  },
  asTool: (config) => ({
    ...configTool(
      `Send an HTTP request (the step's own operation; defaults: ${config.method ?? 'GET'} ${config.url})`,
      httpRequestToolParams,
      READ_ONLY_METHODS.has(config.method ?? 'GET'),
    ),
    // The saved config's auth headers need secrets; the model's arguments never see them.
    configSecrets: true,
  }),
});
