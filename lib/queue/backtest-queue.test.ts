import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { PrismaBacktestStore } from '@/lib/db/backtest-store';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { createEngine } from '@/lib/engine/engine';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { FINAL_BACKTEST_STATUSES } from '@/lib/promotion/spec';
import { INTERRUPTED } from '@/lib/promotion/job';
import { triageDefinition, triageTickets } from '@/lib/promotion/testing/triage';
import { replayBacktest } from '@/lib/server/backtest-host';
import { createBacktest, backtestWithReport } from '@/lib/server/backtests';
import { buildEngine, createRuntime, hostEngineOptions, type Runtime } from '@/lib/server/runtime';
import { BACKTEST_QUEUE } from './limits';
import { pgAvailable, tempQueueDb } from './testing/queue-db';
import { startQueueWorker, type QueueWorker } from './worker';

// Server mode: the web process writes the backtest and its job; a `trellis worker` replays it;
// a cancel written by the web process reaches the worker that holds it.

describe.skipIf(!pgAvailable)('backtests on the queue', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let rt: Runtime;
  let worker: QueueWorker | undefined;
  let mock: MockLlmServer;
  let store: PrismaBacktestStore;
  let wid = '';
  const saved = { ...process.env };

  beforeAll(async () => {
    mock = await startMockLlmServer();
    process.env.OPENAI_BASE_URL = mock.baseURL;
    process.env.OPENAI_API_KEY = 'mock';
    process.env.OPENAI_MODEL = 'scenario:echo';
    tmp = await tempQueueDb('backtest');
    db = await openDb({ databaseUrl: tmp.url });
    rt = await createRuntime({ db, databaseUrl: tmp.url, seed: false });
    store = new PrismaBacktestStore(db);
    const definition = triageDefinition();
    wid = (await createWorkflow(db.prisma, { name: 'Triage queue', definition })).id;
    // History written directly (no run jobs): the worker only sees backtest jobs.
    const traces = new SqlTraceStore(db);
    const engine = createEngine({ store: traces, ...hostEngineOptions(db) });
    for (const t of triageTickets())
      await engine.runToCompletion({ definition, workflowId: wid, version: 1, input: { text: t.text } });
    await traces.flush();
  });
  afterAll(async () => {
    await worker?.stop(1_000);
    await rt?.dispatcher.close?.();
    await db?.close();
    await tmp?.drop();
    await mock?.close();
    process.env = saved;
  });

  async function until(id: string, ok: (s: string) => boolean) {
    for (;;) {
      const b = await store.get(id);
      if (b && ok(b.status)) return b;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('waits queued with its job until a worker replays it', async () => {
    const b = await createBacktest(db, store, wid, { nodeId: 'label', runs: { limit: 40 } });
    await rt.backtests.start(b.id);
    const jobs = await db.sql.query(`SELECT id FROM pgboss.job WHERE name = $1 AND id = $2`, [
      BACKTEST_QUEUE,
      b.id,
    ]);
    expect(jobs).toHaveLength(1);
    expect((await store.get(b.id))?.status).toBe('queued');

    worker = await startQueueWorker({
      databaseUrl: tmp.url,
      concurrency: 1,
      makeEngine: buildEngine,
      runBacktest: replayBacktest,
      schedules: false,
    });
    const done = await until(b.id, (s) => FINAL_BACKTEST_STATUSES.includes(s as never));
    expect(done.status).toBe('succeeded');
    const { report } = await backtestWithReport(store, done);
    expect(report).toMatchObject({ cases: 40, agreed: 32 });
    expect(report.failureTypes[0]).toMatchObject({ key: 'diff:/label', count: 8 });
  });

  it('a cancel from the web process stops the replay on the worker', async () => {
    const b = await createBacktest(db, store, wid, {
      nodeId: 'label',
      agent: { model: 'scenario:slow' },
      runs: { limit: 40 },
      concurrency: 1,
    });
    await rt.backtests.start(b.id);
    await until(b.id, (s) => s === 'running');
    await store.requestCancel(b.id);
    const done = await until(b.id, (s) => FINAL_BACKTEST_STATUSES.includes(s as never));
    expect(done.status).toBe('cancelled');
    expect(done.done).toBeLessThan(40);
  });

  it('a retried job (its worker died) ends the backtest failed instead of replaying it again', async () => {
    const b = await createBacktest(db, store, wid, { nodeId: 'label', runs: { limit: 5 } });
    // As the dead worker left it: claimed, running, nobody driving it.
    expect(await store.claim(b.id, 5)).toBe(true);
    await replayBacktest(db, b.id, new AbortController().signal);
    expect(await store.get(b.id)).toMatchObject({
      status: 'failed',
      error: { message: INTERRUPTED },
      done: 0,
    });
  });

  it('a worker stopping under a running backtest ends it failed, not cancelled', async () => {
    const b = await createBacktest(db, store, wid, {
      nodeId: 'label',
      agent: { model: 'scenario:slow' },
      runs: { limit: 40 },
      concurrency: 1,
    });
    await rt.backtests.start(b.id);
    await until(b.id, (s) => s === 'running');
    await worker!.stop(1_000);
    worker = undefined;
    const done = await until(b.id, (s) => FINAL_BACKTEST_STATUSES.includes(s as never));
    expect(done).toMatchObject({ status: 'failed', error: { message: INTERRUPTED }, cancelRequested: false });
  });
});
