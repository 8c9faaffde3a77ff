import type { PrismaClient } from '@/lib/db/generated/client';
import { TrellisError } from '@/lib/workflow/errors';
import { hashPassword, verifyPassword } from './password';
import { API_TOKEN_PREFIX, hashToken, newToken, SESSION_TOKEN_PREFIX } from './tokens';

// Users, sessions and API tokens over Prisma. Only token hashes are stored; the plain token exists
// in the response that created it and in the client that holds it.

export const SESSION_TTL_MS = 14 * 24 * 60 * 60 * 1000;
/** lastUsedAt is written at most this often per token, so every API call is not a write. */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000;
export const MAX_API_TOKENS = 100;

export interface Principal {
  kind: 'session' | 'api_token' | 'env_token';
  userId?: string;
  email?: string;
  tokenId?: string;
}

export async function hasUser(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.user.count()) > 0;
}

/** First-run setup: creates the owner, or refuses when any user exists. */
export async function createOwner(prisma: PrismaClient, email: string, password: string) {
  // Checked before hashing too, so a repeated setup call costs no scrypt run.
  if (await hasUser(prisma)) throw new TrellisError('conflict', 'Setup is done: an owner account exists');
  const passwordHash = await hashPassword(password);
  return prisma.$transaction(async (tx) => {
    // Serializes concurrent setups on Postgres; PGlite has one connection anyway.
    await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(727001)');
    if ((await tx.user.count()) > 0)
      throw new TrellisError('conflict', 'Setup is done: an owner account exists');
    return tx.user.create({ data: { email, passwordHash }, select: { id: true, email: true } });
  });
}

// A hash of a random password: login with an unknown email pays the same scrypt cost as a known one.
let dummyHash: Promise<string> | undefined;

export async function checkCredentials(prisma: PrismaClient, email: string, password: string) {
  const user = await prisma.user.findUnique({ where: { email } });
  if (!user) {
    dummyHash ??= hashPassword(newToken(''));
    await verifyPassword(password, await dummyHash);
    return null;
  }
  return (await verifyPassword(password, user.passwordHash)) ? { id: user.id, email: user.email } : null;
}

export async function createSession(prisma: PrismaClient, userId: string, now = Date.now()) {
  const token = newToken(SESSION_TOKEN_PREFIX);
  const expiresAt = new Date(now + SESSION_TTL_MS);
  await prisma.session.create({ data: { userId, tokenHash: hashToken(token), expiresAt } });
  // Expired rows are swept on login rather than by a timer.
  await prisma.session.deleteMany({ where: { expiresAt: { lt: new Date(now) } } });
  return { token, expiresAt };
}

export async function sessionPrincipal(prisma: PrismaClient, token: string): Promise<Principal | null> {
  if (!token.startsWith(SESSION_TOKEN_PREFIX)) return null;
  const s = await prisma.session.findUnique({
    where: { tokenHash: hashToken(token) },
    include: { user: { select: { id: true, email: true } } },
  });
  if (!s || s.expiresAt.getTime() <= Date.now()) return null;
  return { kind: 'session', userId: s.user.id, email: s.user.email };
}

export async function deleteSession(prisma: PrismaClient, token: string): Promise<void> {
  await prisma.session.deleteMany({ where: { tokenHash: hashToken(token) } });
}

export async function createApiToken(prisma: PrismaClient, name: string) {
  if ((await prisma.apiToken.count()) >= MAX_API_TOKENS) {
    throw new TrellisError('unprocessable', `At most ${MAX_API_TOKENS} API tokens; revoke one first`);
  }
  const token = newToken(API_TOKEN_PREFIX);
  const row = await prisma.apiToken.create({
    data: { name, tokenHash: hashToken(token) },
    select: { id: true, name: true, createdAt: true },
  });
  return { ...row, token };
}

export function listApiTokens(prisma: PrismaClient) {
  return prisma.apiToken.findMany({
    select: { id: true, name: true, createdAt: true, lastUsedAt: true },
    orderBy: { createdAt: 'desc' },
  });
}

export async function revokeApiToken(prisma: PrismaClient, id: string): Promise<boolean> {
  return (await prisma.apiToken.deleteMany({ where: { id } })).count > 0;
}

export async function apiTokenPrincipal(prisma: PrismaClient, token: string): Promise<Principal | null> {
  if (!token.startsWith(API_TOKEN_PREFIX)) return null;
  const row = await prisma.apiToken.findUnique({ where: { tokenHash: hashToken(token) } });
  if (!row) return null;
  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > TOKEN_TOUCH_INTERVAL_MS) {
    await prisma.apiToken.updateMany({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
  }
  return { kind: 'api_token', tokenId: row.id };
}
