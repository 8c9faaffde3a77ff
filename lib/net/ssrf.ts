import { isIP } from 'node:net';

// The SSRF guard's decisions, kept free of I/O so every case can be tested without sending a
// packet. guarded-fetch.ts applies them twice per hop: to the URL (scheme, host, IP literals)
// and to every address DNS returns, right before connecting to exactly that address.

export interface EgressPolicy {
  /** TRELLIS_HTTP_ALLOW_PRIVATE: loopback/private/link-local addresses are allowed (metadata still needs allowHosts). */
  allowPrivate?: boolean;
  /** The node's allow-list (host or host:port). When given, every other host is refused. */
  allowHosts?: string[];
}

export type Decision = { ok: true; trusted: boolean } | { ok: false; reason: string };

export function allowPrivateFromEnv(env: Record<string, string | undefined> = process.env): boolean {
  const v = env.TRELLIS_HTTP_ALLOW_PRIVATE?.trim().toLowerCase();
  return v === '1' || v === 'true';
}

const ALLOWED_SCHEMES = new Set(['http:', 'https:']);

// Cloud metadata services. Refused even with TRELLIS_HTTP_ALLOW_PRIVATE: only an explicit
// allowHosts entry opens them, because a leaked instance credential is worse than a local call.
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
]);
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254']);

type Range4 = [base: number, bits: number, reason: string];
const v4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const BLOCKED_V4: Range4[] = [
  [v4(0, 0, 0, 0), 8, 'unspecified ("this network") address'],
  [v4(10, 0, 0, 0), 8, 'private address'],
  [v4(100, 64, 0, 0), 10, 'carrier-grade NAT (shared) address'],
  [v4(127, 0, 0, 0), 8, 'loopback address'],
  [v4(169, 254, 0, 0), 16, 'link-local address'],
  [v4(172, 16, 0, 0), 12, 'private address'],
  [v4(192, 0, 0, 0), 24, 'reserved (IETF protocol) address'],
  [v4(192, 0, 2, 0), 24, 'reserved (documentation) address'],
  [v4(192, 168, 0, 0), 16, 'private address'],
  [v4(198, 18, 0, 0), 15, 'reserved (benchmarking) address'],
  [v4(198, 51, 100, 0), 24, 'reserved (documentation) address'],
  [v4(203, 0, 113, 0), 24, 'reserved (documentation) address'],
  [v4(224, 0, 0, 0), 4, 'multicast address'],
  [v4(240, 0, 0, 0), 4, 'reserved address'],
];

function parseV4(ip: string): number {
  const p = ip.split('.').map(Number);
  return v4(p[0], p[1], p[2], p[3]);
}

function classifyV4(n: number): string | null {
  for (const [base, bits, reason] of BLOCKED_V4) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === base) return reason;
  }
  return null;
}

/** Eight 16-bit groups; handles "::" and a dotted IPv4 tail. */
function parseV6(ip: string): number[] {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    if (isIP(s.slice(lastColon + 1)) !== 4) return [];
    const n = parseV4(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head
    ? head
        .split(':')
        .filter((x) => x !== '')
        .map((x) => parseInt(x, 16))
    : [];
  const r = rest
    ? rest
        .split(':')
        .filter((x) => x !== '')
        .map((x) => parseInt(x, 16))
    : [];
  const fill = 8 - h.length - r.length;
  return [...h, ...Array(rest === undefined ? 0 : Math.max(0, fill)).fill(0), ...r];
}

function classifyV6(ip: string): string | null {
  const g = parseV6(ip);
  if (g.length !== 8) return 'unparsable IPv6 address';
  const embedded = (hi: number, lo: number) => classifyV4(((hi << 16) | lo) >>> 0);
  const allZero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (allZero(0, 8)) return 'unspecified address';
  if (allZero(0, 7) && g[7] === 1) return 'loopback address';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4
  // (2002:AABB:CCDD::) carry an IPv4 address that some stacks route to: judge that address.
  if (allZero(0, 5) && g[5] === 0xffff) {
    const r = embedded(g[6], g[7]);
    return r && `IPv4-mapped ${r}`;
  }
  if (allZero(0, 6)) {
    const r = embedded(g[6], g[7]);
    return r && `IPv4-compatible ${r}`;
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && allZero(2, 6)) {
    const r = embedded(g[6], g[7]);
    return r && `NAT64 ${r}`;
  }
  if (g[0] === 0x2002) {
    const r = embedded(g[1], g[2]);
    return r && `6to4 ${r}`;
  }
  if ((g[0] & 0xfe00) === 0xfc00) return 'unique-local address';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local address';
  if ((g[0] & 0xffc0) === 0xfec0) return 'site-local address';
  if ((g[0] & 0xff00) === 0xff00) return 'multicast address';
  if (g[0] === 0x100 && allZero(1, 4)) return 'reserved (discard) address';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved (documentation) address';
  return null;
}

/** Why an address must not be contacted, or null when it is a public address. */
export function classifyAddress(ip: string): string | null {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare);
  if (family === 4) return classifyV4(parseV4(bare));
  if (family === 6) return classifyV6(bare);
  return 'not an IP address';
}

