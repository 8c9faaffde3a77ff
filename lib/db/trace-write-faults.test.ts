import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createEngine } from '@/lib/engine/engine';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { openDb, type Db } from './client';
import { MAX_TRACE_WRITE_ATTEMPTS, SqlTraceStore } from './sql-trace-store';
import { createTempPostgres, postgresUrl, tempDataDir } from './testing/databases';
import { createSandboxServices } from '@/lib/sandbox';

// Issue 12 item 2: a failed trace write fails exactly the runs it belonged to. Faults are injected
// in the database itself (a trigger on "Step"), 20 runs at once share the group-commit batches, and
// afterwards every run either has its complete trace or ended failed with trace_write_failed.

const RUNS = 20;
const CHAIN = ['a', 'b', 'c', 'd'];

/** trigger → a → b → c → d (→ boom, for the runs the trigger is to reject). */
function chain(poisoned: boolean): WorkflowDefinition {
  const ids = poisoned ? [...CHAIN, 'boom'] : CHAIN;
  return {
    schemaVersion: 1,
    name: 'chain',
    nodes: [
      { id: 'in', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      ...ids.map((id, i) => ({
        id,
        type: 'transform',
        position: { x: 100 * (i + 1), y: 0 },
        config: { value: { n: `{{ input.n + ${i} }}` } },
      })),
    ],
    edges: ids.map((id, i) => ({ id: `e${i}`, source: i === 0 ? 'in' : ids[i - 1], target: id })),
  };
}

interface Tally {
  complete: number;
  failedTraceWrite: number;
  /** The property under test: must be 0. */
  succeededWithMissingSteps: number;
  other: string[];
  failedRunIds: Set<string>;
}

async function runAll(db: Db, poisoned: (i: number) => boolean) {
  const store = new SqlTraceStore(db);
  const engine = createEngine({ store, services: createSandboxServices() });
  const defs = Array.from({ length: RUNS }, (_, i) => chain(poisoned(i)));
  const outs = await Promise.all(
    defs.map((definition, i) => engine.runToCompletion({ definition, input: { n: i } })),
  );
  await store.close();
  const tally: Tally = {
    complete: 0,
    failedTraceWrite: 0,
    succeededWithMissingSteps: 0,
    other: [],
    failedRunIds: new Set(),
  };
  for (const [i, out] of outs.entries()) {
    const [run] = await db.sql.query<{ status: string; error: { code: string } | null; stepCount: number }>(
      `SELECT status, error, "stepCount" FROM "Run" WHERE id = $1`,
      [out.runId],
    );
    const steps = await db.sql.query<{ nodeId: string; status: string }>(
      `SELECT "nodeId", status FROM "Step" WHERE "runId" = $1`,
      [out.runId],
    );
    const expected = defs[i].nodes.length;
    if (run.status === 'succeeded') {
      const whole =
        steps.length === expected &&
        steps.every((s) => s.status === 'succeeded') &&
        run.stepCount === expected;
      if (whole) tally.complete++;
      else tally.succeededWithMissingSteps++;
    } else if (run.status === 'failed' && run.error?.code === 'trace_write_failed') {
      tally.failedTraceWrite++;
      tally.failedRunIds.add(String(i));
    } else tally.other.push(`${i}: ${run.status} ${JSON.stringify(run.error)}`);
  }
  return { tally, stats: store.writeStats };
}

async function installFault(db: Db, body: string) {
  await db.sql.exec(`
    DROP TRIGGER IF EXISTS step_fault ON "Step";
    DROP SEQUENCE IF EXISTS step_fault_seq;
    CREATE SEQUENCE step_fault_seq;
    CREATE OR REPLACE FUNCTION step_fault() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      ${body}
      RETURN NEW;
    END $$;
    CREATE TRIGGER step_fault BEFORE INSERT ON "Step" FOR EACH ROW EXECUTE FUNCTION step_fault();
  `);
}

const figures: string[] = [];

function faultSuite(name: string, open: () => Promise<{ db: Db; url?: string; cleanup(): Promise<void> }>) {
  describe(`trace write faults on ${name}`, () => {
    let db: Db;
    let url: string | undefined;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ db, url, cleanup } = await open());
    }, 120_000);
    afterAll(async () => {
      await db?.close();
      await cleanup?.();
      if (figures.length) console.log(figures.join('\n'));
    });

    it("a trigger rejecting some runs' Step rows fails exactly those runs; the others are complete", async () => {
      await installFault(
        db,
        `IF NEW."nodeId" = 'boom' THEN RAISE EXCEPTION 'injected: no boom rows'; END IF;`,
      );
      const poisoned = (i: number) => i % 4 === 0;
      const { tally, stats } = await runAll(db, poisoned);
      figures.push(
        `${name} permanent: ${JSON.stringify(stats)} ${JSON.stringify({ ...tally, failedRunIds: undefined })}`,
      );
      expect(tally.succeededWithMissingSteps).toBe(0);
      expect(tally.other).toEqual([]);
      expect([...tally.failedRunIds].sort()).toEqual(
        Array.from({ length: RUNS }, (_, i) => i)
          .filter(poisoned)
          .map(String)
          .sort(),
      );
      expect(tally.complete).toBe(RUNS - tally.failedTraceWrite);
    }, 120_000);

    it('a serialization failure on the 7th Step insert is retried: every run complete', async () => {
      await installFault(
        db,
        `IF nextval('step_fault_seq') = 7 THEN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END IF;`,
      );
      const { tally, stats } = await runAll(db, () => false);
      figures.push(`${name} serialization: ${JSON.stringify(stats)}`);
      expect(stats.retries).toBeGreaterThanOrEqual(1);
      expect(stats.retries).toBeLessThan(MAX_TRACE_WRITE_ATTEMPTS);
      expect(tally).toMatchObject({ complete: RUNS, succeededWithMissingSteps: 0, other: [] });
    }, 120_000);

    it('a fault on every try of a batch fails its runs (bounded retries) and no run succeeds without its steps', async () => {
      // Transient on every try: the retries run out and the runs in those batches end failed.
      await installFault(
        db,
        `IF NEW."nodeId" = 'boom' THEN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END IF;`,
      );
      const { tally, stats } = await runAll(db, (i) => i % 5 === 0);
      figures.push(`${name} always-transient: ${JSON.stringify(stats)}`);
      expect(tally.succeededWithMissingSteps).toBe(0);
      expect(tally.other).toEqual([]);
      expect(tally.failedTraceWrite).toBe(4);
      expect(tally.complete).toBe(RUNS - 4);
      expect(stats.retries).toBeGreaterThanOrEqual(MAX_TRACE_WRITE_ATTEMPTS - 1);
    }, 120_000);

    it.skipIf(name !== 'Postgres')(
      'statement_timeout on one batch: retried, every run complete',
      async () => {
        // The database's timeout applies to connections opened after the change: reopen.
        await db.close();
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        const dbName = new URL(url!).pathname.slice(1);
        await admin.query(`ALTER DATABASE "${dbName}" SET statement_timeout = '400ms'`);
        await admin.end();
        db = await openDb({ databaseUrl: url });
        await installFault(db, `IF nextval('step_fault_seq') = 9 THEN PERFORM pg_sleep(2); END IF;`);
        const { tally, stats } = await runAll(db, () => false);
        figures.push(`${name} statement_timeout: ${JSON.stringify(stats)}`);
        expect(stats.retries).toBeGreaterThanOrEqual(1);
        expect(tally).toMatchObject({ complete: RUNS, succeededWithMissingSteps: 0, other: [] });
      },
      120_000,
    );

    it.skipIf(name !== 'Postgres')(
      'pg_terminate_backend mid-batch: the batch is written again on a new connection, every run complete',
      async () => {
        await installFault(
          db,
          `IF nextval('step_fault_seq') = 11 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;`,
        );
        const { tally, stats } = await runAll(db, () => false);
        figures.push(`${name} terminate_backend: ${JSON.stringify(stats)}`);
        expect(stats.retries).toBeGreaterThanOrEqual(1);
        expect(tally).toMatchObject({ complete: RUNS, succeededWithMissingSteps: 0, other: [] });
      },
      120_000,
    );
  });
}

faultSuite('PGlite', async () => {
  const tmp = tempDataDir();
  return { db: await openDb({ dataDir: tmp.dir }), cleanup: async () => tmp.remove() };
});

if (postgresUrl) {
  faultSuite('Postgres', async () => {
    const pgdb = await createTempPostgres('tracefault');
    return { db: await openDb({ databaseUrl: pgdb.url }), url: pgdb.url, cleanup: () => pgdb.drop() };
  });
}
