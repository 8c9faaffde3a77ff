import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { pgPoolExecutor, pipelined, type SqlExecutor, type SqlQueryable } from '@/lib/db/sql-executor';
import {
  MAX_KNOWN_RUNS,
  type AfterTransaction,
  type NewRun,
  type SqlTraceStore,
  type SqlTraceStoreOptions,
} from '@/lib/db/sql-trace-store';
import type { Engine, RunOutcome } from '@/lib/engine/engine';
import { TERMINAL_RUN_STATUSES } from '@/lib/engine/trace-store';
import { txDatabase } from './boss';
import { DurableTraceStore } from './durable-store';
import { LeaseLost, endLease, isLeaseLost, keepLeases, releaseLease, workerDatabaseUrl } from './fencing';
import {
  DEFAULT_WORKFLOW_CONCURRENCY,
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
// - The run is claimed in that same transaction (trellis_admit_new_run, migration
//   20261130090000_web_backlog): the lease a worker's claim takes, under the same per-workflow
//   advisory lock and limit; a run that finds the workflow full, or no local slot, goes to the queue
//   as before. Runs of the workflow already waiting in the queue keep their place.
// - This process drives the run as a worker does: its own pool whose sessions carry a worker id
//   (so the database fences its trace writes), a DurableTraceStore (everything before a step with
//   outside effects is durable, and the lease is checked, before it starts), and lease renewals
//   that abandon the run when the lease is gone.
// The web's other sessions stay unfenced (cancels, approvals), as before.

/**
 * Runs the web process executes itself at once; more wait in its backlog or go to the workers.
 * As many as one workflow may run at once by default, so a burst to one workflow runs here whole.
 */
export const DEFAULT_WEB_RUN_SLOTS = DEFAULT_WORKFLOW_CONCURRENCY;
/** 0 turns the short path off: every run goes through the queue. */
export const WEB_RUN_SLOTS_ENV = 'TRELLIS_WEB_RUN_SLOTS';
export const MAX_WEB_RUN_SLOTS = 1_000;
/**
 * Runs waiting in the web process's backlog at once, all workflows together; more go to the queue.
 * Their definitions are kept in memory for the drive (the engine keeps at most
 * MAX_KEPT_STARTED_RUNS), so this stays well below that.
 */
export const MAX_WEB_BACKLOG = 128;

/**
 * Sessions of the pool that drives runs here kept open while idle (pg-pool's `min`), and opened
 * with a run's statements once on each (rolled back) before the process says it is ready: a new
 * session costs a backend's start and its first reading of the catalog for those statements,
 * which the first run after start, and the first after every 10 s without runs (pg-pool's idle
 * timeout), paid for. Two: a run's transactions use one, a lease renewal or a second run the other.
 */
export const KEPT_SESSIONS = 2;

export function webRunSlots(env: Record<string, string | undefined> = process.env): number {
  if (env[WEB_RUN_SLOTS_ENV]?.trim() === '0') return 0;
  return positiveIntFromEnv(WEB_RUN_SLOTS_ENV, DEFAULT_WEB_RUN_SLOTS, MAX_WEB_RUN_SLOTS, env);
}

/** What trellis_admit_new_run decided about a run created in the caller's transaction. */
export type Admission = 'claimed' | 'full' | 'free' | 'gone';

/**
 * In the transaction `tx` that created the run: claims it for `workerId` when `mayClaim` and its
 * workflow has a free slot; else says whether the workflow is full (the run would wait anyway).
 */
export async function admitNewRun(
  tx: SqlQueryable,
  runId: string,
  workerId: string,
  limit: number,
  mayClaim: boolean,
): Promise<Admission> {
  const [row] = await tx.query<{ admitted: Admission }>(
    `SELECT trellis_admit_new_run($1, $2, $3, $4, $5) AS admitted`,
    [runId, workerId, limit, RUN_LEASE_MS, mayClaim],
  );
  return row?.admitted ?? 'gone';
}

/**
 * Claims runs of this process's backlog of workflow `wf` for `workerId`, in the given order, while
 * the workflow has a slot (and no run waiting in the queue was accepted before them), at most
 * `max`. Answers the candidates looked at: claimed, or gone (cancelled, or a worker has its job);
 * the rest still wait. With `freed` (the run whose end freed a slot): a slot still free afterwards
 * is announced on SLOT_FREED_CHANNEL, for a worker's job waiting for one.
 */
export async function claimBacklog(
  sql: SqlQueryable,
  wf: string,
  runIds: string[],
  workerId: string,
  limit: number,
  max: number,
  freed?: string,
): Promise<{ claimed: string[]; gone: string[] }> {
  const rows = await sql.query<{ run_id: string; claimed: boolean }>(
    `SELECT * FROM trellis_claim_backlog($1, $2::text[], $3, $4, $5, $6, $7, $8, $9)`,
    [
      wf,
      runIds,
      RUN_QUEUE,
      workerId,
      limit,
      RUN_LEASE_MS,
      max,
      freed === undefined ? null : SLOT_FREED_CHANNEL,
      freed ?? null,
    ],
  );
  return {
    claimed: rows.filter((r) => r.claimed).map((r) => r.run_id),
    gone: rows.filter((r) => !r.claimed).map((r) => r.run_id),
  };
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
  /** Runs waiting in the backlog at once, default MAX_WEB_BACKLOG (tests: a small one). */
  maxBacklog?: number;
  workerId?: string;
  log?: (s: string) => void;
  /** How long a session above KEPT_SESSIONS stays open idle (pg-pool's default, 10 s; tests: short). */
  sessionIdleMs?: number;
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
  /**
   * The current drive of a run here, or the one it will get when it waits in the backlog here
   * (undefined if it leaves for the queue instead), if any.
   */
  settled(runId: string): Promise<RunOutcome | undefined> | undefined;
  inFlight(): string[];
  /** Runs accepted here that wait for their workflow's slot (the backlog), oldest first. */
  waiting(): string[];
  leaseLosses(): number;
  /** Opens KEPT_SESSIONS sessions and runs a run's statements on each, rolled back. */
  warm(): Promise<void>;
  /** Sessions the pool holds open (idle or busy). */
  sessions(): number;
  close(graceMs?: number): Promise<void>;
}

const terminal = (s: string) => (TERMINAL_RUN_STATUSES as readonly string[]).includes(s);

export function startLocalRuns(opts: LocalRunsOptions): LocalRuns {
  const workerId = opts.workerId ?? `web:${newWorkerId()}`;
  const log = opts.log ?? (() => {});
  const limit = opts.workflowConcurrency ?? workflowConcurrency();
  const maxBacklog = opts.maxBacklog ?? MAX_WEB_BACKLOG;
  const { boss } = opts;
  const max = Math.max(1, opts.slots) + 2;
  const pool = new pg.Pool({
    connectionString: workerDatabaseUrl(opts.databaseUrl, workerId),
    max,
    min: Math.min(KEPT_SESSIONS, max),
    // A transaction's BEGIN goes with its first statement (sql-executor.ts).
    pipeline: true,
    ...(opts.sessionIdleMs === undefined ? {} : { idleTimeoutMillis: opts.sessionIdleMs }),
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
  /** The workflow of each run claimed, driven or waiting here. */
  const workflowOf = new Map<string, string>();
  /**
   * Taken into the backlog in a transaction not known to have committed yet (its job deferred);
   * if it never does, the entry goes when the job would have come due.
   */
  const accepted = new Map<string, NodeJS.Timeout>();
  /** The backlog: committed runs waiting for a slot of their workflow here, in accepted order. */
  const backlog = new Map<string, string[]>();
  let backlogSize = 0;
  /** Callers waiting for the drive of a run that waits here (settled): told when it starts or leaves. */
  const awaited = new Map<string, ((drive: Promise<RunOutcome | undefined> | undefined) => void)[]>();
  const tell = (runId: string, drive?: Promise<RunOutcome | undefined>) => {
    for (const f of awaited.get(runId) ?? []) f(drive);
    awaited.delete(runId);
  };
  let closing = false;
  let losses = 0;

  /** Driven here, final status committed, the drive still settling: its slot is free already. */
  const ended = new Set<string>();
  const busySlots = () => pending.size + held.size - ended.size;
  /** Runs of the workflow claimed or driven here: each will free a slot this process can hand on. */
  const localOf = (wf: string) => {
    let n = 0;
    for (const id of pending.keys()) if (workflowOf.get(id) === wf) n++;
    for (const id of held.keys()) if (workflowOf.get(id) === wf && !ended.has(id)) n++;
    return n;
  };
  const forget = (runIds: string[]) => {
    for (const id of runIds) {
      const wf = workflowOf.get(id);
      const list = wf === undefined ? undefined : backlog.get(wf);
      const at = list?.indexOf(id) ?? -1;
      if (at >= 0) {
        list!.splice(at, 1);
        backlogSize--;
        if (!list!.length) backlog.delete(wf!);
      }
      if (!held.has(id) && !pending.has(id)) {
        workflowOf.delete(id);
        tell(id);
      }
    }
  };
  const claimSlot = (runId: string) =>
    pending.set(
      runId,
      setTimeout(() => {
        pending.delete(runId);
        if (held.has(runId)) return;
        workflowOf.delete(runId);
        tell(runId);
      }, RUN_LEASE_MS).unref(),
    );
  const dropPending = (runId: string) => {
    clearTimeout(pending.get(runId));
    pending.delete(runId);
  };

  // The run's job, and its claim when a local slot is free, in the run row's transaction. A run
  // whose workflow is full waits for a slot anyway: it waits here (its job deferred like a claimed
  // run's, for recovery) when this process drives runs of the workflow, whose slots it hands on as
  // they end; else in the queue. (A run sent to the queue while this process holds the workflow's
  // slots would be fetched by a worker at once, wait there for a slot, and being older than what
  // waits here, take the next one: a burst would drift to the workers run by run.)
  const onRunCreated = async (tx: SqlQueryable, run: NewRun) => {
    if (!enqueuesOnCreate(run)) return;
    const wf = run.workflowId ?? undefined;
    const free = !closing && busySlots() < opts.slots;
    // Only where this process alone can fill the workflow's slots: with fewer, runs waiting here
    // would leave the rest of the workflow's slots to workers with nothing to fetch.
    const mayWait =
      !closing &&
      wf !== undefined &&
      opts.slots >= limit &&
      backlogSize + accepted.size < maxBacklog &&
      localOf(wf) > 0;
    // This process holds every slot of the workflow: it is full, no need to ask (and to queue for
    // the workflow's lock, which a burst's every run would).
    const full = wf !== undefined && localOf(wf) >= limit;
    // The slot is taken before the claim's round trip, so concurrent requests cannot overbook it
    // (and count it as this process's run of the workflow).
    const claiming = free && !full;
    if (claiming) {
      claimSlot(run.id);
      if (wf !== undefined) workflowOf.set(run.id, wf);
    }
    // The run's insert may have failed ahead of the claim (pipelined, sql-trace-store.ts createRun):
    // its slot is given back now, not when the lease would have ended.
    const admitted: Admission = full
      ? 'full'
      : free || mayWait
        ? await admitNewRun(tx, run.id, workerId, limit, free).catch((err) => {
            if (claiming) {
              dropPending(run.id);
              workflowOf.delete(run.id);
            }
            throw err;
          })
        : 'free';
    const waits = admitted === 'full' && mayWait;
    if (wf !== undefined && (admitted === 'claimed' || waits)) workflowOf.set(run.id, wf);
    else workflowOf.delete(run.id);
    if (claiming && admitted !== 'claimed') dropPending(run.id);
    if (waits) accepted.set(run.id, setTimeout(() => forgetAccepted(run.id), RUN_LEASE_MS).unref());
    const here = admitted === 'claimed' || waits;
    await sendRunJob(boss, tx, run, here ? RUN_LEASE_MS / 1000 : undefined);
    if (here) return;
    queued.add(run.id);
    // A run whose transaction did not commit is never enqueued: keep the set bounded.
    if (queued.size > MAX_KNOWN_RUNS) queued.delete(queued.values().next().value!);
  };
  const forgetAccepted = (runId: string) => {
    clearTimeout(accepted.get(runId));
    if (accepted.delete(runId)) workflowOf.delete(runId);
    tell(runId);
  };
  const waitingHere = (runId: string) => {
    if (accepted.has(runId) || pending.has(runId)) return true;
    const wf = workflowOf.get(runId);
    return wf !== undefined && (backlog.get(wf)?.includes(runId) ?? false);
  };

  // In the transaction that writes the final status of a run driven here: its job goes, and its
  // slot is handed to the oldest runs of the workflow waiting here (more than one if more slots of
  // the workflow are free, up to this process's free slots). They start once this commits.
  const onRunEnded = async (tx: SqlQueryable, runId: string): Promise<AfterTransaction | void> => {
    if (!held.has(runId)) return; // a child run, or a run not driven here
    const wf = workflowOf.get(runId);
    const candidates = wf === undefined || closing ? [] : (backlog.get(wf) ?? []);
    const max = Math.max(1, opts.slots - busySlots() + 1);
    // Its slot frees as this commits, unless a run waiting here took it: a worker job waiting for
    // one looks now (worker.ts).
    let next: { claimed: string[]; gone: string[] } = { claimed: [], gone: [] };
    if (candidates.length) {
      await boss.deleteJob(RUN_QUEUE, runId, { db: txDatabase(tx) });
      next = await claimBacklog(tx, wf!, [...candidates], workerId, limit, max, runId);
    } else {
      // Neither needs the other's answer: on a pipelined session they share a round trip.
      const q = pipelined(tx);
      await q.send(`SELECT pg_notify($1, $2)`, [SLOT_FREED_CHANNEL, runId]);
      await q.answer(boss.deleteJob(RUN_QUEUE, runId, { db: txDatabase(tx) }));
      await q.done();
    }
    jobDeleted.add(runId);
    // Taken out of the backlog now, so another run ending in this batch looks past them.
    forget(next.gone);
    for (const id of next.claimed) {
      // Claimed first, so leaving the backlog does not tell its waiters it went elsewhere.
      claimSlot(id);
      forget([id]);
    }
    return (committed) => {
      if (!committed) {
        jobDeleted.delete(runId);
        // Back at the head of the backlog, in order; the batch's next try claims them again.
        for (const id of next.claimed) dropPending(id);
        if (next.claimed.length && wf !== undefined) {
          for (const id of next.claimed) workflowOf.set(id, wf);
          backlog.set(wf, [...next.claimed, ...(backlog.get(wf) ?? [])]);
          backlogSize += next.claimed.length;
        }
        return;
      }
      ended.add(runId);
      for (const id of next.claimed) startClaimed(id);
    };
  };

  const store = new DurableTraceStore({ sql }, { ...opts.storeOptions, workerId, onRunCreated, onRunEnded });
  const drivesHere = (runId: string) => pending.has(runId) || accepted.has(runId);
  const engine = opts.makeEngine(store, sql, drivesHere);
  const stopRenewing = keepLeases(sql, workerId, held, (runId) => {
    log(`lost the lease of ${runId}; abandoning it`);
    engine.abandonRun(runId, new LeaseLost(runId, 'a renewal found the lease gone'));
  });

  /** Gives a run back to the workers now: fences this process off, and a job due at once. */
  const handOver = async (runId: string) => {
    await releaseLease(sql, runId, workerId).catch(() => {});
    await boss.send(RUN_QUEUE, { runId }).catch(() => {}); // else the deferred job comes due
  };

  /**
   * Runs of a workflow waiting here are claimed now when this process has free slots (a run ended
   * while none waited, and one came after), and handed to the queue (the deferred job replaced by
   * one due now, in order) when no run of the workflow is driven here any more (the last one
   * parked, failed or ended while the workflow was full) or the process shuts down: none waits
   * for a drive here that will not come.
   */
  const drain = async (wf: string) => {
    const ids = [...(backlog.get(wf) ?? [])];
    if (!ids.length) return;
    const max = closing ? 0 : Math.max(0, opts.slots - busySlots());
    if (max > 0) {
      const next = await claimBacklog(sql, wf, ids, workerId, limit, max);
      forget(next.gone);
      for (const id of next.claimed) {
        claimSlot(id);
        forget([id]);
        startClaimed(id);
      }
    }
    if (localOf(wf) > 0 && !closing) return;
    const rest = [...(backlog.get(wf) ?? [])];
    if (!rest.length) return;
    forget(rest);
    await sql.transaction(async (tx) => {
      for (const id of rest) {
        await boss.deleteJob(RUN_QUEUE, id, { db: txDatabase(tx) });
        await sendRunJob(boss, tx, { id, workflowId: wf });
      }
    });
  };
  const drainLater = (wf: string | undefined) => {
    if (wf !== undefined)
      void drain(wf).catch((err) =>
        log(`runs waiting here for ${wf} could not be handed on (${String(err)}); their jobs come due`),
      );
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
    tell(runId, done);
    void done.finally(() => {
      held.delete(runId);
      ended.delete(runId);
      const wf = workflowOf.get(runId);
      workflowOf.delete(runId);
      if (wf !== undefined && backlog.has(wf)) drainLater(wf);
    });
  };
  const startClaimed = (runId: string) => {
    if (!pending.has(runId)) return;
    clearTimeout(pending.get(runId));
    pending.delete(runId);
    drive(runId);
  };

  return {
    workerId,
    engine,
    start(runId) {
      if (pending.has(runId)) {
        startClaimed(runId);
        return true;
      }
      const timer = accepted.get(runId);
      if (timer) {
        // Committed: it waits here for a slot of its workflow (its job is deferred).
        clearTimeout(timer);
        accepted.delete(runId);
        const wf = workflowOf.get(runId)!;
        backlog.set(wf, [...(backlog.get(wf) ?? []), runId]);
        backlogSize++;
        if (localOf(wf) === 0 || busySlots() < opts.slots) drainLater(wf);
        return false;
      }
      return queued.delete(runId) ? false : undefined;
    },
    settled(runId) {
      const drive = held.get(runId);
      if (drive || !waitingHere(runId)) return drive;
      return new Promise<Promise<RunOutcome | undefined> | undefined>((resolve) =>
        awaited.set(runId, [...(awaited.get(runId) ?? []), resolve]),
      ).then((d) => d);
    },
    inFlight: () => [...held.keys()],
    waiting: () => [...backlog.values()].flat(),
    leaseLosses: () => losses,
    // Concurrent, so each takes a session of its own.
    warm: async () => void (await Promise.all(Array.from({ length: KEPT_SESSIONS }, () => store.warm()))),
    sessions: () => pool.totalCount,
    async close(graceMs = SHUTDOWN_GRACE_MS) {
      closing = true;
      // What waits here goes to the workers now, not when its deferred job comes due.
      await Promise.all([...backlog.keys()].map((wf) => drain(wf).catch(() => {})));
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
      for (const t of accepted.values()) clearTimeout(t);
      await store.flush().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}
