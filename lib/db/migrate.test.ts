import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate, readMigrationFiles } from './migrate';
import { pgliteExecutor, pgPoolExecutor, type SqlExecutor } from './sql-executor';
import { createTempPostgres, postgresUrl, tempDataDir } from './testing/databases';

// Small throwaway migration folders; each PGlite test works in its own schema (search_path) so one
// PGlite instance serves the whole file (a fresh one costs seconds).

const folders: (() => void)[] = [];
afterAll(() => folders.forEach((remove) => remove()));

function migrationsFolder(files: Record<string, string>): string {
  const { dir, remove } = tempDataDir('trellis-migrations-');
  folders.push(remove);
  for (const [name, sql] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

const twoMigrations = () =>
  migrationsFolder({
    '20260101000000_a': 'CREATE TABLE "A" ("id" TEXT NOT NULL PRIMARY KEY);\n',
    '20260102000000_b':
      'ALTER TABLE "A" ADD COLUMN "n" INTEGER;\nCREATE TABLE "B" ("id" TEXT PRIMARY KEY);\n',
  });

describe('migrate on PGlite', () => {
  let client: PGlite;
  let db: SqlExecutor;
  let n = 0;
  beforeAll(async () => {
    client = await PGlite.create();
    db = pgliteExecutor(client);
  });
  afterAll(async () => {
    await client?.close();
  });
  beforeEach(async () => {
    n++;
    await db.exec(`CREATE SCHEMA m${n}; SET search_path TO m${n};`);
  });

  it("records each migration in _prisma_migrations with Prisma's columns and checksum", async () => {
    const dir = twoMigrations();
    const result = await migrate(db, { dir });
    expect(result.applied).toEqual(['20260101000000_a', '20260102000000_b']);
    const cols = await db.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      [`m${n}`],
    );
    expect(cols.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ['id', 'character varying', 'NO'],
      ['checksum', 'character varying', 'NO'],
      ['finished_at', 'timestamp with time zone', 'YES'],
      ['migration_name', 'character varying', 'NO'],
      ['logs', 'text', 'YES'],
      ['rolled_back_at', 'timestamp with time zone', 'YES'],
      ['started_at', 'timestamp with time zone', 'NO'],
      ['applied_steps_count', 'integer', 'NO'],
    ]);
    const rows = await db.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
    }>(
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
    );
    const sqlA = fs.readFileSync(path.join(dir, '20260101000000_a/migration.sql'));
    expect(rows[0]).toMatchObject({
      migration_name: '20260101000000_a',
      checksum: createHash('sha256').update(sqlA).digest('hex'),
      applied_steps_count: 1,
    });
    expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
    expect(await db.query(`SELECT n FROM "A"`)).toEqual([]);
  });

  it('applies only what is pending', async () => {
    const dir = twoMigrations();
    await migrate(db, { dir });
    expect((await migrate(db, { dir })).applied).toEqual([]);
    fs.mkdirSync(path.join(dir, '20260103000000_c'));
    fs.writeFileSync(path.join(dir, '20260103000000_c/migration.sql'), 'CREATE TABLE "C" ("id" TEXT);');
    expect((await migrate(db, { dir })).applied).toEqual(['20260103000000_c']);
  });

  it('rolls a failing migration back, records its logs, and retries it once fixed', async () => {
    const dir = migrationsFolder({
      '20260101000000_bad': 'CREATE TABLE "X" ("id" TEXT);\nSELECT * FROM "no_such_table";\n',
    });
    await expect(migrate(db, { dir })).rejects.toThrow(/20260101000000_bad failed/);
    expect(
      await db.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'X'`, [
        `m${n}`,
      ]),
    ).toEqual([]);
    const [failed] = await db.query<{ logs: string; finished_at: Date | null }>(
      `SELECT logs, finished_at FROM "_prisma_migrations"`,
    );
    expect(failed.finished_at).toBeNull();
    expect(failed.logs).toContain('no_such_table');

    fs.writeFileSync(path.join(dir, '20260101000000_bad/migration.sql'), 'CREATE TABLE "X" ("id" TEXT);\n');
    expect((await migrate(db, { dir })).applied).toEqual(['20260101000000_bad']);
    const rows = await db.query<{ rolled_back_at: Date | null; finished_at: Date | null }>(
      `SELECT rolled_back_at, finished_at FROM "_prisma_migrations" ORDER BY started_at`,
    );
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.rolled_back_at).length).toBe(1);
    expect(rows.filter((r) => r.finished_at).length).toBe(1);
  });

  it('reports an applied migration whose file was edited', async () => {
    const dir = twoMigrations();
    await migrate(db, { dir });
    fs.appendFileSync(path.join(dir, '20260101000000_a/migration.sql'), '-- edited\n');
    expect(await migrate(db, { dir })).toEqual({ applied: [], edited: ['20260101000000_a'] });
  });

  it('applies each migration once when called concurrently', async () => {
    const dir = twoMigrations();
    const results = await Promise.all([migrate(db, { dir }), migrate(db, { dir }), migrate(db, { dir })]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(['20260101000000_a', '20260102000000_b']);
    expect(await db.query(`SELECT 1 FROM "_prisma_migrations"`)).toHaveLength(2);
  });

  it('reads migration folders in name order and ignores stray files', () => {
    const dir = migrationsFolder({ '2_b': 'SELECT 2;', '1_a': 'SELECT 1;' });
    fs.writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    fs.mkdirSync(path.join(dir, '3_empty'));
    expect(readMigrationFiles(dir).map((f) => f.name)).toEqual(['1_a', '2_b']);
  });
});

describe.skipIf(!postgresUrl)('migrate on Postgres', () => {
  it('two processes starting at once apply each migration exactly once', async () => {
    const temp = await createTempPostgres('migrate');
    const pools = [new pg.Pool({ connectionString: temp.url }), new pg.Pool({ connectionString: temp.url })];
    try {
      const dir = twoMigrations();
      const results = await Promise.all(pools.map((p) => migrate(pgPoolExecutor(p), { dir })));
      expect(results.flatMap((r) => r.applied).sort()).toEqual(['20260101000000_a', '20260102000000_b']);
      const rows = await pools[0].query(
        `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`,
      );
      expect(rows.rowCount).toBe(2);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await temp.drop();
    }
  });
});
