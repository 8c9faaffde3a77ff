import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  SCRYPT_BLOCK_SIZE_R,
  SCRYPT_COST_N,
  verifyPassword,
} from './password';
import { hashToken, newToken, safeEqual } from './tokens';

describe('password hashing (scrypt)', () => {
  it('uses memory-hard parameters: N = 2^17, r = 8 (128 MiB per hash)', () => {
    expect(SCRYPT_COST_N).toBe(131072);
    expect(128 * SCRYPT_COST_N * SCRYPT_BLOCK_SIZE_R).toBe(128 * 1024 * 1024);
  });

  it('verifies the right password, refuses a wrong one, salts every hash', async () => {
    const a = await hashPassword('correct horse battery');
    expect(a.startsWith(`scrypt$${DEFAULT_SCRYPT_PARAMS.N}$8$1$`)).toBe(true);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterz', a)).toBe(false);
    const cheap = { N: 1024, r: 8, p: 1 };
    expect(await hashPassword('x', cheap)).not.toBe(await hashPassword('x', cheap));
  });

  it('refuses malformed hashes and parameters that would pin the CPU', async () => {
    expect(await verifyPassword('x', 'plain')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(
      false,
    );
    expect(await verifyPassword('x', 'scrypt$1024$8$1$AAAA$AAAA')).toBe(false);
  });

  it(`accepts passwords of ${MIN_PASSWORD_LENGTH}..${MAX_PASSWORD_LENGTH} characters`, () => {
    expect(passwordProblem('a'.repeat(MIN_PASSWORD_LENGTH - 1))).toMatch(/at least/);
    expect(passwordProblem('a'.repeat(MIN_PASSWORD_LENGTH))).toBeNull();
    expect(passwordProblem('a'.repeat(MAX_PASSWORD_LENGTH + 1))).toMatch(/at most/);
  });
});

describe('tokens', () => {
  it('are random, prefixed, and stored as SHA-256', () => {
    const t = newToken('trt_');
    expect(t).toMatch(/^trt_[A-Za-z0-9_-]{43}$/);
    expect(newToken('trt_')).not.toBe(t);
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
  });
  it('compare in constant time and exactly', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
  });
});
