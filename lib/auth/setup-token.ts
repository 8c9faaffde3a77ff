import { isIP } from 'node:net';
import { newToken, safeEqual } from './tokens';

type Env = Record<string, string | undefined>;

// First-run takeover: on a fresh install whoever calls setup first owns the server. A loopback-only
// server can only be reached from this machine; an exposed one (HOST, or a reverse proxy passing
// remote clients on) asks for a one-time token that only someone reading the server's log has.
//
// Next.js gives route handlers no socket address, and it keeps an X-Forwarded-For the client sent,
// so the header alone cannot prove a client is local. Hence: a server not bound to loopback asks
// every setup caller for the token; a loopback-bound one asks when a forwarded address is remote.

export const SETUP_TOKEN_HEADER = 'x-trellis-setup-token';

function isLoopback(addr: string): boolean {
  let a = addr.trim().toLowerCase();
  if (a.startsWith('[')) a = a.slice(1, a.indexOf(']'));
  if (a.startsWith('::ffff:')) a = a.slice(7);
  if (a === 'localhost' || a === '::1') return true;
  return isIP(a) === 4 && a.startsWith('127.');
}

/** The address the server was told to listen on: HOST, else `next start -H/--hostname`. */
export function bindHost(env: Env = process.env, argv = process.argv): string | undefined {
  if (env.HOST) return env.HOST;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-H' || argv[i] === '--hostname') return argv[i + 1];
    if (argv[i].startsWith('--hostname=')) return argv[i].slice('--hostname='.length);
  }
  return undefined; // Next's default: every interface
}

function forwardedAddresses(headers: Headers): string[] {
  const out: string[] = [];
  for (const h of ['x-forwarded-for', 'x-real-ip']) {
    for (const part of (headers.get(h) ?? '').split(',')) if (part.trim()) out.push(part.trim());
  }
  for (const m of (headers.get('forwarded') ?? '').matchAll(/for="?([^;,"]+)/gi)) out.push(m[1]);
  return out;
}

export function setupTokenRequired(headers: Headers, env: Env = process.env, argv = process.argv): boolean {
  const bound = bindHost(env, argv);
  if (!bound || !isLoopback(bound)) return true;
  return forwardedAddresses(headers).some((a) => !isLoopback(a.replace(/:\d+$/, '')));
}

const KEY = Symbol.for('trellis.setup-token');
type Holder = { [KEY]?: string };

/** The token of this process (TRELLIS_SETUP_TOKEN, else generated once and printed to the log). */
export function setupToken(env: Env = process.env): string {
  if (env.TRELLIS_SETUP_TOKEN) return env.TRELLIS_SETUP_TOKEN;
  const g = globalThis as Holder;
  if (!g[KEY]) {
    g[KEY] = newToken('setup_');
    console.warn(`[trellis] First-run setup from another machine needs this one-time setup token: ${g[KEY]}`);
  }
  return g[KEY];
}

export function setupTokenMatches(given: string | undefined | null, env: Env = process.env): boolean {
  return !!given && safeEqual(given, setupToken(env));
}

/** After the owner exists the token has no use; a later fresh install gets a new one. */
export function forgetSetupToken(): void {
  delete (globalThis as Holder)[KEY];
}