export function isMetadataAddress(ip: string): boolean {
  const bare = (ip.startsWith('[') ? ip.slice(1, -1) : ip).toLowerCase();
  if (METADATA_ADDRESSES.has(bare)) return true;
  const g = isIP(bare) === 6 ? parseV6(bare) : null;
  if (g && g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const n = ((g[6] << 16) | g[7]) >>> 0;
    return METADATA_ADDRESSES.has(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`);
  }
  return false;
}

function normalizeHostname(hostname: string): string {
  let h = hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function effectivePort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
}

/** "api.example", "api.example:8443", "127.0.0.1:4000", "[::1]:80"; normalized like a URL host. */
function parseAllowEntry(entry: string): { host: string; port?: string } | null {
  try {
    const u = new URL(`http://${entry.trim()}`);
    if (u.pathname !== '/' || u.username || u.search) return null;
    return {
      host: normalizeHostname(u.hostname),
      port: u.port || (/:80$/.test(entry.trim()) ? '80' : undefined),
    };
  } catch {
    return null;
  }
}

export function hostAllowListed(url: URL, allowHosts: string[]): boolean {
  const host = normalizeHostname(url.hostname);
  const port = effectivePort(url);
  return allowHosts.some((entry) => {
    const e = parseAllowEntry(entry);
    return !!e && e.host === host && (e.port === undefined || e.port === port);
  });
}

function isMetadataHostname(host: string): boolean {
  return METADATA_HOSTS.has(host);
}

function isLocalHostname(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === 'localhost.localdomain';
}

/**
 * Decide on a URL before any DNS lookup. `trusted` means the host is explicitly allow-listed, so
 * its resolved addresses are not checked again.
 */
export function checkUrl(input: string | URL, policy: EgressPolicy = {}): Decision {
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : input;
  } catch {
    return { ok: false, reason: 'invalid URL' };
  }
  if (!ALLOWED_SCHEMES.has(url.protocol))
    return { ok: false, reason: `scheme ${url.protocol} is not allowed (http and https only)` };
  const host = normalizeHostname(url.hostname);
  if (!host) return { ok: false, reason: 'URL has no host' };
  if (policy.allowHosts && policy.allowHosts.length > 0) {
    if (hostAllowListed(url, policy.allowHosts)) return { ok: true, trusted: true };
    return { ok: false, reason: `refused ${url.host}: host is not in this node's allowHosts` };
  }
  if (isMetadataHostname(host) || isMetadataAddress(host)) {
    return { ok: false, reason: `refused ${host}: cloud metadata endpoint` };
  }
  if (policy.allowPrivate) return { ok: true, trusted: false };
  if (isLocalHostname(host)) return { ok: false, reason: `refused ${host}: loopback host name` };
  if (isIP(host)) {
    const reason = classifyAddress(host);
    if (reason) return { ok: false, reason: `refused ${host}: ${reason}` };
  }
  return { ok: true, trusted: false };
}

/** Decide on one resolved address (DNS answer) for a host that passed checkUrl. */
export function checkResolvedAddress(
  hostname: string,
  address: string,
  policy: EgressPolicy,
  trusted: boolean,
): Decision {
  if (trusted) return { ok: true, trusted };
  if (isMetadataAddress(address))
    return { ok: false, reason: `refused ${hostname} (${address}): cloud metadata endpoint` };
  if (policy.allowPrivate) return { ok: true, trusted };
  const reason = classifyAddress(address);
  return reason
    ? { ok: false, reason: `refused ${hostname} (${address}): ${reason}` }
    : { ok: true, trusted };
}
