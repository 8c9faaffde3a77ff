import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from './client';
import { parsePrismaSchema } from './prisma-schema';
import { schemaProblems } from './schema-introspect';
import { createTempPostgres, postgresUrl, tempDataDir } from './testing/databases';

// The migrations must build exactly the database schema.prisma describes: every model, field,
// column type, nullability, primary key, index and foreign key, and nothing else.

const root = path.resolve(import.meta.dirname, '../..');
const schemaPath = path.join(root, 'prisma/schema.prisma');
const migrationsDir = path.join(root, 'prisma/migrations');
const schema = fs.readFileSync(schemaPath, 'utf8');

function driftSuite(name: string, open: () => Promise<{ db: Db; cleanup(): Promise<void> }>) {
  describe(`schema drift on ${name}`, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ db, cleanup } = await open());
    });
    afterAll(async () => {
      await db?.close();
      await cleanup?.();
    });

    it('the migrated empty database matches schema.prisma', async () => {
      expect(db.migrations.applied.length).toBeGreaterThan(0);
      expect(await schemaProblems(db.sql, parsePrismaSchema(schema))).toEqual([]);
    });

    it('fails when a field is added to schema.prisma without a migration', async () => {
      const changed = schema.replace(/model Run \{\n/, 'model Run {\n  priority Int @default(0)\n');
      expect(await schemaProblems(db.sql, parsePrismaSchema(changed))).toEqual([
        'column Run.priority is missing',
      ]);
    });

    it('fails on changed types, optionality, indexes, relations and removed fields', async () => {
      const changed = schema
        .replace('  trigger           String\n', '  trigger           String?\n')
        .replace(
          '  tokens           Int         @default(0)\n',
          '  tokens           Float       @default(0)\n',
        )
        .replace(
          '  @@index([runId, startedAt])',
          '  @@index([runId, startedAt(sort: Desc)])\n  @@index([nodeId])',
        )
        .replace(
          'references: [id], onDelete: Cascade)\n  agentTurns',
          'references: [id], onDelete: Restrict)\n  agentTurns',
        )
        .replace('  handle           String?\n', '');
      const problems = await schemaProblems(db.sql, parsePrismaSchema(changed));
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringContaining('column Run.trigger nullable=NO'),
          expect.stringContaining('column Step.tokens is integer'),
          expect.stringContaining('index Step_runId_startedAt_idx is'),
          'index Step_nodeId_idx is missing',
          expect.stringContaining('foreign key Step_runId_fkey is'),
          'column Step.handle exists in the database but not in schema.prisma',
        ]),
      );
      expect(problems).toHaveLength(6);
    });
  });
}

driftSuite('PGlite', async () => {
  const tmp = tempDataDir();
  return { db: await openDb({ dataDir: tmp.dir, migrationsDir }), cleanup: async () => tmp.remove() };
});

if (postgresUrl) {
  driftSuite('Postgres', async () => {
    const pg = await createTempPostgres('drift');
    return { db: await openDb({ databaseUrl: pg.url, migrationsDir }), cleanup: pg.drop };
  });
} else {
  describe.skip('schema drift on Postgres (DATABASE_URL not set)', () => {
    it('skipped', () => {});
  });
}

describe("Prisma's own diff", () => {
  it('the schema engine finds nothing between the migrations and schema.prisma', async () => {
    const { diffSchemaAgainstMigrations } = await import('./tools/create-migration.mjs');
    const sql = await diffSchemaAgainstMigrations({ schemaPath, migrationsDir });
    expect(sql).toMatch(/^-- This is an empty migration\.?$|^$/);
    // The schema engine (WebAssembly) diffs by replaying every migration: 29–37 s seen on a loaded
    // 2-core machine, past the suite's 30 s default.
  }, 120_000);

  it('migration_lock.toml is the one Prisma writes for postgresql', () => {
    expect(fs.readFileSync(path.join(migrationsDir, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    );
  });
});
