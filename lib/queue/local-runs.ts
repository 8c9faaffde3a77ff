import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { pgPoolExecutor, type SqlExecutor, type SqlQueryable } from '@/lib/db/sql-executor';
import { MAX_KNOWN_RUNS, type SqlTraceStore, type SqlTraceStoreOptions } from '@/lib/db/sql-trace-store';
import type { Engine, RunOutcome } from '@/lib/engine/engine';
import { TERMINAL_RUN_STATUSES, type RunRecord } from '@/lib/engine/trace-store';
import { txDatabase } from './boss';
import { DurableTraceStore } from './durable-store';
import { LeaseLost, endLease, isLeaseLost, keepLeases, releaseLease, workerDatabaseUrl } from './fencing';
import {
  RUN_LEASE_MS,
  RUN_QUEUE,
  SHUTDOWN_GRACE_MS,
  SLOT_FREED_CHANNEL,
  positiveIntFromEnv,
  workflowConcurrency,
} from './limits';
import { reconnectingExecutor } from './reconnect';
import { enqueuesOnCreate, sendRunJob } from './run-queue';
import { newWorkerId } from './worker';

// Server mode, the short path (issue 21): a run accepted by the web process executes in that
// process when it has a free local slot, instead of crossing web → Postgres → worker → Postgres →
// web. Nothing of the worker's contract is given up:
// - The run's job is still written in the run row's transaction, deferred by RUN_LEASE_MS (no
//   NOTIFY, no worker fetches it meanwhile). If this process dies, the job comes due, a worker
//   claims the run once the lease has run out and resumes it from the trace; when the run ends,
//   its job is deleted in the transaction that writes the final status.
// - The run is claimed in that same transaction (trellis_claim_new_run, migration
//   20261130050000_claim_new_run): the lease a worker's claim takes, under the same per-workflow
//   advisory lock and limit; a run that finds the workflow full, or no local slot, goes to the queue
//   as before. Runs of the workflow already waiting in the queue keep their place.
// - This process drives the run as a worker does: its own pool whose sessions carry a worker id
//   (so the database fences its trace writes), a DurableTraceStore (everything before a step with
//   outside effects is durable, and the lease is checked, before it starts), and lease renewals
//   that abandon the run when the lease is gone.
// The web's other sessions stay unfenced (cancels, approvals), as before.

/** Runs the web process executes itself at once; more go to the workers through the queue. */
export const DEFAULT_WEB_RUN_SLOTS = 8;
/** 0 turns the short path off: every run goes through the queue. */
export const WEB_RUN_SLOTS_ENV = 'TRELLIS_WEB_RUN_SLOTS';
export const MAX_WEB_RUN_SLOTS = 1_000;

export function webRunSlots(env: Record<string, string | undefined> = process.env): number {
  if (env[WEB_RUN_SLOTS_ENV]?.trim() === '0') return 0;
  return positiveIntFromEnv(WEB_RUN_SLOTS_ENV, DEFAULT_WEB_RUN_SLOTS, MAX_WEB_RUN_SLOTS, env);
}

/** Claims a run created in `tx` for `workerId` when its workflow has a free slot. */
export async function claimNewRun(
  tx: SqlQueryable,
  runId: string,
  workerId: string,
  limit: number,
): Promise<boolean> {
  const [row] = await tx.query<{ claimed: boolean }>(
    `SELECT trellis_claim_new_run($1, $2, $3, $4) AS claimed`,
    [runId, workerId, limit, RUN_LEASE_MS],
  );
  return row?.claimed === true;
}

export interface LocalRunsOptions {
  databaseUrl: string;
  /** The web process's pg-boss (a producer). */
  boss: PgBoss;
  slots: number;
  /**
   * Builds the engine that writes new runs and drives those claimed here, on this store (the
   * fenced sessions' one); `drivesHere(runId)` is its keepStartedRuns.
   */
  makeEngine: (store: SqlTraceStore, sql: SqlExecutor, drivesHere: (runId: string) => boolean) => Engine;
  storeOptions?: Omit<SqlTraceStoreOptions, 'onRunCreated' | 'onRunEnded'>;
  /** Runs of one workflow executing at once, default workflowConcurrency(). */
  workflowConcurrency?: number;
  workerId?: string;
  log?: (s: string) => void;
}

export interface LocalRuns {
  /** The lease owner's name of runs driven here. */
  workerId: string;
  /**
   * Start new runs with this engine: its store writes each run's job in the run's transaction,
   * and claims the run there when a slot is free.
   */
  engine: Engine;
  /**
   * After the run's transaction committed: true if it was claimed here (it starts now), false if
   * its job went to the queue in that transaction, undefined if it has no job yet.
   */
  start(runId: string): boolean | undefined;
  /** The current drive of a run here, if any. */
  settled(runId: string): Promise<RunOutcome | undefined> | undefined;
  inFlight(): string[];
  leaseLosses(): number;
  close(graceMs?: number): Promise<void>;
}

const terminal = (s: string) => (TERMINAL_RUN_STATUSES as readonly string[]).includes(s);

