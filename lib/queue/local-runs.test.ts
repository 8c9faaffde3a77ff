import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgBoss } from 'pg-boss';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { buildEngine, createRuntime, type Runtime } from '@/lib/server/runtime';
import { recordingServer, recordingWorkflow, sleep, type RecordingServer } from '@/tests/durable/harness';
import { startBoss } from './boss';
import {
  startLocalRuns,
  webRunSlots,
  WEB_RUN_SLOTS_ENV,
  DEFAULT_WEB_RUN_SLOTS,
  KEPT_SESSIONS,
  type LocalRuns,
  type LocalRunsOptions,
} from './local-runs';
import { RUN_LEASE_MS, RUN_QUEUE } from './limits';
import { pgAvailable, tempQueueDb } from './testing/queue-db';

// The web process's own runs (local-runs.ts) obey the worker's fence: once another owner holds the
// run's lease, the web process sends no further request and writes nothing more to the run's trace.
// (Its crash and recovery: tests/durable/web-crash.test.ts; bursts beyond its slots:
// burst.test.ts; statements per run: round-trips.test.ts.)

type Queue = Awaited<ReturnType<typeof openQueue>>;

/** A fresh queue database, opened, with a pg-boss that sends jobs and consumes none. */
async function openQueue(name: string) {
  const tmp = await tempQueueDb(name);
  const db = await openDb({ databaseUrl: tmp.url });
  const boss = await startBoss({ databaseUrl: tmp.url, consumer: false });
  return { tmp, db, boss };
}

/** startLocalRuns on that database, with the engine the web process builds. */
const startHere = (
  { tmp, db, boss }: Queue,
  opts: Omit<LocalRunsOptions, 'databaseUrl' | 'boss' | 'makeEngine'>,
) =>
  startLocalRuns({
    databaseUrl: tmp.url,
    boss,
    makeEngine: (store, sql, drivesHere) =>
      buildEngine({ ...db, sql }, store, () => {}, undefined, { keepStartedRuns: drivesHere }),
    ...opts,
  });

/** Stops what openQueue and startHere started, and a recording server, each only if it started. */
async function closeQueue(q: Partial<Queue> & { local?: LocalRuns; rec?: RecordingServer }) {
  await q.local?.close(0);
  await q.rec?.close();
  await q.boss?.stop({ graceful: false, close: true, timeout: 2_000 }).catch(() => {});
  await q.db?.close();
  await q.tmp?.drop();
}

describe('web run slots setting', () => {
  it(`defaults to ${DEFAULT_WEB_RUN_SLOTS}, 0 turns the short path off, nonsense is refused by name`, () => {
    expect(webRunSlots({})).toBe(DEFAULT_WEB_RUN_SLOTS);
    expect(webRunSlots({ [WEB_RUN_SLOTS_ENV]: '0' })).toBe(0);
    expect(webRunSlots({ [WEB_RUN_SLOTS_ENV]: '3' })).toBe(3);
    expect(() => webRunSlots({ [WEB_RUN_SLOTS_ENV]: '-1' })).toThrow(WEB_RUN_SLOTS_ENV);
    expect(() => webRunSlots({ [WEB_RUN_SLOTS_ENV]: 'many' })).toThrow(WEB_RUN_SLOTS_ENV);
  });
});

describe.skipIf(!pgAvailable)('a run driven by the web process that loses its lease', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let boss: PgBoss;
  let local: LocalRuns;
  let rec: RecordingServer;

  beforeAll(async () => {
    ({ tmp, db, boss } = await openQueue('localruns'));
    // The first POST is held long enough for the lease to change hands meanwhile.
    let n = 0;
    rec = await recordingServer(() => (++n === 1 ? 3_000 : 0));
    process.env.TRELLIS_HTTP_ALLOW_PRIVATE = '1';
    local = startHere({ tmp, db, boss }, { slots: 2 });
  }, 60_000);

  afterAll(() => closeQueue({ local, rec, boss, db, tmp }));

  it('sends nothing more and writes no trace row after the lease is taken over', async () => {
    const def = recordingWorkflow(rec.url, 5);
    const wf = await createWorkflow(db.prisma, { name: 'lease lost', definition: def });
    const runId = await local.engine.startRun({ definition: def, workflowId: wf.id, input: {} });
    expect(local.start(runId)).toBe(true); // claimed in its own transaction
    while (rec.total() < 1) await sleep(20);

    // Another owner takes the run (as a worker would after a lease ran out).
    await db.sql.query(
      `UPDATE "Run" SET "leaseOwner" = 'thief', "leaseUntil" = now() + interval '1 minute' WHERE id = $1`,
      [runId],
    );
    const rows = () =>
      db.sql.query<{ id: string; status: string; finishedAt: Date | null }>(
        `SELECT id, status, "finishedAt" FROM "Step" WHERE "runId" = $1 ORDER BY id`,
        [runId],
      );
    const atSteal = await rows();
    // The first POST was made durable as running before it was sent (DurableTraceStore).
    expect(atSteal.map((r) => r.status)).toEqual(['succeeded', 'running']);

    const out = await local.settled(runId);
    await sleep(1_000); // anything it would still write has had its chance
    expect(out).toBeUndefined(); // dropped, not finished here
    expect(local.leaseLosses()).toBe(1);
    expect(local.inFlight()).toEqual([]);
    expect(rec.total()).toBe(1); // no request after the loss
    expect(await rows()).toEqual(atSteal); // no row added or finished
    const [run] = await db.sql.query(`SELECT status, "leaseOwner" FROM "Run" WHERE id = $1`, [runId]);
    expect(run).toEqual({ status: 'running', leaseOwner: 'thief' });
    // Its job stays for the new owner's side (only a run that ends here deletes it).
    const jobs = await db.sql.query(`SELECT id FROM pgboss.job WHERE name = $1 AND id::text = $2`, [
      RUN_QUEUE,
      runId,
    ]);
    expect(jobs).toHaveLength(1);
  }, 60_000);
});

