import { z } from 'zod';
import { assertSameOriginIfUnsafe, authenticate, readCookie, SESSION_COOKIE } from '@/lib/auth/authenticate';
import { passwordProblem, MAX_PASSWORD_LENGTH } from '@/lib/auth/password';
import {
  forgetSetupToken,
  SETUP_TOKEN_HEADER,
  setupToken,
  setupTokenMatches,
  setupTokenRequired,
} from '@/lib/auth/setup-token';
import {
  checkCredentials,
  createApiToken,
  createOwner,
  createSession,
  deleteSession,
  hasUser,
  listApiTokens,
  revokeApiToken,
  SESSION_TTL_MS,
} from '@/lib/auth/store';
import { getDb } from '@/lib/db/client';
import { NotFoundError, TrellisError, ValidationError } from '@/lib/workflow/errors';
import { withLoginSlot } from './login-guard';
import { assertLoginRate } from './rate-limit';
import { json, parseWith, readJson, type RouteContext } from './route';

// Handlers of /api/auth/* and /api/tokens. Setup and login are public routes, but they set a
// cookie, so they get the same Origin check as authenticated state changes (no login CSRF).

const AUTH_BODY_BYTES = 8 * 1024;

export const credentials = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .min(3)
    .max(254)
    .regex(/^[^\s@]+@[^\s@]+$/, 'an email address'),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

/** Secure when the browser talked https to us (directly or through a proxy that says so). */
function isHttps(req: Request): boolean {
  const fwd = req.headers.get('x-forwarded-proto');
  if (fwd) return fwd.split(',')[0].trim() === 'https';
  try {
    return new URL(req.url).protocol === 'https:';
  } catch {
    return false;
  }
}

export function sessionCookie(req: Request, token: string, maxAgeSec: number): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${maxAgeSec}`,
    ...(isHttps(req) ? ['Secure'] : []),
  ].join('; ');
}

async function startSession(req: Request, userId: string, email: string, status = 200) {
  const { prisma } = await getDb();
  const { token } = await createSession(prisma, userId);
  return json({ user: { id: userId, email } }, status, {
    'set-cookie': sessionCookie(req, token, Math.floor(SESSION_TTL_MS / 1000)),
  });
}

export const setupBody = credentials.extend({ setupToken: z.string().max(200).optional() });

export async function setup({ req }: RouteContext<Record<string, string>>) {
  assertSameOriginIfUnsafe(req);
  const body = parseWith(setupBody, await readJson(req, AUTH_BODY_BYTES));
  if (setupTokenRequired(req.headers)) {
    const given = req.headers.get(SETUP_TOKEN_HEADER) ?? body.setupToken;
    if (!setupTokenMatches(given)) {
      throw new TrellisError(
        'forbidden',
        'First-run setup from this address needs the one-time setup token printed in the server log',
        {
          details: {
            reason: 'setup_token_required',
            problems: [
              { path: '/setupToken', code: 'invalid', message: 'the setup token from the server log' },
            ],
          },
        },
      );
    }
  }
  const problem = passwordProblem(body.password);
  if (problem) throw new ValidationError([{ path: '/password', code: 'too_weak', message: problem }]);
  assertLoginRate('setup');
  const { prisma } = await getDb();
  const user = await withLoginSlot(req, () => createOwner(prisma, body.email, body.password));
  forgetSetupToken();
  return startSession(req, user.id, user.email, 201);
}

export async function login({ req }: RouteContext<Record<string, string>>) {
  assertSameOriginIfUnsafe(req);
  const body = parseWith(credentials, await readJson(req, AUTH_BODY_BYTES));
  assertLoginRate(body.email);
  const { prisma } = await getDb();
  const user = await withLoginSlot(req, () => checkCredentials(prisma, body.email, body.password));
  if (!user) throw new TrellisError('unauthorized', 'Wrong email or password');
  return startSession(req, user.id, user.email);
}

export async function logout({ req }: RouteContext<Record<string, string>>) {
  assertSameOriginIfUnsafe(req);
  const token = readCookie(req, SESSION_COOKIE);
  if (token) await deleteSession((await getDb()).prisma, token);
  return json({ ok: true }, 200, { 'set-cookie': sessionCookie(req, '', 0) });
}

/** Public: tells the UI whether to show setup, login or the app. */
export async function me({ req }: RouteContext<Record<string, string>>) {
  const { prisma } = await getDb();
  const principal = await authenticate(req, { prisma });
  if (!principal) {
    return json(
      { error: { code: 'unauthorized', message: 'Not signed in' }, ...(await setupState(req.headers)) },
      401,
    );
  }
  return json({
    authenticated: true,
    kind: principal.kind,
    user: principal.email ? { email: principal.email } : null,
  });
}

/** Whether setup is open, and whether it needs the token (then printed to the log, once). */
export async function setupState(headers: Headers) {
  const { prisma } = await getDb();
  const setupRequired = !(await hasUser(prisma));
  const tokenRequired = setupRequired && setupTokenRequired(headers);
  if (tokenRequired) setupToken();
  return { setupRequired, setupTokenRequired: tokenRequired };
}

export async function setupStatus({ req }: RouteContext<Record<string, string>>) {
  return json(await setupState(req.headers));
}

export const tokenBody = z.object({ name: z.string().trim().min(1).max(100) });

export async function createToken({ req }: RouteContext<Record<string, string>>) {
  const body = parseWith(tokenBody, await readJson(req, AUTH_BODY_BYTES));
  const { prisma } = await getDb();
  const t = await createApiToken(prisma, body.name);
  // The only time the token is ever shown.
  return json({ id: t.id, name: t.name, createdAt: t.createdAt, token: t.token }, 201, {
    'cache-control': 'no-store',
  });
}

export async function listTokens() {
  const { prisma } = await getDb();
  return json({ tokens: await listApiTokens(prisma) });
}

export async function deleteToken({ params }: RouteContext<{ id: string }>) {
  const { prisma } = await getDb();
  if (!(await revokeApiToken(prisma, params.id))) throw new NotFoundError(`API token ${params.id}`);
  return json({ ok: true });
}
