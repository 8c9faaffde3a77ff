import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Bearer and session tokens are 256 random bits; only their SHA-256 is stored. A fast hash is
// right here (unlike passwords): the input already has full entropy, so there is nothing to guess.

export const TOKEN_BYTES = 32;
export const SESSION_TOKEN_PREFIX = 'trs_';
export const API_TOKEN_PREFIX = 'trt_';

export function newToken(prefix: string): string {
  return prefix + randomBytes(TOKEN_BYTES).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings (length leaks, content does not: both are hashed first). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
