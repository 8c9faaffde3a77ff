import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { PgBoss, Job } from 'pg-boss';
import { openDb, type Db } from '@/lib/db/client';
import type { SqlTraceStore, SqlTraceStoreOptions } from '@/lib/db/sql-trace-store';
import type { Engine, RunOutcome } from '@/lib/engine/engine';
import type { EngineListener } from '@/lib/engine/events';
import { TERMINAL_RUN_STATUSES, type RunStatus } from '@/lib/engine/trace-store';
import { startBoss, type RunJobData, type ScheduleJobData } from './boss';
import { createEventPublisher, listenChannel } from './event-bridge';
import {
  LeaseLost,
  claimRunSlot,
  isLeaseLost,
  endLease,
  keepLeases,
  releaseLease,
  workerDatabaseUrl,
} from './fencing';
import {
  NOTIFY_POLLING_SECONDS,
  RUN_QUEUE,
  SCHEDULE_QUEUE,
  SHUTDOWN_GRACE_MS,
  SLOT_FREED_CHANNEL,
  SLOT_POLL_MS,
  workflowConcurrency,
} from './limits';
import { DurableTraceStore } from './durable-store';
import { reconnectingExecutor } from './reconnect';
import { runJobHook } from './run-queue';
import { minScheduleIntervalMs } from '@/lib/nodes/trigger-schedule';
import { createScheduleLoop, tickJobId, type ScheduleTick } from './schedules';
import { workBacktests } from './backtest-queue';
import { startLoopWaker } from './wake';

// One worker process: pg-boss hands it "drive run X" jobs (LISTEN/NOTIFY, so a job starts within
// milliseconds); it takes the run's lease, executes or resumes it through the engine, and parks
// waiting runs as delayed jobs. pg-boss job heartbeats find dead workers; the lease plus the
// database triggers in fencing.ts keep a worker that lost the run from writing to it.

export interface QueueWorkerOptions {
  databaseUrl: string;
  concurrency: number;
  /** Builds the engine on the worker's own database handle and store. */
  makeEngine: (db: Db, store: SqlTraceStore, onEvent: EngineListener) => Engine;
  workerId?: string;
  /** Passed to the worker's trace store (the host's redactor, payload caps). */
  storeOptions?: Omit<SqlTraceStoreOptions, 'onRunCreated'>;
  /**
   * Starts the run of one schedule tick under the rules of every run (the host's enqueue path,
   * lib/server/schedules.ts startScheduledRun). Without it the worker looks for no ticks.
   */
  startScheduledRun?: (host: { db: Db; engine: Engine }, tick: ScheduleTick) => Promise<unknown>;
  /** Minimum gap between two ticks of one trigger (the server's rule). */
  minScheduleIntervalMs?: () => number;
  /** Replays one backtest on this worker's database (lib/server builds it); without it no backtest jobs are taken. */
  runBacktest?: (db: Db, backtestId: string, signal: AbortSignal) => Promise<unknown>;
  /** Runs one graduation proposal (model call and backtest); without it no graduation jobs are taken. */
  runGraduation?: (db: Db, graduationId: string, signal: AbortSignal) => Promise<unknown>;
  /**
   * The run queue's polling backstop, default NOTIFY_POLLING_SECONDS. A test that counts the
   * statements of a run raises it, so idle loops do not poll while it counts.
   */
  pollSeconds?: number;
  /** How long a job waiting for its workflow's slot sleeps between looks, default SLOT_POLL_MS. */
  slotPollMs?: number;
  /** Default true (when startScheduledRun is given): look for due schedule ticks. */
  schedules?: boolean;
  log?: (s: string) => void;
}

export interface QueueWorker {
  workerId: string;
  db: Db;
  boss: PgBoss;
  engine: Engine;
  /** Runs this worker drives right now. */
  inFlight(): string[];
  /** Runs this worker stopped because it lost their lease. */
  leaseLosses(): number;
  /** Stop taking work; in-flight runs get graceMs to finish, then are handed to other workers. */
  stop(graceMs?: number): Promise<{ finished: number; released: number }>;
}

const terminal = (s: string | null) => s !== null && TERMINAL_RUN_STATUSES.includes(s as RunStatus);

