import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TrellisError } from '@/lib/workflow/errors';

// Secrets at rest: AES-256-GCM under TRELLIS_SECRET_KEY, a fresh 96-bit IV per value, and the
// secret's name as additional data, so a ciphertext copied onto another row does not decrypt.
// Embedded mode generates a key in the data dir (0600) on first use; server mode must be given one,
// because several machines have to share it and a generated key would silently differ per worker.

export const SECRET_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const SECRET_KEY_FILE = 'secret.key';
const FORMAT = 'v1';

export class SecretKeyMissingError extends TrellisError {
  constructor() {
    super(
      'unprocessable',
      'Secrets are unavailable: set TRELLIS_SECRET_KEY (32 random bytes as 64 hex characters or base64) on every server and worker',
      { details: { reason: 'secret_key_missing' } },
    );
  }
}

/** 64 hex characters or base64 of exactly 32 bytes. */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== SECRET_KEY_BYTES) {
    throw new TrellisError(
      'unprocessable',
      'TRELLIS_SECRET_KEY must be 32 bytes, as 64 hex characters or base64',
      {
        details: { reason: 'secret_key_invalid' },
      },
    );
  }
  return key;
}

export interface KeySource {
  env?: Record<string, string | undefined>;
}

/** The key for this process: from the environment, else (embedded only) from/into the data dir. */
export function loadSecretKey({ env = process.env }: KeySource = {}): Buffer {
  if (env.TRELLIS_SECRET_KEY) return parseSecretKey(env.TRELLIS_SECRET_KEY);
  if (env.DATABASE_URL) throw new SecretKeyMissingError();
  const dir = path.resolve(/* turbopackIgnore: true */ env.TRELLIS_DATA_DIR ?? './.trellis');
  const file = path.join(dir, SECRET_KEY_FILE);
  fs.mkdirSync(dir, { recursive: true });
  try {
    // wx: two processes racing to create it cannot both win and then disagree.
    fs.writeFileSync(file, randomBytes(SECRET_KEY_BYTES).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return parseSecretKey(fs.readFileSync(file, 'utf8'));
}

export function encryptSecret(key: Buffer, name: string, value: string): string {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return [
    FORMAT,
    iv.toString('base64'),
    data.toString('base64'),
    cipher.getAuthTag().toString('base64'),
  ].join(':');
}

export function decryptSecret(key: Buffer, name: string, stored: string): string {
  const [format, iv, data, tag] = stored.split(':');
  if (format !== FORMAT || !iv || data === undefined || !tag)
    throw new Error(`Secret ${name}: unknown format`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAAD(Buffer.from(name, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
}