describe.skipIf(!pgAvailable)('the sessions that drive runs in the web process', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let boss: PgBoss;
  let local: LocalRuns | undefined;

  beforeAll(async () => {
    ({ tmp, db, boss } = await openQueue('localwarm'));
  }, 60_000);

  afterAll(() => closeQueue({ local, boss, db, tmp }));

  it(`warm() opens ${KEPT_SESSIONS} of them, writes nothing, and they stay open when idle`, async () => {
    local = startHere({ tmp, db, boss }, { slots: 2, sessionIdleMs: 50 });
    expect(local.sessions()).toBe(0); // opened by warm(), not by the first run
    await local.warm();
    expect(local.sessions()).toBe(KEPT_SESSIONS);
    expect(await db.sql.query(`SELECT id FROM "Run"`)).toEqual([]); // rolled back
    // Two warm-ups at once need more sessions; those above the kept ones close when idle.
    await Promise.all([local.warm(), local.warm()]);
    expect(local.sessions()).toBe(2 * KEPT_SESSIONS);
    await sleep(500);
    expect(local.sessions()).toBe(KEPT_SESSIONS);
  }, 60_000);

  it('a run whose insert fails gives its slot back at once (its claim was sent behind the insert)', async () => {
    const def = recordingWorkflow('http://127.0.0.1:9', 1);
    // No such workflow: the run's insert fails (foreign key), as many times as there are slots.
    for (let i = 0; i < 2; i++)
      await expect(
        local!.engine.startRun({
          definition: def,
          workflowId: '00000000-0000-0000-0000-000000000000',
          input: {},
        }),
      ).rejects.toThrow();
    const wf = await createWorkflow(db.prisma, { name: 'after failed inserts', definition: def });
    const runId = await local!.engine.startRun({ definition: def, workflowId: wf.id, input: {} });
    expect(local!.start(runId)).toBe(true); // claimed here: the failed ones hold no slot
    await local!.settled(runId);
  }, 60_000);
});

describe.skipIf(!pgAvailable)('a cancel of a run the web process drives', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let rt: Runtime;
  let rec: RecordingServer;

  beforeAll(async () => {
    tmp = await tempQueueDb('localcancel');
    db = await openDb({ databaseUrl: tmp.url });
    rt = await createRuntime({ db, databaseUrl: tmp.url, seed: false });
    rec = await recordingServer(() => 30_000);
    process.env.TRELLIS_HTTP_ALLOW_PRIVATE = '1';
  }, 60_000);

  afterAll(async () => {
    await rt?.dispatcher.close?.();
    await rec?.close();
    await db?.close();
    await tmp?.drop();
  });

  it('stops it at once, records it once and leaves no job behind', async () => {
    const def = recordingWorkflow(rec.url, 3);
    const wf = await createWorkflow(db.prisma, { name: 'cancel', definition: def });
    const runId = await rt.engine.startRun({ definition: def, workflowId: wf.id, input: {} });
    await rt.dispatcher.enqueue(runId, wf.id);
    while (rec.total() < 1) await sleep(20);
    expect((await rt.dispatcher.stats!()).inWeb).toBe(1);
    expect(await rt.engine.cancelRun(runId)).toBe(true);
    // Settled long before the held POST would have answered: its request was aborted.
    const out = await rt.dispatcher.settled(runId);
    expect(out?.status).toBe('cancelled');
    const [run] = await db.sql.query(`SELECT status FROM "Run" WHERE id = $1`, [runId]);
    expect(run).toEqual({ status: 'cancelled' });
    expect(rec.total()).toBe(1);
    const jobs = await db.sql.query(`SELECT id FROM pgboss.job WHERE name = $1 AND id::text = $2`, [
      RUN_QUEUE,
      runId,
    ]);
    expect(jobs).toEqual([]);
  }, 60_000);
});

