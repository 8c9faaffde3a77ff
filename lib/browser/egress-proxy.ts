import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { TrellisError } from '@/lib/workflow/errors';
import { guardedLookup } from '@/lib/net/guarded-fetch';
import { allowPrivateFromEnv, checkUrl, hostAllowListed, type EgressPolicy } from '@/lib/net/ssrf';
import { MAX_BLOCKED_RECORDED, MAX_BROWSER_STEP_BYTES } from './limits';

// The only way out of a browser context: an HTTP proxy on 127.0.0.1, one per context, that the
// context is created with (pool.ts). Chromium, told to use a proxy, never resolves the host of a
// request it proxies: it hands the name to the proxy (`GET http://host/…` for http, `CONNECT
// host:443` for https and WebSockets), and '<-loopback>' removes the implicit bypass of loopback.
// The proxy judges the host by lib/net's rules (scheme, allow-list, pinned host, metadata names,
// IP literals), then connects with guardedLookup as the socket's own DNS lookup: every answer is
// checked and the socket connects to the answer checked, so a name that rebinds between the check
// and the connection cannot happen — there is one resolution, and it is the proxy's. Redirect
// hops, popups and subresources are new requests through the same gate. A pooled upstream socket
// stays connected to the address it was checked at, and the rules never change for a proxy's life.
//
// Rejected: route interception answering every request with guardedFetch (each request crossed
// the DevTools protocol twice and was buffered in Node, route interception turns the HTTP cache
// off, and navigation redirects had to go through a script page); route.continue() after a DNS
// check (Chromium resolves again: the rebinding gap).

export interface EgressRules {
  /** Explicit allow-list: listed hosts are trusted, even private ones (lib/net semantics). */
  allowHosts?: string[];
  /** Without allowHosts: the only host reachable, and public addresses only (never loosened). */
  pinHost?: string;
  allowPrivate?: boolean;
}

export interface Refusal {
  /** The URL refused: the full URL for http, `https://host:port/` for a tunnel (its path is encrypted). */
  url: string;
  reason: string;
  /** Set when the refusal is known to be of a navigation (a goto refused before it started). */
  navigation?: boolean;
}

export interface EgressProxy {
  /** `http://127.0.0.1:port`, for the context's proxy setting. */
  server: string;
  /** Set once when a step takes the context; until then every request is refused. */
  setRules(rules: EgressRules): void;
  /** Refused requests in order (at most MAX_BLOCKED_RECORDED are kept). */
  refusals: Refusal[];
  /** Why the rules refuse this URL (scheme and host; no DNS), or null. */
  judge(url: string): string | null;
  /** Records a refusal made before the request reached the proxy (a goto checked up front). */
  record(refusal: Refusal): void;
  /** Bytes received from upstream servers so far. */
  bytesIn(): number;
  close(): Promise<void>;
}

/** Decide on a URL by its scheme and host alone: the rules the proxy applies before connecting. */
export function egressDecision(
  url: string | URL,
  rules: EgressRules,
): { ok: true; policy: EgressPolicy; trusted: boolean } | { ok: false; reason: string } {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return { ok: false, reason: 'invalid URL' };
  }
  if (!rules.allowHosts?.length && rules.pinHost && !hostAllowListed(u, [rules.pinHost]))
    return {
      ok: false,
      reason: `refused ${u.host}: only the start URL's host (${rules.pinHost}) is reachable without allowHosts`,
    };
  const policy: EgressPolicy = {
    allowHosts: rules.allowHosts?.length ? rules.allowHosts : undefined,
    allowPrivate: rules.allowPrivate ?? allowPrivateFromEnv(),
  };
  const d = checkUrl(u, policy);
  return d.ok ? { ok: true, policy, trusted: d.trusted } : { ok: false, reason: d.reason };
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own: never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function forwardable(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2)
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  return out;
}

