// Which Host names this server answers to. A browser tricked by DNS rebinding sends the
// attacker's name in Host (the page's origin is that name), so answering only our own names
// closes rebinding against an install on loopback. Pure (no Node imports): proxy.ts uses it too.

/** Names every install answers to: the loopback names a local browser or CLI uses. */
export const LOCAL_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];

export interface HostEnv {
  [name: string]: string | undefined;
  TRELLIS_PUBLIC_URL?: string;
  /** Comma-separated host names (ports ignored); `*` turns the check off. */
  TRELLIS_ALLOWED_HOSTS?: string;
}

/** The host name of a Host header value, lower-cased, without the port. */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  return (colon >= 0 ? h.slice(0, colon) : h).replace(/\.$/, '');
}

export function allowedHostnames(env: HostEnv): Set<string> | 'any' {
  const names = new Set(LOCAL_HOSTNAMES);
  if (env.TRELLIS_PUBLIC_URL) {
    try {
      names.add(new URL(env.TRELLIS_PUBLIC_URL).hostname.toLowerCase());
    } catch {
      // an unparsable public URL adds nothing; the loopback names still work
    }
  }
  for (const raw of (env.TRELLIS_ALLOWED_HOSTS ?? '').split(',')) {
    const h = raw.trim();
    if (h === '*') return 'any';
    if (h) names.add(hostnameOf(h));
  }
  return names;
}

/** True when every host the request names (Host, X-Forwarded-Host) is one of ours. */
export function isAllowedHost(headers: Headers, fallbackHost: string | undefined, env: HostEnv): boolean {
  const allowed = allowedHostnames(env);
  if (allowed === 'any') return true;
  const given = [headers.get('host') ?? fallbackHost, headers.get('x-forwarded-host')];
  let seen = false;
  for (const value of given) {
    if (value == null) continue;
    for (const part of value.split(',')) {
      seen = true;
      if (!allowed.has(hostnameOf(part))) return false;
    }
  }
  return seen;
}
