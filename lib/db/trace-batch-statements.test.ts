import { afterAll, describe, expect, it } from 'vitest';
import { MAX_RUNS_PER_INSERT, SqlTraceStore } from './sql-trace-store';
import { countStatements } from './testing/statement-counter';
import { useEmbeddedDb } from './testing/embedded-db';
import { newRun, stepStart } from './testing/trace-records';

// Issue 21: a long run's trace is written in batches every FLUSH_INTERVAL_MS, most of them only new
// steps and their run's counts. On PGlite such a batch is one script in one round trip (COPY of the
// rows, then the counts; no BEGIN/COMMIT around it), counted here; a batch that also ends the run
// keeps its transaction.

const ctx = useEmbeddedDb('trellis-batch-statements-');
const log = countStatements();
afterAll(() => log.uninstall());

const stepCount = async (runId: string) =>
  (await ctx.db.sql.query<{ n: number }>(`SELECT "stepCount" AS n FROM "Run" WHERE id = $1`, [runId]))[0].n;

describe('statements per trace batch', () => {
  it('writes a batch of new steps and the run counts as one statement, without a transaction', async () => {
    const store = new SqlTraceStore(ctx.db, { flushIntervalMs: 60_000 });
    const run = await store.createRun(newRun({ input: {} }));
    // Embedded mode: decided in memory, written with the run's first batch.
    expect(await store.transitionRun(run.id, ['queued'], 'running')).toBe(true);
    log.start();
    for (let i = 0; i < 3; i++) {
      const id = await store.startStep(
        stepStart(run.id, { nodeId: `t${i}`, nodeType: 'transform', input: { i }, startedAt: new Date() }),
      );
      await store.finishStep(id, {
        status: 'succeeded',
        output: { i },
        handle: 'out',
        finishedAt: new Date(),
      });
    }
    // Left running: the next batch of a long run.
    await store.startStep(
      stepStart(run.id, { nodeId: 't3', nodeType: 'transform', input: {}, startedAt: new Date() }),
    );
    await store.flush();
    log.stop();
    expect(log.statements.map((s) => s.slice(0, 14))).toEqual(['COPY "Step" ("']);
    expect(log.statements[0]).toMatch(/FROM '\/dev\/blob'; UPDATE "Run" r SET "stepCount"/);
    expect(log.transactions).toBe(0);
    // Both halves landed: the rows, the counts and the deferred start.
    const [r] = await ctx.db.sql.query<{ status: string; stepCount: number; started: boolean }>(
      `SELECT status, "stepCount", "startedAt" IS NOT NULL AS started FROM "Run" WHERE id = $1`,
      [run.id],
    );
    expect(r).toEqual({ status: 'running', stepCount: 4, started: true });
    const steps = await store.listSteps(run.id);
    expect(steps.map((s) => [s.nodeId, s.status])).toEqual([
      ['t0', 'succeeded'],
      ['t1', 'succeeded'],
      ['t2', 'succeeded'],
      ['t3', 'running'],
    ]);

    // The last batch (a step finished, the run's end) is one transaction, as before.
    const last = steps[3].id;
    log.start();
    await store.finishStep(last, { status: 'succeeded', output: 1, handle: 'out', finishedAt: new Date() });
    expect(await store.transitionRun(run.id, ['running'], 'succeeded', { output: 1 })).toBe(true);
    log.stop();
    expect(log.transactions).toBe(1);
    expect(await stepCount(run.id)).toBe(4);
  });

  it('fails only the run whose one-statement batch cannot be written', async () => {
    const store = new SqlTraceStore(ctx.db, { flushIntervalMs: 60_000 });
    const good = await store.createRun(newRun({ input: {} }));
    const gone = await store.createRun(newRun({ input: {} }));
    await store.startStep(
      stepStart(good.id, { nodeId: 'a', nodeType: 'transform', input: {}, startedAt: new Date() }),
    );
    await store.startStep(
      stepStart(gone.id, { nodeId: 'a', nodeType: 'transform', input: {}, startedAt: new Date() }),
    );
    // The run row disappears before its steps are written: the foreign key refuses them.
    await ctx.db.sql.query(`DELETE FROM "Run" WHERE id = $1`, [gone.id]);
    await store.flush();
    expect(store.traceLost(gone.id)).toBe(true);
    expect(store.traceLost(good.id)).toBe(false);
    expect((await store.listSteps(good.id)).length).toBe(1);
    expect(await stepCount(good.id)).toBe(1);
  });

  it('writes the run rows created while one is written in one statement, each as created alone', async () => {
    const store = new SqlTraceStore(ctx.db, { flushIntervalMs: 60_000 });
    const n = MAX_RUNS_PER_INSERT + 20;
    log.start();
    const runs = await Promise.all(
      Array.from({ length: n }, (_, i) => store.createRun(newRun({ input: { i }, trigger: `t${i}` }))),
    );
    log.stop();
    // The first alone (nothing was in flight), then the others, at most MAX_RUNS_PER_INSERT a statement.
    expect(log.statements.map((s) => s.slice(0, 18))).toEqual([
      'INSERT INTO "Run" ',
      'INSERT INTO "Run" ',
      'INSERT INTO "Run" ',
    ]);
    expect(runs.map((r) => [r.trigger, r.status, r.input])).toEqual(
      Array.from({ length: n }, (_, i) => [`t${i}`, 'queued', { i }]),
    );
    const rows = await ctx.db.sql.query<{ trigger: string; definition: unknown; input: unknown }>(
      `SELECT trigger, definition, input FROM "Run" WHERE id = ANY($1::text[]) ORDER BY "createdAt"`,
      [runs.map((r) => r.id)],
    );
    // Read back in the order they were created (recovery starts queued runs in this order).
    expect(rows.map((r) => r.trigger)).toEqual(Array.from({ length: n }, (_, i) => `t${i}`));
    expect(rows.every((r) => r.definition !== null)).toBe(true);
    expect(new Set(rows.map((r) => JSON.stringify(r.input))).size).toBe(n);
  });

  it('fails only the run whose row cannot be written when several are written together', async () => {
    const store = new SqlTraceStore(ctx.db, { flushIntervalMs: 60_000 });
    const first = store.createRun(newRun());
    // Written together after the first: one of them names a version that does not exist.
    const together = [
      store.createRun(newRun({ trigger: 'a' })),
      store.createRun(newRun({ trigger: 'b', workflowVersionId: 'no-such-version' })),
      store.createRun(newRun({ trigger: 'c' })),
    ].map((p) => p.then((r) => r.trigger).catch(() => 'refused'));
    await first;
    expect(await Promise.all(together)).toEqual(['a', 'refused', 'c']);
  });
});
