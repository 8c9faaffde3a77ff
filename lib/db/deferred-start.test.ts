import { describe, expect, it } from 'vitest';
import { changeCache, type ChangeFeed } from './change-feed';
import type { Db } from './client';
import { MAX_DEFERRABLE_RUNS, SqlTraceStore } from './sql-trace-store';
import { useEmbeddedDb } from './testing/embedded-db';
import { newRun, stepStart } from './testing/trace-records';

// Issue 21: on the embedded database a run's queued → running is decided in memory and written
// with its first batch, and its last status rides with its last steps. What must still hold: the
// row says `running` once anything of the run is written, a run cancelled before it starts never
// starts, and a status change refused by the database is reported as refused.

const status = async (db: Db, id: string) =>
  (
    await db.sql.query<{ status: string; startedAt: Date | null; stepCount: number }>(
      `SELECT status, "startedAt", "stepCount" FROM "Run" WHERE id = $1`,
      [id],
    )
  )[0];

// One database for both suites.
const ctx = useEmbeddedDb('trellis-deferred-');

describe('deferred run start (PGlite)', () => {
  const createRun = (store: SqlTraceStore) => store.createRun(newRun({ input: {} }));

  it('writes the start with the first batch of the run, and the end after its last steps', async () => {
    const store = new SqlTraceStore(ctx.db, { flushIntervalMs: 60_000 });
    expect(MAX_DEFERRABLE_RUNS).toBeGreaterThan(0);
    const run = await createRun(store);
    expect(await store.transitionRun(run.id, ['queued'], 'running')).toBe(true);
    // Not written yet: the row still says queued until the batch lands.
    expect((await status(ctx.db, run.id)).status).toBe('queued');
    const step = await store.startStep(
      stepStart(run.id, { nodeId: 'a', nodeType: 'transform', input: {}, startedAt: new Date() }),
    );
    await store.finishStep(step, { status: 'succeeded', output: 1, finishedAt: new Date() });
    await store.flush();
    const started = await status(ctx.db, run.id);
    expect(started).toMatchObject({ status: 'running', stepCount: 1 });
    expect(started.startedAt).not.toBeNull();
    expect(await store.transitionRun(run.id, ['running'], 'succeeded', { output: 1 })).toBe(true);
    expect(await status(ctx.db, run.id)).toMatchObject({ status: 'succeeded', stepCount: 1 });
    await store.close();
  });

  it('ends a run whose start was never written in one statement with its steps', async () => {
    const store = new SqlTraceStore(ctx.db, { flushIntervalMs: 60_000 });
    const run = await createRun(store);
    expect(await store.transitionRun(run.id, ['queued'], 'running')).toBe(true);
    expect(await store.transitionRun(run.id, ['running'], 'failed', { error: null })).toBe(true);
    const row = await status(ctx.db, run.id);
    expect(row.status).toBe('failed');
    expect(row.startedAt).not.toBeNull();
    await store.close();
  });

  it('a run cancelled while queued does not start, and a refused change says so', async () => {
    const store = new SqlTraceStore(ctx.db, { flushIntervalMs: 60_000 });
    const run = await createRun(store);
    expect(await store.transitionRun(run.id, ['queued', 'running', 'waiting'], 'cancelled')).toBe(true);
    expect(await store.transitionRun(run.id, ['queued'], 'running')).toBe(false);
    expect((await status(ctx.db, run.id)).status).toBe('cancelled');
    // Another writer (not this store) cancels a run this store started: its end is refused.
    const other = await createRun(store);
    expect(await store.transitionRun(other.id, ['queued'], 'running')).toBe(true);
    await store.flush();
    await ctx.db.sql.query(`UPDATE "Run" SET status = 'cancelled' WHERE id = $1`, [other.id]);
    expect(await store.transitionRun(other.id, ['running'], 'succeeded', { output: 1 })).toBe(false);
    expect((await status(ctx.db, other.id)).status).toBe('cancelled');
    await store.close();
  });

  it('is off on request (server mode): the start is written at once', async () => {
    const store = new SqlTraceStore(ctx.db, { deferRunStart: false });
    const run = await createRun(store);
    expect(await store.transitionRun(run.id, ['queued'], 'running')).toBe(true);
    expect((await status(ctx.db, run.id)).status).toBe('running');
    await store.close();
  });
});

describe('change feed (PGlite)', () => {
  it('reports a write to a workflow, a version and a secret before the write resolves', async () => {
    const seen: string[] = [];
    const off = ctx.db.changes!.subscribe((table, key) => seen.push(`${table}:${key}`));
    await ctx.db.sql.query(
      `INSERT INTO "Workflow" (id, name, "latestVersion", "updatedAt") VALUES ('w1', 'w', 1, now())`,
    );
    expect(seen).toEqual(['Workflow:w1']);
    await ctx.db.prisma.workflowVersion.create({ data: { workflowId: 'w1', version: 1, definition: {} } });
    await ctx.db.prisma.secret.create({ data: { name: 'S', encryptedValue: 'x' } });
    await ctx.db.sql.query(`DELETE FROM "Secret" WHERE name = 'S'`);
    expect(seen).toEqual(['Workflow:w1', 'WorkflowVersion:w1', 'Secret:S', 'Secret:S']);
    off();
  });

  it('does not keep a value loaded while a change landed', async () => {
    let generation = 0;
    let notify: (table: 'Workflow', key: string) => void = () => {};
    const feed: ChangeFeed = {
      generation: () => generation,
      subscribe: (fn) => ((notify = fn), () => {}),
    };
    const cache = changeCache<string>(feed, { max: 2, dropOn: (_t, key) => key });
    let reads = 0;
    // The change lands while the first load is under way: that load's value is old.
    const v1 = await cache.get('a', async () => {
      reads++;
      generation++;
      notify('Workflow', 'a');
      return 'old';
    });
    expect(v1).toBe('old');
    expect(await cache.get('a', async () => (reads++, 'new'))).toBe('new');
    expect(await cache.get('a', async () => (reads++, 'newer'))).toBe('new');
    expect(reads).toBe(2);
    generation++;
    notify('Workflow', 'a');
    expect(await cache.get('a', async () => (reads++, 'newest'))).toBe('newest');
    // At most `max` keys.
    await cache.get('b', async () => 'b');
    await cache.get('c', async () => 'c');
    expect(cache.size()).toBe(2);
  });
});
