import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { createRuntime, buildEngine, type Runtime } from '@/lib/server/runtime';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { startBoss } from './boss';
import { DurableTraceStore } from './durable-store';
import { LEASE_LOST, LeaseLost, assertLease, claimRun, workerDatabaseUrl } from './fencing';
import { JOB_HEARTBEAT_SECONDS, RUN_QUEUE } from './limits';
import { runJobHook } from './run-queue';
import { linearWorkflow, pgAvailable, tempQueueDb } from './testing/queue-db';
import { startQueueWorker, type QueueWorker } from './worker';

describe.skipIf(!pgAvailable)('queue on Postgres', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let rt: Runtime;
  let worker: QueueWorker | undefined;

  beforeAll(async () => {
    tmp = await tempQueueDb('queue');
    db = await openDb({ databaseUrl: tmp.url });
    rt = await createRuntime({ db, databaseUrl: tmp.url, seed: false, webRunSlots: 0 });
  });
  afterAll(async () => {
    await worker?.stop(1_000);
    await rt?.dispatcher.close?.();
    await db?.close();
    await tmp?.drop();
  });

  async function start(def: WorkflowDefinition, input: unknown = {}) {
    const wf = await createWorkflow(db.prisma, { name: def.name, definition: def });
    const runId = await rt.engine.startRun({ definition: def, workflowId: wf.id, input, trigger: 'manual' });
    await rt.dispatcher.enqueue(runId);
    return runId;
  }

  it('writes the run and its job in one transaction, and neither when it rolls back', async () => {
    // Without a worker, the run waits in the queue with its job.
    const runId = await start(linearWorkflow(2));
    const jobs = await db.sql.query<{ id: string }>(`SELECT id FROM pgboss.job WHERE name = $1 AND id = $2`, [
      RUN_QUEUE,
      runId,
    ]);
    expect(jobs).toHaveLength(1);
    expect((await rt.store.getRun(runId))?.status).toBe('queued');
    expect(await rt.dispatcher.stats?.()).toMatchObject({ mode: 'queue', queued: 1, workers: 0 });

    const boss = await startBoss({ databaseUrl: tmp.url, consumer: false });
    const hook = runJobHook(boss);
    let failedRunId = '';
    const store = new SqlTraceStore(db, {
      onRunCreated: async (tx, run) => {
        await hook(tx, run);
        failedRunId = run.id;
        throw new Error('crash between job and commit');
      },
    });
    await expect(
      store.createRun({
        workflowId: null,
        workflowVersionId: null,
        version: null,
        definition: linearWorkflow(1),
        input: {},
        trigger: 'manual',
      }),
    ).rejects.toThrow('crash');
    expect(failedRunId).not.toBe('');
    expect(await db.sql.query(`SELECT 1 FROM "Run" WHERE id = $1`, [failedRunId])).toHaveLength(0);
    expect(await db.sql.query(`SELECT 1 FROM pgboss.job WHERE id = $1`, [failedRunId])).toHaveLength(0);
    await boss.stop({ graceful: false });
  });

  it('a worker executes queued runs, including the one that waited for it', async () => {
    worker = await startQueueWorker({ databaseUrl: tmp.url, concurrency: 2, makeEngine: buildEngine });
    const runId = await start(linearWorkflow(3));
    const out = await rt.dispatcher.settled(runId);
    expect(out?.status).toBe('succeeded');
    const waited = (
      await db.sql.query<{ id: string }>(`SELECT id FROM "Run" WHERE status <> 'succeeded'`)
    ).map((r) => r.id);
    for (const id of waited) expect((await rt.dispatcher.settled(id))?.status).toBe('succeeded');
    const run = await db.sql.query<{ leaseOwner: string }>(`SELECT "leaseOwner" FROM "Run" WHERE id = $1`, [
      runId,
    ]);
    expect(run[0].leaseOwner).toBe(worker.workerId);
  });

  it('streams events of runs executed by a worker to the web process', async () => {
    const seen: string[] = [];
    const def = linearWorkflow(2);
    const wf = await createWorkflow(db.prisma, { name: def.name, definition: def });
    const runId = await rt.engine.startRun({
      definition: def,
      workflowId: wf.id,
      input: {},
      trigger: 'manual',
    });
    const unsubscribe = rt.events.subscribe(runId, (ev) => seen.push(ev.type));
    await rt.dispatcher.enqueue(runId);
    await rt.dispatcher.settled(runId);
    await new Promise((r) => setTimeout(r, 200));
    unsubscribe();
    expect(seen).toContain('step.started');
    expect(seen.at(-1)).toBe('run.finished');
  });

  it('parks a long delay without holding the worker and wakes it when due', async () => {
    const def: WorkflowDefinition = {
      schemaVersion: 1,
      name: 'park',
      nodes: [
        { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
        { id: 'wait', type: 'delay', position: { x: 0, y: 100 }, config: { ms: 5_500 } },
        { id: 'out', type: 'output', position: { x: 0, y: 200 }, config: { value: 'woke' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'wait' },
        { id: 'e2', source: 'wait', target: 'out' },
      ],
    } as WorkflowDefinition;
    const runId = await start(def);
    expect((await rt.dispatcher.settled(runId))?.status).toBe('waiting');
    await new Promise((r) => setTimeout(r, 300)); // the wake-up job is sent right after the run parks
    expect(worker!.inFlight()).not.toContain(runId);
    const deferred = await db.sql.query(
      `SELECT 1 FROM pgboss.job WHERE name = $1 AND data->>'runId' = $2 AND state = 'created' AND start_after > now()`,
      [RUN_QUEUE, runId],
    );
    expect(deferred).toHaveLength(1);
    const deadline = Date.now() + 15_000;
    let status = 'waiting';
    while (Date.now() < deadline && status !== 'succeeded') {
      await new Promise((r) => setTimeout(r, 200));
      status = (await rt.store.getRun(runId))!.status;
    }
    expect(status).toBe('succeeded');
    expect((await rt.store.getRun(runId))?.output).toBe('woke');
  });

  it('fences a worker that lost the lease: its step writes and run transitions raise trellis_lease_lost, its side effects do not start', async () => {
    const runId = await rt.engine.startRun({ definition: linearWorkflow(1), input: {}, trigger: 'rerun:x' });
    const a = await openDb({ databaseUrl: workerDatabaseUrl(tmp.url, 'worker-a'), migrate: false });
    const b = await openDb({ databaseUrl: workerDatabaseUrl(tmp.url, 'worker-b'), migrate: false });
    try {
      expect(await claimRun(a.sql, runId, 'worker-a')).toEqual({ claimed: true, status: 'queued' });
      // A live lease is not taken.
      expect(await claimRun(b.sql, runId, 'worker-b')).toMatchObject({ claimed: false });
      const storeA = new SqlTraceStore(a);
      expect(await storeA.transitionRun(runId, ['queued'], 'running')).toBe(true);
      // The lease runs out; b takes the run over.
      await db.sql.query(`UPDATE "Run" SET "leaseUntil" = now() - interval '1 second' WHERE id = $1`, [
        runId,
      ]);
      expect(await claimRun(b.sql, runId, 'worker-b')).toEqual({ claimed: true, status: 'running' });
      const stepId = await storeA.startStep({
        runId,
        nodeId: 'start',
        nodeType: 'trigger.manual',
        attempt: 1,
        mode: 'workflow',
        input: {},
        startedAt: new Date(),
      });
      await storeA.finishStep(stepId, { status: 'succeeded', output: {}, finishedAt: new Date() });
      // Same batch: a step of a run that `a` still owns.
      const mine = await rt.engine.startRun({ definition: linearWorkflow(1), input: {}, trigger: 'rerun:y' });
      expect(await claimRun(a.sql, mine, 'worker-a')).toMatchObject({ claimed: true });
      await storeA.startStep({
        runId: mine,
        nodeId: 'start',
        nodeType: 'trigger.manual',
        attempt: 1,
        mode: 'workflow',
        input: {},
        startedAt: new Date(),
      });
      // The fenced run's rows are refused (the batch is split per run), nothing else in it is harmed.
      await storeA.flush().catch(() => {});
      expect(await db.sql.query(`SELECT 1 FROM "Step" WHERE "runId" = $1`, [mine])).toHaveLength(1);
      await expect(storeA.transitionRun(runId, ['running'], 'succeeded', { output: 1 })).rejects.toThrow(
        LEASE_LOST,
      );
      expect(await db.sql.query(`SELECT 1 FROM "Step" WHERE "runId" = $1`, [runId])).toHaveLength(0);
      expect((await rt.store.getRun(runId))?.status).toBe('running');
      // Before a step with an outside effect, a's worker store checks its lease and stops.
      await expect(assertLease(a.sql, runId, 'worker-a')).rejects.toBeInstanceOf(LeaseLost);
      await expect(assertLease(b.sql, runId, 'worker-b')).resolves.toBeUndefined();
      const durableA = new DurableTraceStore(a, { workerId: 'worker-a' });
      const effect = {
        runId,
        nodeId: 'call',
        nodeType: 'http.request',
        attempt: 1,
        mode: 'workflow' as const,
        input: {},
        startedAt: new Date(),
      };
      await expect(durableA.startStep(effect)).rejects.toThrow(LEASE_LOST);
      await expect(new DurableTraceStore(b, { workerId: 'worker-b' }).startStep(effect)).resolves.toBeTypeOf(
        'string',
      );
      // A lease that ran out (nobody took it yet) stops its old owner too.
      await db.sql.query(`UPDATE "Run" SET "leaseUntil" = now() - interval '1 second' WHERE id = $1`, [mine]);
      await expect(assertLease(a.sql, mine, 'worker-a')).rejects.toThrow(/ran out/);
      // The new owner can.
      const storeB = new SqlTraceStore(b);
      expect(await storeB.transitionRun(runId, ['running'], 'succeeded', { output: 2 })).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  const sleeper = (ms: number) =>
    ({
      schemaVersion: 1,
      name: 'sleeper',
      nodes: [
        { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
        { id: 'nap', type: 'delay', position: { x: 0, y: 100 }, config: { ms } },
        { id: 'out', type: 'output', position: { x: 0, y: 200 }, config: { value: 'done' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'nap' },
        { id: 'e2', source: 'nap', target: 'out' },
      ],
    }) as WorkflowDefinition;

  async function untilRunning(runId: string) {
    for (let i = 0; i < 100; i++) {
      const steps = await db.sql.query(`SELECT 1 FROM "Step" WHERE "runId" = $1 AND "nodeId" = 'nap'`, [
        runId,
      ]);
      if (steps.length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('run did not start');
  }

  it('cancels a run that a worker executes, from the web process', async () => {
    const runId = await start(sleeper(4_000));
    await untilRunning(runId);
    expect(await rt.engine.cancelRun(runId)).toBe(true);
    expect((await rt.dispatcher.settled(runId))?.status).toBe('cancelled');
    // The worker notices (engine cancel poll) and closes its step.
    for (let i = 0; i < 60 && worker!.inFlight().includes(runId); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(worker!.inFlight()).not.toContain(runId);
    expect(
      await db.sql.query(`SELECT 1 FROM "Step" WHERE "runId" = $1 AND status = 'running'`, [runId]),
    ).toEqual([]);
  });

  it('on shutdown hands an unfinished run to another worker at once', async () => {
    const other = await startQueueWorker({
      databaseUrl: tmp.url,
      concurrency: 2,
      makeEngine: buildEngine,
      schedules: false,
    });
    const first = worker!;
    const runId = await start(sleeper(3_000));
    await untilRunning(runId);
    const owner = async () =>
      (await db.sql.query<{ leaseOwner: string }>(`SELECT "leaseOwner" FROM "Run" WHERE id = $1`, [runId]))[0]
        .leaseOwner;
    const onFirst = (await owner()) === first.workerId;
    const stopping = onFirst ? first : other;
    const taker = onFirst ? other : first;
    const t0 = Date.now();
    const res = await stopping.stop(100);
    const stoppedMs = Date.now() - t0;
    expect(res.released).toBeGreaterThanOrEqual(1);
    expect((await owner()).startsWith('released:')).toBe(true);
    const out = await rt.dispatcher.settled(runId);
    expect(out?.status).toBe('succeeded');
    expect(await owner()).toBe(taker.workerId);
    // Handed over, not found by a heartbeat timeout.
    // Handed over (retried at once), not found by a missed heartbeat (JOB_HEARTBEAT_SECONDS).
    const [again] = await db.sql.query<{ startedAt: Date }>(
      `SELECT "startedAt" FROM "Step" WHERE "runId" = $1 AND "nodeId" = 'nap' AND attempt = 2`,
      [runId],
    );
    expect(new Date(again.startedAt).getTime() - (t0 + stoppedMs)).toBeLessThan(
      JOB_HEARTBEAT_SECONDS * 1000 - 3_000,
    );
    worker = taker;
  }, 30_000);
});
