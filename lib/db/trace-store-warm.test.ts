import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from './client';
import { SqlTraceStore } from './sql-trace-store';
import { createTempPostgres, postgresUrl, tempDataDir } from './testing/databases';
import { countStatements } from './testing/statement-counter';
import { newRun, stepStart } from './testing/trace-records';

// Issue 21 (no cold start): SqlTraceStore.warm() sends a short run's statements before the first
// real run and must leave no trace of it — no row, no state of the store — on either database.

const counts = async (db: Db) =>
  (
    await db.sql.query<{ runs: number; steps: number }>(
      `SELECT (SELECT count(*)::int FROM "Run") AS runs, (SELECT count(*)::int FROM "Step") AS steps`,
    )
  )[0];

const databases: [string, () => Promise<{ db: Db; cleanup(): Promise<void> }>][] = [
  [
    'PGlite',
    async () => {
      const tmp = tempDataDir('trellis-warm-store-');
      return { db: await openDb({ dataDir: tmp.dir }), cleanup: async () => tmp.remove() };
    },
  ],
];
if (postgresUrl)
  databases.push([
    'Postgres',
    async () => {
      const pg = await createTempPostgres('warmstore');
      return { db: await openDb({ databaseUrl: pg.url }), cleanup: () => pg.drop() };
    },
  ]);

describe.each(databases)('trace store warm-up (%s)', (name, open) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await open());
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await cleanup?.();
  });

  it('sends every statement shape of a run and writes nothing', async () => {
    const store = new SqlTraceStore(db, { flushIntervalMs: 60_000 });
    const log = name === 'PGlite' ? countStatements() : undefined;
    log?.start();
    await store.warm();
    log?.stop();
    log?.uninstall();
    expect(await counts(db)).toEqual({ runs: 0, steps: 0 });
    if (log) {
      // One transaction, rolled back: the run row, a batch that inserts a step and counts it (and
      // writes the deferred start: one statement), one that inserts a finished step, finishes the
      // first and ends the run.
      expect(log.transactions).toBe(1);
      expect(log.statements.map((s) => s.slice(0, 22))).toEqual([
        'tx INSERT INTO "Run" (',
        'tx COPY "Step" ("id", ',
        'tx COPY "Step" ("id", ',
        'tx UPDATE "Step" s SET',
        'tx UPDATE "Run" SET st',
      ]);
    }
    // The store is as new: a real run after it is written as usual.
    const run = await store.createRun(newRun({ input: { n: 1 } }));
    const step = await store.startStep(
      stepStart(run.id, { nodeId: 'a', nodeType: 'transform', input: {}, startedAt: new Date() }),
    );
    await store.finishStep(step, { status: 'succeeded', output: 2, finishedAt: new Date() });
    expect(await store.transitionRun(run.id, ['queued'], 'running')).toBe(true);
    expect(await store.transitionRun(run.id, ['running'], 'succeeded', { output: 2 })).toBe(true);
    expect(await counts(db)).toEqual({ runs: 1, steps: 1 });
    expect((await store.getRun(run.id))?.status).toBe('succeeded');
    await store.close();
  });

  it('fails loudly when the database refuses it (nothing is swallowed but its own rollback)', async () => {
    const store = new SqlTraceStore(db);
    await db.sql.exec(`ALTER TABLE "Step" RENAME TO "StepAway"`);
    try {
      await expect(store.warm()).rejects.toThrow(/Step/);
    } finally {
      await db.sql.exec(`ALTER TABLE "StepAway" RENAME TO "Step"`);
    }
    await store.warm();
  });
});
