import { getDb } from '@/lib/db/client';
import type { PrismaClient } from '@/lib/db/generated/client';
import { TrellisError } from '@/lib/workflow/errors';
import { apiTokenPrincipal, sessionPrincipal, type Principal } from './store';
import { safeEqual } from './tokens';

// Who is calling: a Bearer token (TRELLIS_API_TOKEN or a stored API token) or the session cookie.
// Cookie-authenticated state changes must come from our own origin (CSRF): browsers attach the
// cookie to cross-site form posts, but never let a cross-site page forge Origin or Authorization.

export const SESSION_COOKIE = 'trellis_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      // A malformed value (bad %-escape) is no credential: the caller is treated as signed out,
      // so every route, logout included, still answers.
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function bearer(req: Request): string | undefined {
  const h = req.headers.get('authorization');
  const m = h && /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** True when Origin (or, without it, Referer) names the host the request was sent to. */
export function sameOrigin(req: Request): boolean {
  const source = req.headers.get('origin') ?? req.headers.get('referer');
  if (!source || source === 'null') return false;
  let host: string;
  try {
    host = new URL(source).host;
  } catch {
    return false;
  }
  const targets = [req.headers.get('x-forwarded-host'), req.headers.get('host')];
  if (!targets[1]) {
    try {
      targets.push(new URL(req.url).host);
    } catch {
      // no usable URL: only the headers count
    }
  }
  return targets.some((t) => !!t && t.split(',')[0].trim().toLowerCase() === host.toLowerCase());
}

export function assertSameOriginIfUnsafe(req: Request): void {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return;
  if (!sameOrigin(req)) {
    throw new TrellisError('forbidden', 'Cross-origin request refused: Origin must match the Host', {
      details: { reason: 'origin_mismatch' },
    });
  }
}

export interface AuthenticateOptions {
  prisma?: PrismaClient;
  /** Default process.env.TRELLIS_API_TOKEN. */
  envToken?: string;
}

/** The caller, or null when no valid credential was sent. Throws 403 on a cross-site cookie POST. */
export async function authenticate(req: Request, opts: AuthenticateOptions = {}): Promise<Principal | null> {
  const token = bearer(req);
  const envToken = opts.envToken ?? process.env.TRELLIS_API_TOKEN;
  if (token) {
    if (envToken && safeEqual(token, envToken)) return { kind: 'env_token' };
    const prisma = opts.prisma ?? (await getDb()).prisma;
    return apiTokenPrincipal(prisma, token);
  }
  const cookie = readCookie(req, SESSION_COOKIE);
  if (!cookie) return null;
  const prisma = opts.prisma ?? (await getDb()).prisma;
  const principal = await sessionPrincipal(prisma, cookie);
  if (principal) assertSameOriginIfUnsafe(req);
  return principal;
}

export async function requireAuth(req: Request, opts: AuthenticateOptions = {}): Promise<Principal> {
  const p = await authenticate(req, opts);
  if (!p) throw new TrellisError('unauthorized', 'Sign in, or send Authorization: Bearer <token>');
  return p;
}
