import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Passwords are hashed with scrypt (memory-hard, in node:crypto, no native add-on). The parameters
// travel inside the stored hash so they can be raised later without invalidating old hashes.
// N = 2^17, r = 8, p = 1 is OWASP's scrypt recommendation: 128 MiB and ~0.2–0.5 s per hash here,
// which is the point (an offline attacker pays the same per guess).

export const SCRYPT_COST_N = 2 ** 17;
export const SCRYPT_BLOCK_SIZE_R = 8;
export const SCRYPT_PARALLELISM_P = 1;
export const SCRYPT_KEY_BYTES = 64;
export const SCRYPT_SALT_BYTES = 16;
/** Node refuses scrypt above maxmem (default 32 MiB); 128·N·r bytes plus headroom. */
const SCRYPT_MAXMEM = 2 * 128 * SCRYPT_COST_N * SCRYPT_BLOCK_SIZE_R;
/** A stored hash naming a larger N is refused: it would let a crafted row pin the CPU. */
const MAX_ACCEPTED_N = 2 ** 20;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT_PARAMS: ScryptParams = {
  N: SCRYPT_COST_N,
  r: SCRYPT_BLOCK_SIZE_R,
  p: SCRYPT_PARALLELISM_P,
};

function derive(password: string, salt: Buffer, params: ScryptParams, keylen: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: Math.max(SCRYPT_MAXMEM, 2 * 128 * params.N * params.r),
  };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keylen, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$<salt b64>$<key b64>` */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const key = await derive(password, salt, params, SCRYPT_KEY_BYTES);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > MAX_ACCEPTED_N || r > 32 || p > 16)
    return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (expected.length < 16) return false;
  const actual = await derive(password, salt, { N, r, p }, expected.length);
  return timingSafeEqual(actual, expected);
}

/** Why a password is refused, or null. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}
