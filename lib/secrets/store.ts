import type { PrismaClient } from '@/lib/db/generated/client';
import { changeCache, type ChangeFeed } from '@/lib/db/change-feed';
import { TrellisError } from '@/lib/workflow/errors';
import { decryptSecret, encryptSecret, loadSecretKey } from './crypto';
import { secretRedactor, type SecretRedactor } from './redact';

// Stored secrets: names in clear, values encrypted. Every read of the values also refreshes the
// process's redactor, so whatever runs with a secret can mask it on the way out.

export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_SECRET_VALUE_BYTES = 16 * 1024;
export const MAX_SECRETS = 500;

export interface SecretStoreOptions {
  key?: () => Buffer;
  redactor?: SecretRedactor;
  /**
   * Keep the decrypted values between runs and drop them when a secret changes (Db.changes, both
   * modes), instead of reading and decrypting every secret for every run. In server mode a read
   * first waits for the feed to catch up with when its operation began (change-feed.ts).
   */
  changes?: ChangeFeed;
}

export class SecretStore {
  private readonly key: () => Buffer;
  private readonly redactor: SecretRedactor;
  private cachedKey?: Buffer;
  private readonly cache?: ReturnType<typeof changeCache<Record<string, string>>>;

  constructor(
    private readonly prisma: PrismaClient,
    opts: SecretStoreOptions = {},
  ) {
    this.key = opts.key ?? (() => (this.cachedKey ??= loadSecretKey()));
    this.redactor = opts.redactor ?? secretRedactor();
    if (opts.changes)
      this.cache = changeCache(opts.changes, {
        max: 1,
        dropOn: (table) => (table === 'Secret' ? 'all' : null),
      });
  }

  async set(name: string, value: string): Promise<{ created: boolean }> {
    if (!SECRET_NAME_PATTERN.test(name)) {
      throw new TrellisError(
        'validation_error',
        'A secret name is letters, digits and _ (not first), at most 64',
      );
    }
    const key = this.key();
    const encryptedValue = encryptSecret(key, name, value);
    const existing = await this.prisma.secret.findUnique({ where: { name }, select: { id: true } });
    if (!existing && (await this.prisma.secret.count()) >= MAX_SECRETS) {
      throw new TrellisError('unprocessable', `At most ${MAX_SECRETS} secrets`);
    }
    await this.prisma.secret.upsert({
      where: { name },
      create: { name, encryptedValue },
      update: { encryptedValue },
    });
    await this.values();
    return { created: !existing };
  }

  list() {
    return this.prisma.secret.findMany({
      select: { name: true, createdAt: true, updatedAt: true },
      orderBy: { name: 'asc' },
    });
  }

  async remove(name: string): Promise<boolean> {
    const n = (await this.prisma.secret.deleteMany({ where: { name } })).count;
    // The deleted value stays in the redactor: old traces and logs may still be printed with it.
    return n > 0;
  }

  /** All secrets decrypted, for one run. With no secrets stored, no key is needed. */
  async values(): Promise<Record<string, string>> {
    if (!this.cache) return this.read();
    // A copy: the caller may not change what the next run gets.
    return Object.assign(
      Object.create(null) as Record<string, string>,
      await this.cache.get('all', () => this.read()),
    );
  }

  private async read(): Promise<Record<string, string>> {
    const rows = await this.prisma.secret.findMany({ select: { name: true, encryptedValue: true } });
    if (rows.length === 0) return {};
    const key = this.key();
    // Null prototype: `secrets.constructor` is a secret or undefined, never Object's constructor.
    const out: Record<string, string> = Object.create(null);
    for (const r of rows) out[r.name] = decryptSecret(key, r.name, r.encryptedValue);
    this.remember(Object.values(out));
    return out;
  }

  private remember(values: string[]) {
    this.redactor.remember(values);
  }
}
