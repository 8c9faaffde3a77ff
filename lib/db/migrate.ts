import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SqlExecutor, SqlQueryable } from './sql-executor';

// Applies prisma/migrations/*/migration.sql in name order, each in its own transaction, and records
// them in `_prisma_migrations` exactly as Prisma's schema engine does (same table, columns and
// checksum), so `prisma migrate status/deploy` agree wherever the native engine is available.
// Every transaction first takes a transaction-scoped advisory lock, so processes starting at the
// same time queue up and the later ones find the work done; no connection has to be pinned.

/** Arbitrary constant shared by every Trellis process: the key of the migration advisory lock. */
export const MIGRATION_LOCK_KEY = 72_707_734_231;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  /** Applied migrations whose file changed since (Prisma reports these as edited). */
  edited: string[];
}

export function defaultMigrationsDir(): string {
  return (
    process.env.TRELLIS_MIGRATIONS_DIR ??
    path.resolve(/* turbopackIgnore: true */ process.cwd(), 'prisma/migrations')
  );
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

export function readMigrationFiles(dir = defaultMigrationsDir()): MigrationFile[] {
  if (!fs.existsSync(dir)) throw new Error(`migrations folder not found: ${dir}`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksum(sql) };
    });
}

// Prisma's own DDL for the table (prisma-engines, sql-schema-connector, postgres flavour).
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

async function lock(tx: SqlQueryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [String(MIGRATION_LOCK_KEY)]);
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
}

async function appliedMigrations(tx: SqlQueryable): Promise<AppliedRow[]> {
  return tx.query<AppliedRow>(
    `SELECT migration_name, checksum FROM "_prisma_migrations"
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY started_at`,
  );
}

export async function migrate(
  db: SqlExecutor,
  opts: { dir?: string; files?: MigrationFile[] } = {},
): Promise<MigrateResult> {
  const files = opts.files ?? readMigrationFiles(opts.dir);
  const result: MigrateResult = { applied: [], edited: [] };

  const pending = await db.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(CREATE_MIGRATIONS_TABLE);
    const applied = new Map((await appliedMigrations(tx)).map((r) => [r.migration_name, r.checksum]));
    for (const f of files) {
      const sum = applied.get(f.name);
      if (sum !== undefined && sum !== f.checksum) result.edited.push(f.name);
    }
    return files.filter((f) => !applied.has(f.name));
  });

  for (const file of pending) {
    const id = randomUUID();
    try {
      const done = await db.transaction(async (tx) => {
        await lock(tx);
        // Another process may have applied it while this one waited for the lock.
        const rows = await tx.query(
          `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1 AND finished_at IS NOT NULL AND rolled_back_at IS NULL`,
          [file.name],
        );
        if (rows.length) return false;
        // A failed attempt left a row behind (ours roll back, so retrying is safe): mark it rolled back
        // as `prisma migrate resolve --rolled-back` would.
        await tx.query(
          `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`,
          [file.name],
        );
        await tx.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
          [id, file.checksum, file.name],
        );
        await tx.exec(file.sql);
        await tx.query(
          `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
          [id],
        );
        return true;
      });
      if (done) result.applied.push(file.name);
    } catch (err) {
      // Leave the same trace Prisma leaves for a failed migration: a row with logs and no finished_at.
      const message = err instanceof Error ? err.message : String(err);
      await db
        .query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count) VALUES ($1, $2, $3, $4, now(), 0)`,
          [id, file.checksum, file.name, message],
        )
        .catch(() => {});
      throw new Error(`migration ${file.name} failed: ${message}`, { cause: err });
    }
  }
  return result;
}
