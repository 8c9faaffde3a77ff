import type { SqlQueryable } from '@/lib/db/sql-executor';
import { LEASE_RENEW_MS, RUN_LEASE_MS, WORKER_IDLE_TRANSACTION_MS } from './limits';

// Fencing: a worker that lost a run's lease stops, and cannot commit a step or finish the run.
// Every connection of a worker process carries its identity as the session setting
// `trellis.worker` (a startup option in its DATABASE_URL), and triggers (the migration
// 20261129230000_commit_time_fence) compare it with the top-level run's "leaseOwner": a Step or
// AgentTurn row of a run leased by another worker fails its transaction's COMMIT (a deferred
// constraint trigger that locks the lease row, so no takeover fits between the check and the
// commit), and a Run status or output change by a non-owner RAISEs at once; both say
// `trellis_lease_lost`. The raise is loud on purpose: the stale worker's engine learns it lost the
// run (the trace store splits a failed batch per run, so only that run's rows are refused and the
// worker's other runs commit), and the worker drops the run.
// Before that, two checks stop a stale worker before its next side effect: the renew timer aborts
// the run's signal when a renewal finds the lease gone (worker.ts), and the worker's trace store
// checks the lease before every step with an outside effect (durable-store.ts, assertLease).
// Worker sessions also end any transaction left idle for WORKER_IDLE_TRANSACTION_MS (shorter than
// what is left of a lease after its last renewal), so a paused worker never holds a lock on a run
// row that the next owner's claim would wait for.
// Sessions without the setting (the web process: cancels, approvals) are never fenced, and neither
// are runs whose top-level run has no owner (runs never taken by a worker). The owner is left in
// place when a worker is done, so a worker that wakes up late still finds someone else's name there.
// The owner's name is the lease's epoch: it is unique per process, and one process drives a run at
// most once at a time (worker.ts waits for its earlier drive) through one trace store whose writes
// are serialized, so an owner that comes back to a run finds its own earlier writes settled.

export const WORKER_SETTING = 'trellis.worker';
export const LEASE_LOST = 'trellis_lease_lost';

/** Thrown (and raised by the triggers) when this worker no longer holds the run's lease. */
export class LeaseLost extends Error {
  constructor(runId: string, detail = 'the lease was lost') {
    super(`${LEASE_LOST}: run ${runId}: ${detail}`);
    this.name = 'LeaseLost';
  }
}

export const isLeaseLost = (err: unknown): boolean =>
  String((err as Error)?.message ?? err).includes(LEASE_LOST) ||
  ((err as { cause?: unknown })?.cause !== undefined && isLeaseLost((err as { cause: unknown }).cause));

/**
 * Whether `workerId` still holds a live lease on the run's top-level run (a child run is driven
 * inside its root's lease). A run nobody ever leased (no worker involved) passes.
 */
export async function assertLease(sql: SqlQueryable, runId: string, workerId: string): Promise<void> {
  const rows = await sql.query<{ leaseOwner: string | null; live: boolean }>(
    `WITH RECURSIVE up AS (
       SELECT id, "parentRunId", "leaseOwner", "leaseUntil" FROM "Run" WHERE id = $1
       UNION ALL
       SELECT r.id, r."parentRunId", r."leaseOwner", r."leaseUntil" FROM "Run" r JOIN up ON r.id = up."parentRunId"
     )
     SELECT "leaseOwner", COALESCE("leaseUntil" > now(), false) AS live FROM up WHERE "parentRunId" IS NULL`,
    [runId],
  );
  const root = rows[0];
  if (!root || root.leaseOwner === null) return;
  if (root.leaseOwner !== workerId) throw new LeaseLost(runId, `now leased by ${root.leaseOwner}`);
  if (!root.live) throw new LeaseLost(runId, 'the lease ran out');
}

/**
 * The worker's DATABASE_URL: the same database, with the worker id set on every session and idle
 * transactions ended after `idleTransactionMs`.
 */
export function workerDatabaseUrl(
  databaseUrl: string,
  workerId: string,
  idleTransactionMs = WORKER_IDLE_TRANSACTION_MS,
): string {
  if (!/^[A-Za-z0-9_.:-]+$/.test(workerId)) throw new Error(`bad worker id ${workerId}`);
  const url = new URL(databaseUrl);
  const prior = url.searchParams.get('options');
  const mine = `-c ${WORKER_SETTING}=${workerId} -c idle_in_transaction_session_timeout=${Math.round(idleTransactionMs)}`;
  url.searchParams.set('options', `${prior ? `${prior} ` : ''}${mine}`);
  return url.toString();
}

export type ClaimResult =
  | { claimed: true; status: string }
  | {
      claimed: false;
      status: string | null;
      leaseOwner?: string | null;
      leaseUntil?: Date | null;
      /** A queued run whose workflow has every slot taken: try again when one frees. */
      full?: boolean;
    };

