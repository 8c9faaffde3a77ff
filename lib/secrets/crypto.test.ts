import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decryptSecret,
  encryptSecret,
  GCM_IV_BYTES,
  loadSecretKey,
  parseSecretKey,
  SECRET_KEY_BYTES,
  SECRET_KEY_FILE,
} from './crypto';
import { encodedForms, REDACTED, SecretRedactor } from './redact';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('AES-256-GCM at rest', () => {
  const key = randomBytes(SECRET_KEY_BYTES);

  it('round-trips, with a fresh IV per encryption', () => {
    const a = encryptSecret(key, 'API_KEY', 'sk-live-123 ünïcode');
    const b = encryptSecret(key, 'API_KEY', 'sk-live-123 ünïcode');
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-live');
    expect(Buffer.from(a.split(':')[1], 'base64')).toHaveLength(GCM_IV_BYTES);
    expect(decryptSecret(key, 'API_KEY', a)).toBe('sk-live-123 ünïcode');
  });

  it('refuses a tampered ciphertext, a wrong key, and a value moved to another name', () => {
    const c = encryptSecret(key, 'A', 'value-1');
    const parts = c.split(':');
    const data = Buffer.from(parts[2], 'base64');
    data[0] ^= 1;
    expect(() =>
      decryptSecret(key, 'A', [parts[0], parts[1], data.toString('base64'), parts[3]].join(':')),
    ).toThrow();
    expect(() => decryptSecret(randomBytes(32), 'A', c)).toThrow();
    expect(() => decryptSecret(key, 'B', c)).toThrow();
  });

  it('parses a 32-byte key as hex or base64 and refuses other lengths', () => {
    expect(parseSecretKey('ab'.repeat(32))).toHaveLength(32);
    expect(parseSecretKey(randomBytes(32).toString('base64'))).toHaveLength(32);
    expect(() => parseSecretKey('too-short')).toThrow(/32 bytes/);
  });

  it('embedded mode generates a key file with 0600 permissions and reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-key-'));
    dirs.push(dir);
    const k1 = loadSecretKey({ env: { TRELLIS_DATA_DIR: dir } });
    const stat = fs.statSync(path.join(dir, SECRET_KEY_FILE));
    expect(stat.mode & 0o777).toBe(0o600);
    expect(loadSecretKey({ env: { TRELLIS_DATA_DIR: dir } }).equals(k1)).toBe(true);
  });

  it('server mode without TRELLIS_SECRET_KEY is a clear error, not a generated key', () => {
    expect(() => loadSecretKey({ env: { DATABASE_URL: 'postgresql://x/y' } })).toThrow(/TRELLIS_SECRET_KEY/);
    const hex = 'cd'.repeat(32);
    expect(
      loadSecretKey({ env: { DATABASE_URL: 'postgresql://x/y', TRELLIS_SECRET_KEY: hex } }).toString('hex'),
    ).toBe(hex);
  });
});

describe('redaction', () => {
  const secret = 'p@ss w/rd+Zq9!';
  const r = new SecretRedactor();
  r.setValues([secret, 'x']);

  it('masks the raw, JSON-escaped, URL-encoded and base64 forms anywhere in a value', () => {
    const b64 = Buffer.from(`user:${secret}`).toString('base64'); // Basic auth: secret at an offset
    const value = {
      raw: `token=${secret};`,
      url: `https://h/?k=${encodeURIComponent(secret)}`,
      form: `k=${encodeURIComponent(secret).replace(/%20/g, '+')}`,
      basic: `Basic ${b64}`,
      b64url: Buffer.from(secret).toString('base64url'),
      json: JSON.stringify({ s: `"${secret}"` }),
      nested: [{ [secret]: 1 }],
    };
    const out = JSON.stringify(r.redact(value));
    for (const form of encodedForms(secret)) expect(out).not.toContain(form);
    expect(out).toContain(REDACTED);
  });

  it('ignores values too short to mask and leaves other text alone', () => {
    expect(r.redact({ a: 'x marks the spot' })).toEqual({ a: 'x marks the spot' });
  });

  it('formats console arguments like console and masks them', () => {
    const line = r.formatForLog(['failed:', new Error(`bad ${secret}`), { k: secret }]);
    expect(line).not.toContain(secret);
    expect(line).toContain('failed:');
  });
});