describe.skipIf(!pgAvailable)("the web process's backlog", () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let boss: PgBoss;
  let local: LocalRuns;
  let rec: RecordingServer;
  /** How long the recording server holds each request. */
  let holdMs = 0;

  beforeAll(async () => {
    ({ tmp, db, boss } = await openQueue('localbacklog'));
    rec = await recordingServer(() => holdMs);
    process.env.TRELLIS_HTTP_ALLOW_PRIVATE = '1';
    local = startHere({ tmp, db, boss }, { slots: 2, workflowConcurrency: 2, maxBacklog: 1 });
  }, 60_000);

  afterAll(() => closeQueue({ local, rec, boss, db, tmp }));

  const job = async (runId: string) =>
    (
      await db.sql.query<{ due: boolean }>(
        `SELECT start_after <= now() AS due FROM pgboss.job WHERE name = $1 AND id::text = $2`,
        [RUN_QUEUE, runId],
      )
    )[0];
  const run = async (runId: string) =>
    (
      await db.sql.query<{ status: string; leaseOwner: string | null }>(
        `SELECT status, "leaseOwner" FROM "Run" WHERE id = $1`,
        [runId],
      )
    )[0];

  it('keeps at most MAX_WEB_BACKLOG (here 1) waiting, hands a freed slot to the oldest, the rest stay queued for workers', async () => {
    holdMs = 1_500;
    const def = recordingWorkflow(rec.url, 1);
    const wf = await createWorkflow(db.prisma, { name: 'backlog', definition: def });
    const start = async () => {
      const id = await local.engine.startRun({ definition: def, workflowId: wf.id, input: {} });
      return { id, here: local.start(id) };
    };
    const [a, b] = [await start(), await start()];
    expect([a.here, b.here]).toEqual([true, true]); // the workflow's two slots, both here
    const c = await start();
    const d = await start();
    expect([c.here, d.here]).toEqual([false, false]);
    // c waits here (its job deferred, for recovery); d found the backlog full: its job is due now.
    expect(local.waiting()).toEqual([c.id]);
    // A caller waiting for c (a webhook's wait) is answered by its drive here, when it comes.
    const cDone = local.settled(c.id);
    expect(cDone).toBeDefined();
    expect(local.settled(d.id)).toBeUndefined();
    expect(await job(c.id)).toEqual({ due: false });
    expect(await job(d.id)).toEqual({ due: true });
    holdMs = 0;
    // a's end hands its slot to c in the transaction of its final status.
    await local.settled(a.id);
    await local.settled(b.id);
    expect((await cDone)?.status).toBe('succeeded');
    expect(await run(c.id)).toEqual({ status: 'succeeded', leaseOwner: local.workerId });
    expect(await job(c.id)).toBeUndefined(); // deleted with its final status
    // d is the queue's (no worker here): never taken by the web process.
    expect(await run(d.id)).toEqual({ status: 'queued', leaseOwner: null });
    expect(local.waiting()).toEqual([]);
  }, 60_000);

  it('a run left waiting when the last run of its workflow here stops without a free slot goes to the queue at once', async () => {
    holdMs = 3_000;
    const def = recordingWorkflow(rec.url, 1);
    const wf = await createWorkflow(db.prisma, { name: 'backlog drain', definition: def });
    const start = async () => {
      const id = await local.engine.startRun({ definition: def, workflowId: wf.id, input: {} });
      return { id, here: local.start(id) };
    };
    const base = rec.total();
    const [a, b] = [await start(), await start()];
    expect([a.here, b.here]).toEqual([true, true]);
    const c = await start();
    // Both runs lose their lease (as to a worker after a pause): their drives stop, their slots
    // stay taken by the new owner, so c cannot be claimed here.
    expect(local.waiting()).toEqual([c.id]);
    while (rec.total() < base + 2) await sleep(20);
    await db.sql.query(
      `UPDATE "Run" SET "leaseOwner" = 'thief', "leaseUntil" = now() + interval '1 minute' WHERE id = ANY($1::text[])`,
      [[a.id, b.id]],
    );
    expect([await local.settled(a.id), await local.settled(b.id)]).toEqual([undefined, undefined]);
    expect(local.leaseLosses()).toBe(2);
    // Not after its deferred job would have come due (RUN_LEASE_MS).
    const stopped = Date.now();
    while (!(await job(c.id))?.due) {
      expect(Date.now() - stopped).toBeLessThan(RUN_LEASE_MS / 2);
      await sleep(50);
    }
    expect(local.waiting()).toEqual([]);
    expect(await run(c.id)).toEqual({ status: 'queued', leaseOwner: null });
  }, 60_000);
});