export function startLocalRuns(opts: LocalRunsOptions): LocalRuns {
  const workerId = opts.workerId ?? `web:${newWorkerId()}`;
  const log = opts.log ?? (() => {});
  const limit = opts.workflowConcurrency ?? workflowConcurrency();
  const { boss } = opts;
  const pool = new pg.Pool({
    connectionString: workerDatabaseUrl(opts.databaseUrl, workerId),
    max: Math.max(1, opts.slots) + 2,
  });
  pool.on('error', () => {}); // an idle client's error; the next query reconnects
  const sql = reconnectingExecutor(pgPoolExecutor(pool));
  /** Claimed in a transaction not known to have committed yet; dropped when the lease would end. */
  const pending = new Map<string, NodeJS.Timeout>();
  /** Jobs sent in a run's transaction, for the dispatcher's enqueue that follows. */
  const queued = new Set<string>();
  const held = new Map<string, Promise<RunOutcome | undefined>>();
  /** Runs whose job was deleted with their final status (onRunEnded). */
  const jobDeleted = new Set<string>();
  let closing = false;
  let losses = 0;

  // The run's job, and its claim when a local slot is free, in the run row's transaction.
  const onRunCreated = async (tx: SqlQueryable, run: RunRecord) => {
    if (!enqueuesOnCreate(run)) return;
    const free = !closing && pending.size + held.size < opts.slots;
    // The slot is taken before the claim's round trip, so concurrent requests cannot overbook it.
    if (free) pending.set(run.id, setTimeout(() => pending.delete(run.id), RUN_LEASE_MS).unref());
    const claimed = free && (await claimNewRun(tx, run.id, workerId, limit));
    if (free && !claimed) {
      clearTimeout(pending.get(run.id));
      pending.delete(run.id);
    }
    await sendRunJob(boss, tx, run, claimed ? RUN_LEASE_MS / 1000 : undefined);
    if (claimed) return;
    queued.add(run.id);
    // A run whose transaction did not commit is never enqueued: keep the set bounded.
    if (queued.size > MAX_KNOWN_RUNS) queued.delete(queued.values().next().value!);
  };

  const store = new DurableTraceStore(
    { sql },
    {
      ...opts.storeOptions,
      workerId,
      onRunCreated,
      onRunEnded: async (tx, runId) => {
        if (!held.has(runId)) return; // a child run, or a run not driven here
        await boss.deleteJob(RUN_QUEUE, runId, { db: txDatabase(tx) });
        // Its slot frees as this commits: a worker job waiting for one looks now (worker.ts).
        await tx.query(`SELECT pg_notify($1, $2)`, [SLOT_FREED_CHANNEL, runId]);
        jobDeleted.add(runId);
      },
    },
  );
  const engine = opts.makeEngine(store, sql, (runId) => pending.has(runId));
  const stopRenewing = keepLeases(sql, workerId, held, (runId) => {
    log(`lost the lease of ${runId}; abandoning it`);
    engine.abandonRun(runId, new LeaseLost(runId, 'a renewal found the lease gone'));
  });

  /** Gives a run back to the workers now: fences this process off, and a job due at once. */
  const handOver = async (runId: string) => {
    await releaseLease(sql, runId, workerId).catch(() => {});
    await boss.send(RUN_QUEUE, { runId }).catch(() => {}); // else the deferred job comes due
  };

  // After the drive: the job kept for recovery goes (a finished run's usually went with its final
  // status); a parked run gets the job that wakes it, as a worker's would, and its lease ends.
  const settle = async (runId: string, out: RunOutcome) => {
    if (!terminal(out.status) && out.wakeAt !== undefined)
      await boss.send(RUN_QUEUE, { runId }, { startAfter: new Date(out.wakeAt) });
    if (!jobDeleted.delete(runId)) await boss.deleteJob(RUN_QUEUE, runId);
    if (!terminal(out.status)) await endLease(sql, runId, workerId);
  };

  const drive = (runId: string) => {
    store.adoptRun(runId);
    const done = engine.executeRun(runId).then(
      async (out) => {
        await settle(runId, out).catch((err) =>
          log(`run ${runId}: its job could not be settled (${String(err)}); a worker will look at it`),
        );
        return out;
      },
      async (err) => {
        jobDeleted.delete(runId);
        if (isLeaseLost(err)) {
          losses++;
          log(`run ${runId}: lease lost, stopped (a worker drives it)`);
          return undefined;
        }
        log(`run ${runId} failed in the web process; handed to a worker: ${String(err?.message ?? err)}`);
        await handOver(runId);
        return undefined;
      },
    );
    held.set(runId, done);
    void done.finally(() => held.delete(runId));
  };

  return {
    workerId,
    engine,
    start(runId) {
      const timer = pending.get(runId);
      if (timer) {
        clearTimeout(timer);
        pending.delete(runId);
        drive(runId);
        return true;
      }
      return queued.delete(runId) ? false : undefined;
    },
    settled: (runId) => held.get(runId),
    inFlight: () => [...held.keys()],
    leaseLosses: () => losses,
    async close(graceMs = SHUTDOWN_GRACE_MS) {
      closing = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...held.values()]),
        new Promise((r) => (timer = setTimeout(r, graceMs))),
      ]);
      clearTimeout(timer);
      for (const runId of held.keys()) {
        engine.abandonRun(runId, new LeaseLost(runId, 'the web process is shutting down'));
        await handOver(runId);
      }
      stopRenewing();
      for (const t of pending.values()) clearTimeout(t);
      await store.flush().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}
