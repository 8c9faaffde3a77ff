import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { TrellisError } from '@/lib/workflow/errors';
import {
  allowPrivateFromEnv,
  checkResolvedAddress,
  checkUrl,
  hostAllowListed,
  type EgressPolicy,
} from '@/lib/net/ssrf';
import { DEFAULT_MAX_RESPONSE_BYTES, MAX_REDIRECTS } from '@/lib/net/limits';

// fetch() for user-controlled URLs. Built on node:http rather than undici so the SSRF check runs
// inside the socket's own DNS lookup: the address we check is the address we connect to (no
// time-of-check/time-of-use gap, no DNS rebinding between them). Redirects are followed by hand
// so every hop is checked again.

export interface GuardedFetchInit extends RequestInit {
  allowHosts?: string[];
  /**
   * Every hop (redirects too) must go to one of these hosts, on top of the SSRF policy, which they
   * do not loosen (unlike allowHosts). An agent tool pinned to its step's own host uses it.
   */
  pinHosts?: string[];
  /** Response size cap in bytes; exceeding it aborts the request. */
  maxBytes?: number;
  /** Overrides TRELLIS_HTTP_ALLOW_PRIVATE (tests, trusted internal callers). */
  allowPrivate?: boolean;
  maxRedirects?: number;
  /** Injected DNS lookup (tests); defaults to dns.lookup. */
  lookup?: typeof dns.lookup;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function blocked(reason: string): TrellisError {
  return new TrellisError('ssrf_blocked', reason, { details: { reason } });
}

/**
 * A DNS lookup for a socket that checks every answer before the socket may use one: handed to
 * net.connect / http.request as `lookup`, the address checked is the address connected to. Also
 * used by the browser step's egress proxy (lib/browser/egress-proxy.ts).
 */
export function guardedLookup(
  policy: EgressPolicy,
  trusted: boolean,
  onBlocked: (err: TrellisError) => void,
  lookup: typeof dns.lookup,
): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as dns.LookupAddress[];
      if (list.length === 0) return callback(new Error(`no address for ${hostname}`), '', 0);
      // Refuse when ANY answer is private: a mixed answer is a classic rebinding trick.
      for (const a of list) {
        const d = checkResolvedAddress(hostname, a.address, policy, trusted);
        if (!d.ok) {
          const e = blocked(d.reason);
          onBlocked(e);
          return callback(e, '', 0);
        }
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

interface RawResponse {
  status: number;
  statusText: string;
  headers: Headers;
  body: Buffer;
}

function toBody(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TrellisError(
    'http_error',
    'Unsupported request body type (use a string, bytes or URLSearchParams)',
  );
}

function requestOnce(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  opts: {
    signal?: AbortSignal;
    maxBytes: number;
    policy: EgressPolicy;
    trusted: boolean;
    lookup: typeof dns.lookup;
  },
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    let ssrfError: TrellisError | undefined;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(ssrfError ?? err);
    };
    const mod = url.protocol === 'https:' ? https : http;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const req = mod.request({
      method,
      hostname,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
      signal: opts.signal,
      lookup: guardedLookup(opts.policy, opts.trusted, (e) => (ssrfError = e), opts.lookup),
      agent: false, // a pooled socket could outlive the check it was made under
    });
    req.on('error', fail);
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        fail(tooLarge(url, opts.maxBytes)); // first: destroying emits its own errors
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) {
          fail(tooLarge(url, opts.maxBytes));
          req.destroy();
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('response aborted')));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const h = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          try {
            h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          } catch {
            // a header value fetch's Headers refuses: drop it rather than the response
          }
        }
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: h,
          body: Buffer.concat(chunks),
        });
      });
    });
    if (body) req.end(body);
    else req.end();
  });
}

function tooLarge(url: URL, maxBytes: number): TrellisError {
  return new TrellisError('http_error', `Response from ${url.host} exceeds ${maxBytes} bytes`, {
    details: { reason: 'response_too_large', maxBytes },
  });
}

function headersToRecord(init: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

export async function guardedFetch(input: string | URL, init: GuardedFetchInit = {}): Promise<Response> {
  const policy: EgressPolicy = {
    allowPrivate: init.allowPrivate ?? allowPrivateFromEnv(),
    allowHosts: init.allowHosts,
  };
  const maxBytes = init.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxRedirects = init.maxRedirects ?? MAX_REDIRECTS;
  const lookup = init.lookup ?? dns.lookup;
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new TrellisError('http_error', `Invalid URL: ${String(input).slice(0, 200)}`);
  }
  let method = (init.method ?? 'GET').toUpperCase();
  let headers = headersToRecord(init.headers);
  let body = toBody(init.body);

  for (let hop = 0; ; hop++) {
    if (init.pinHosts && !hostAllowListed(url, init.pinHosts))
      throw blocked(`host ${url.host} is not one of ${init.pinHosts.join(', ')}`);
    const decision = checkUrl(url, policy);
    if (!decision.ok) throw blocked(decision.reason);
    init.signal?.throwIfAborted();
    const hopHeaders = { ...headers };
    if ((url.username || url.password) && !hopHeaders.authorization) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      hopHeaders.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }
    let raw: RawResponse;
    try {
      raw = await requestOnce(url, method, hopHeaders, body, {
        signal: init.signal ?? undefined,
        maxBytes,
        policy,
        trusted: decision.trusted,
        lookup,
      });
    } catch (err) {
      if (err instanceof TrellisError) throw err;
      if (init.signal?.aborted) throw init.signal.reason ?? err;
      throw new TrellisError(
        'http_error',
        `${method} ${url.host}: ${(err as Error)?.message ?? String(err)}`,
        {
          retryable: true,
          cause: err,
        },
      );
    }
    const location = raw.headers.get('location');
    if (REDIRECT_STATUSES.has(raw.status) && location && init.redirect !== 'manual') {
      if (init.redirect === 'error')
        throw new TrellisError('http_error', `Redirect from ${url.host} refused`);
      if (hop >= maxRedirects) {
        throw new TrellisError('http_error', `More than ${maxRedirects} redirects (last from ${url.host})`, {
          details: { reason: 'too_many_redirects' },
        });
      }
      const next = new URL(location, url);
      if (raw.status === 303 || ((raw.status === 301 || raw.status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      if (next.origin !== url.origin) {
        // Credentials were meant for the first origin, not wherever it points us.
        const { authorization: _a, cookie: _c, 'proxy-authorization': _p, ...rest } = headers;
        headers = rest;
      }
      url = next;
      continue;
    }
    const nullBody = NULL_BODY_STATUSES.has(raw.status) || method === 'HEAD';
    const res = new Response(nullBody ? null : new Uint8Array(raw.body), {
      status: raw.status,
      statusText: raw.statusText,
      headers: raw.headers,
    });
    Object.defineProperty(res, 'url', { value: url.toString() });
    return res;
  }
}