export function newWorkerId(): string {
  const host = os
    .hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 40);
  return `${host}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorker> {
  const workerId = opts.workerId ?? newWorkerId();
  const log = opts.log ?? (() => {});
  const concurrency = Math.max(1, opts.concurrency);
  const opened = await openDb({
    databaseUrl: workerDatabaseUrl(opts.databaseUrl, workerId),
    poolSize: concurrency + 4,
  });
  const db: Db = { ...opened, sql: reconnectingExecutor(opened.sql) };
  const boss = await startBoss({ databaseUrl: opts.databaseUrl, consumer: true, listen: false, poolSize: 4 });
  const events = createEventPublisher(db.sql);
  const store = new DurableTraceStore(db, {
    ...opts.storeOptions,
    onRunCreated: runJobHook(boss),
    workerId,
  });
  const engine = opts.makeEngine(db, store, (ev) => events.publish(ev));
  const held = new Map<string, { jobId: string; done: Promise<unknown> }>();
  const slots = workflowConcurrency();
  let stopping = false;
  let leaseLosses = 0;

  const stopRenewing = keepLeases(db.sql, workerId, held, (id) => {
    log(`lost the lease of ${id}; abandoning it`);
    engine.abandonRun(id, new LeaseLost(id, 'a renewal found the lease gone'));
  });

  // pg-boss sleeps a polling interval after each job unless notified meanwhile; a backlog then
  // drains at one job per loop per interval. So a loop that finishes a job fetches again at once
  // (waker.afterRunJob); new jobs wake one idle loop each (wake.ts).
  const waker = startLoopWaker(boss, opts.databaseUrl);

  // A job fetched while its workflow's slots are all taken waits for one (handleRun). A slot frees
  // when a run ends: one of this worker's (at once, below) or one the web process drove (its
  // SLOT_FREED_CHANNEL notification); either wakes every waiting job to look again. The poll stays
  // the backstop, and the only wake for runs other workers end.
  const slotWaiters = new Set<() => void>();
  const slotFreed = () => {
    for (const wake of [...slotWaiters]) wake();
  };
  const waitForSlot = () =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        slotWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, opts.slotPollMs ?? SLOT_POLL_MS);
      slotWaiters.add(wake);
    });
  const slotListener = listenChannel(opts.databaseUrl, SLOT_FREED_CHANNEL, slotFreed, slotFreed);

  async function handleRun(job: Job<RunJobData>): Promise<void> {
    const { runId } = job.data;
    // pg-boss may hand us a retry of a run this process still drives (a missed heartbeat): wait for it.
    const prior = held.get(runId);
    if (prior) await prior.done.catch(() => {});
    let claim = await claimRunSlot(db.sql, job, runId, workerId, slots);
    // Fetched in a race for the workflow's last slot: this job holds its place (pg-boss counts it
    // as active, so no later job of the workflow is fetched meanwhile) until a slot frees.
    while (!claim.claimed && claim.full) {
      if (stopping) throw new Error('worker stopping; the run stays queued for another worker');
      await waitForSlot();
      claim = await claimRunSlot(db.sql, job, runId, workerId, slots);
    }
    if (!claim.claimed) {
      if (claim.status === null || terminal(claim.status)) return;
      // Another worker's lease is live (a resume sent while it still runs the run): look again
      // when that lease would run out; if it finished by then, the job ends at once.
      const at = Math.max(Date.now(), claim.leaseUntil ? new Date(claim.leaseUntil).getTime() : 0) + 500;
      const group = job.groupId ? { group: { id: job.groupId } } : {};
      await boss.send(RUN_QUEUE, { runId }, { startAfter: new Date(at), ...group });
      return;
    }
    if (terminal(claim.status)) return endLease(db.sql, runId, workerId);
    store.runExists(runId);
    const drive: Promise<RunOutcome> =
      claim.status === 'queued' ? engine.executeRun(runId) : engine.resumeRun(runId);
    held.set(runId, { jobId: job.id, done: drive });
    let out: RunOutcome;
    try {
      out = await drive;
    } catch (err) {
      if (isLeaseLost(err)) {
        leaseLosses++;
        log(`run ${runId}: lease lost, stopped (another worker drives it)`);
        return;
      }
      throw err; // pg-boss retries the job; resume continues from the trace
    } finally {
      held.delete(runId);
      slotFreed();
    }
    if (out.status === 'waiting' && out.wakeAt !== undefined) {
      await boss.send(RUN_QUEUE, { runId }, { startAfter: new Date(out.wakeAt) });
    }
    // A finished run's lease is left to run out (RUN_LEASE_MS): nothing claims a finished run (a
    // claim of one only ends), the slot count reads queued and running runs only, and the fence
    // reads the owner, not the lease. One statement less per run; a parked run is handed back.
    if (!terminal(out.status)) await endLease(db.sql, runId, workerId);
  }

  async function handleTick(job: Job<ScheduleJobData>): Promise<void> {
    const { workflowId, nodeId, firedAt } = job.data;
    // Jobs sent before ticks carried their node have no nodeId; they are dropped (a tick at most).
    if (!nodeId || !opts.startScheduledRun) return;
    // A retried tick job starts nothing twice: startScheduledRun looks for the tick's run first.
    await opts.startScheduledRun({ db, engine }, { workflowId, nodeId, firedAt: new Date(firedAt) });
  }

  await boss.work<RunJobData>(
    RUN_QUEUE,
    {
      localConcurrency: concurrency,
      // Per-workflow slots across all workers (see runJobGroup); read once per worker start.
      groupConcurrency: slots,
      batchSize: 1,
      notifyPollingIntervalSeconds: opts.pollSeconds ?? NOTIFY_POLLING_SECONDS,
      pollingIntervalSeconds: opts.pollSeconds ?? NOTIFY_POLLING_SECONDS,
    },
    async ([job]) => {
      try {
        await handleRun(job);
      } catch (err) {
        // One run's failure is that run's: logged here, retried by pg-boss, the worker goes on.
        log(
          `run ${job.data.runId} failed in this worker (the job will be retried): ${String((err as Error)?.message ?? err)}`,
        );
        throw err;
      } finally {
        waker.afterRunJob();
      }
    },
  );
  await boss.work<ScheduleJobData>(
    SCHEDULE_QUEUE,
    {
      batchSize: 1,
      notifyPollingIntervalSeconds: NOTIFY_POLLING_SECONDS,
      pollingIntervalSeconds: NOTIFY_POLLING_SECONDS,
    },
    async ([job]) => handleTick(job),
  );

  const { runBacktest, runGraduation } = opts;
  const stopBacktests =
    runBacktest || runGraduation
      ? await workBacktests(
          boss,
          {
            ...(runBacktest ? { backtest: (id, signal) => runBacktest(db, id, signal) } : {}),
            ...(runGraduation ? { graduation: (id, signal) => runGraduation(db, id, signal) } : {}),
          },
          log,
        )
      : null;

  // Schedule ticks: every worker looks; the derived job id makes each tick of each node one job.
  const loop = createScheduleLoop({
    sql: db.sql,
    minIntervalMs: opts.minScheduleIntervalMs ?? (() => minScheduleIntervalMs()),
    fire: async (t) => {
      if (stopping) throw new Error('worker stopping');
      const data: ScheduleJobData = {
        workflowId: t.workflowId,
        nodeId: t.nodeId,
        firedAt: t.firedAt.toISOString(),
      };
      await boss.send(SCHEDULE_QUEUE, data, { id: tickJobId(t.workflowId, t.nodeId, t.firedAt) });
    },
    log: (s) => log(s),
  });
  const stopTicker = opts.schedules === false || !opts.startScheduledRun ? null : loop.start();

  return {
    workerId,
    db,
    boss,
    engine,
    inFlight: () => [...held.keys()],
    leaseLosses: () => leaseLosses,
    async stop(graceMs = SHUTDOWN_GRACE_MS) {
      stopping = true;
      stopTicker?.();
      await stopBacktests?.();
      await Promise.all([
        boss.offWork(RUN_QUEUE, { wait: false }),
        boss.offWork(SCHEDULE_QUEUE, { wait: false }),
      ]).catch(() => {});
      const pending = [...held.values()].map((h) => h.done.catch(() => {}));
      const before = held.size;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(pending), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      // Whatever is still running is handed over: fence this process off, and fail its job so
      // pg-boss retries it on another worker now instead of after a missed heartbeat.
      const left = [...held.entries()];
      for (const [runId, h] of left) {
        await releaseLease(db.sql, runId, workerId).catch(() => {});
        await boss.fail(RUN_QUEUE, h.jobId, { reason: 'worker shutting down' }).catch(() => {});
      }
      stopRenewing();
      await waker.close();
      await slotListener.close();
      await store.flush().catch(() => {});
      await events.flush().catch(() => {});
      await boss.stop({ graceful: false, close: true, timeout: 2_000 }).catch(() => {});
      await db.close().catch(() => {});
      return { finished: before - left.length, released: left.length };
    },
  };
}