export async function startEgressProxy(
  opts: { lookup?: typeof dns.lookup; budgetBytes?: number } = {},
): Promise<EgressProxy> {
  const budget = opts.budgetBytes ?? MAX_BROWSER_STEP_BYTES;
  const lookup = opts.lookup ?? dns.lookup;
  let rules: EgressRules | null = null;
  let received = 0;
  const refusals: Refusal[] = [];
  const sockets = new Set<net.Socket>();
  // Upstream keep-alive is safe here: a pooled socket is still the connection that was checked.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });

  const record = (r: Refusal) => {
    if (refusals.length < MAX_BLOCKED_RECORDED) refusals.push({ ...r, url: r.url.slice(0, 500) });
  };
  const refuse = (url: string, reason: string) => record({ url, reason });
  const judge = (url: string | URL) => {
    if (!rules) return { ok: false as const, reason: 'the browser context has no step yet' };
    if (received > budget) return { ok: false as const, reason: spentReason(budget) };
    return egressDecision(url, rules);
  };
  /** Counts bytes from upstream; false (and the caller cuts the connection) past the budget. */
  const take = (n: number, url: string) => {
    const before = received;
    received += n;
    if (received <= budget) return true;
    if (before <= budget) refuse(url, spentReason(budget));
    return false;
  };

  const server = http.createServer((req, res) => {
    // A refused plain-http request gets no response at all: the page sees a network error, as it
    // would had it connected nowhere (an answer from here would be shown as the site's own page).
    const cut = () => res.socket?.destroy();
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return cut();
    }
    const target = url.toString();
    if (url.protocol !== 'http:') {
      refuse(target, `scheme ${url.protocol} is not allowed through the proxy`);
      return cut();
    }
    const d = judge(url);
    if (!d.ok) {
      refuse(target, d.reason);
      return cut();
    }
    let ssrf: TrellisError | undefined;
    const up = http.request({
      method: req.method,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || 80,
      path: `${url.pathname}${url.search}`,
      headers: forwardable(req.rawHeaders),
      agent,
      lookup: guardedLookup(d.policy, d.trusted, (e) => (ssrf = e), lookup),
    });
    up.on('response', (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, forwardable(ur.rawHeaders));
      ur.on('data', (chunk: Buffer) => {
        if (!take(chunk.length, target)) {
          ur.destroy();
          cut();
        }
      });
      ur.pipe(res);
      ur.on('error', cut);
    });
    up.on('error', () => {
      if (ssrf) refuse(target, ssrf.message);
      cut();
    });
    req.pipe(up);
    req.on('error', () => up.destroy());
  });

  // CONNECT host:port: https (and WebSockets). Judged by host and port; the bytes are end to end.
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const authority = req.url ?? '';
    let url: URL;
    try {
      url = new URL(`https://${authority}/`);
    } catch {
      return client.destroy();
    }
    const target = url.toString();
    const no = () => client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    const d = judge(url);
    if (!d.ok) {
      refuse(target, d.reason);
      return no();
    }
    let ssrf: TrellisError | undefined;
    const upstream = net.connect({
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: Number(url.port || 443),
      lookup: guardedLookup(d.policy, d.trusted, (e) => (ssrf = e), lookup),
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    let open = false;
    upstream.once('connect', () => {
      open = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.on('data', (chunk: Buffer) => {
        if (!take(chunk.length, target)) {
          upstream.destroy();
          client.destroy();
        }
      });
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (ssrf) refuse(target, ssrf.message);
      if (open) client.destroy();
      else no();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // An upgrade (a WebSocket over plain http) has no listener here: Node closes the connection.

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    server: `http://127.0.0.1:${port}`,
    setRules(r) {
      if (rules) throw new Error('egress rules are set once per context');
      rules = r;
    },
    refusals,
    judge(url) {
      const d = judge(url);
      return d.ok ? null : d.reason;
    },
    record,
    bytesIn: () => received,
    close() {
      agent.destroy();
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function spentReason(budget: number): string {
  return `the step's transfer budget (${budget} bytes, MAX_BROWSER_STEP_BYTES) is spent`;
}