/**
 * Takes a queued top-level run only while fewer than `limit` runs of its workflow hold a live
 * lease (claimed or running) and no job of the workflow fetched before this one still waits for a
 * slot; else `full`. Other runs: as claimRun. pg-boss's group concurrency fetches at most `limit`
 * jobs per workflow, oldest first, but two fetches at the same instant can both see a free slot;
 * this count, serialized per workflow by an advisory lock, makes the limit exact across loops and
 * workers, and the "fetched before" rule keeps the runs that won such a race in their order.
 * One round trip: the steps are the function `trellis_claim_run_slot` (migration
 * 20261130014000_claim_run_slot), which is on the path of every run.
 */
export async function claimRunSlot(
  sql: SqlQueryable,
  job: { id: string; name: string },
  runId: string,
  workerId: string,
  limit: number,
): Promise<ClaimResult> {
  const [row] = await sql.query<{
    claimed: boolean;
    run_status: string | null;
    lease_owner: string | null;
    lease_until: Date | null;
    slots_full: boolean;
  }>(`SELECT * FROM trellis_claim_run_slot($1, $2, $3::uuid, $4, $5, $6)`, [
    runId,
    job.name,
    job.id,
    workerId,
    limit,
    RUN_LEASE_MS,
  ]);
  if (!row) return { claimed: false, status: null };
  if (row.claimed) return { claimed: true, status: row.run_status! };
  if (row.slots_full) return { claimed: false, status: row.run_status, full: true };
  return { claimed: false, status: row.run_status, leaseOwner: row.lease_owner, leaseUntil: row.lease_until };
}

/** Takes the run unless another worker's lease is still live. */
export async function claimRun(sql: SqlQueryable, runId: string, workerId: string): Promise<ClaimResult> {
  const rows = await sql.query<{ status: string }>(
    `UPDATE "Run" SET "leaseOwner" = $2, "leaseUntil" = now() + $3 * interval '1 millisecond'
      WHERE id = $1 AND ("leaseOwner" IS NULL OR "leaseOwner" = $2 OR "leaseUntil" IS NULL OR "leaseUntil" < now())
      RETURNING status`,
    [runId, workerId, RUN_LEASE_MS],
  );
  if (rows[0]) return { claimed: true, status: rows[0].status };
  const cur = await sql.query<{ status: string; leaseOwner: string | null; leaseUntil: Date | null }>(
    `SELECT status, "leaseOwner", "leaseUntil" FROM "Run" WHERE id = $1`,
    [runId],
  );
  return cur[0] ? { claimed: false, ...cur[0] } : { claimed: false, status: null };
}

export async function renewLeases(sql: SqlQueryable, runIds: string[], workerId: string): Promise<string[]> {
  if (!runIds.length) return [];
  const rows = await sql.query<{ id: string }>(
    `UPDATE "Run" SET "leaseUntil" = now() + $3 * interval '1 millisecond'
      WHERE id = ANY($1::text[]) AND "leaseOwner" = $2 RETURNING id`,
    [runIds, workerId, RUN_LEASE_MS],
  );
  return rows.map((r) => r.id);
}

/**
 * Renews the leases of the runs in `held` every LEASE_RENEW_MS; `onLost(runId)` for each one whose
 * renewal found the lease gone (the process was paused or cut off past it: someone else owns the
 * run now). A failed renewal is tried again next time: the lease outlasts several renewals.
 */
export function keepLeases(
  sql: SqlQueryable,
  workerId: string,
  held: { keys(): Iterable<string>; has(runId: string): boolean },
  onLost: (runId: string) => void,
): () => void {
  const timer = setInterval(() => {
    const ids = [...held.keys()];
    renewLeases(sql, ids, workerId).then(
      (kept) => {
        for (const id of ids) if (!kept.includes(id) && held.has(id)) onLost(id);
      },
      () => {},
    );
  }, LEASE_RENEW_MS);
  timer.unref?.();
  return () => clearInterval(timer);
}

/** Done with the run for now: the lease ends, the owner's name stays (see above). */
export async function endLease(sql: SqlQueryable, runId: string, workerId: string): Promise<void> {
  await sql.query(`UPDATE "Run" SET "leaseUntil" = NULL WHERE id = $1 AND "leaseOwner" = $2`, [
    runId,
    workerId,
  ]);
}

/** Hand a run over (shutdown): fences this worker's late writes and lets the next claim in at once. */
export async function releaseLease(sql: SqlQueryable, runId: string, workerId: string): Promise<void> {
  await sql.query(
    `UPDATE "Run" SET "leaseOwner" = $3, "leaseUntil" = NULL WHERE id = $1 AND "leaseOwner" = $2`,
    [runId, workerId, `released:${workerId}`],
  );
}
