import type { PgBoss } from 'pg-boss';
import type { SqlQueryable } from '@/lib/db/sql-executor';
import type { NewRun } from '@/lib/db/sql-trace-store';
import type { RunOutcome } from '@/lib/engine/engine';
import type { EngineEvent } from '@/lib/engine/events';
import { TERMINAL_RUN_STATUSES, type RunRecord, type RunStatus } from '@/lib/engine/trace-store';
import { txDatabase } from './boss';
import { RUN_QUEUE } from './limits';

// The producer side. A run and its job are written in one transaction (SqlTraceStore's
// onRunCreated hook), with the job id equal to the run id, so a later enqueue(runId) is a no-op
// insert and there is never a queued run without a job or a job without a run.
// Not in that transaction: child runs (driven inline by their parent) and reruns (their reused
// steps are copied after the run row, and a worker must not start before they are there; the
// API enqueues those afterwards).

/** Whether a new run gets its job in the run row's transaction. */
export function enqueuesOnCreate(run: Pick<RunRecord, 'parentRunId' | 'trigger' | 'status'>): boolean {
  return run.status === 'queued' && !run.parentRunId && !run.trigger.startsWith('rerun:');
}

/**
 * The pg-boss group of a run's first job: workers fetch at most workflowConcurrency() active jobs
 * per group (pg-boss `groupConcurrency`, counted in the database across workers), oldest first, so
 * the rest of a burst stays `queued` in order. Runs of no saved workflow are not grouped.
 */
export function runJobGroup(workflowId: string | null | undefined) {
  return workflowId ? { group: { id: workflowId } } : {};
}

export async function workflowOfRun(sql: SqlQueryable, runId: string): Promise<string | null> {
  const rows = await sql.query<{ workflowId: string | null }>(
    `SELECT "workflowId" FROM "Run" WHERE id = $1`,
    [runId],
  );
  return rows[0]?.workflowId ?? null;
}

/**
 * The first job of a new run, in the transaction `tx` that wrote the run. `startAfterSeconds`
 * defers it (counted on the database's clock): a run driven where it was accepted keeps its job
 * only for recovery (local-runs.ts).
 */
export async function sendRunJob(
  boss: PgBoss,
  tx: SqlQueryable,
  run: Pick<RunRecord, 'id' | 'workflowId'>,
  startAfterSeconds?: number,
): Promise<void> {
  await boss.send(
    RUN_QUEUE,
    { runId: run.id },
    {
      id: run.id,
      db: txDatabase(tx),
      ...runJobGroup(run.workflowId),
      ...(startAfterSeconds === undefined ? {} : { startAfter: startAfterSeconds }),
    },
  );
}

export function runJobHook(boss: PgBoss, sent?: Set<string>) {
  return async (tx: SqlQueryable, run: NewRun) => {
    if (!enqueuesOnCreate(run)) return;
    await sendRunJob(boss, tx, run);
    sent?.add(run.id);
  };
}

export interface QueueStats {
  /** Jobs ready or deferred (parked delays) in the run queue. */
  queued: number;
  active: number;
  /** Worker processes that sent a heartbeat recently. */
  workers: number;
}

export async function queueStats(sql: SqlQueryable): Promise<QueueStats> {
  // Both at once: /api/health waits for this.
  const [[jobs], [inst]] = await Promise.all([
    sql.query<{ queued: number; active: number }>(
      `SELECT count(*) FILTER (WHERE state IN ('created', 'retry'))::int AS queued,
              count(*) FILTER (WHERE state = 'active')::int AS active
         FROM pgboss.job WHERE name = $1`,
      [RUN_QUEUE],
    ),
    sql
      .query<{ workers: number }>(
        `SELECT count(*)::int AS workers FROM pgboss.instance
          WHERE name = 'trellis-worker' AND stopped_on IS NULL
            AND heartbeat_on > now() - heartbeat_seconds * 3 * interval '1 second'`,
      )
      .catch(() => [{ workers: 0 }]),
  ]);
  return { queued: jobs?.queued ?? 0, active: jobs?.active ?? 0, workers: inst?.workers ?? 0 };
}

/**
 * Resolves when the run stops (finished or parked): events first, polling as the backstop.
 * `recent` answers from run.finished events this process already received (a worker can finish a
 * short run before the caller subscribes); the run is read from the database only after `pollMs`
 * without an answer (a lost NOTIFY, a listener reconnecting, a run parked without an event), not at
 * once: a webhook that answers after its run costs no read on the usual path.
 */
export function waitForRunToStop(
  readStatus: (runId: string) => Promise<RunOutcome | null>,
  subscribe: (runId: string, l: (ev: EngineEvent) => void) => () => void,
  runId: string,
  pollMs = 250,
  recent: (runId: string) => RunOutcome | undefined = () => undefined,
): Promise<RunOutcome | undefined> {
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (out: RunOutcome | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      resolve(out);
    };
    const check = async () => {
      if (done) return;
      const out = await readStatus(runId).catch(() => null);
      if (!out) return finish(undefined);
      const s = out.status as RunStatus;
      if (TERMINAL_RUN_STATUSES.includes(s) || s === 'waiting') return finish(out);
      timer = setTimeout(() => void check(), pollMs);
    };
    const unsubscribe = subscribe(runId, (ev) => {
      if (ev.type !== 'run.finished') return;
      // The event carries the outcome the worker committed before sending it; only one that was
      // cut to fit a NOTIFY (encodeEvent) is read back from the store.
      if (!('truncated' in ev) && ev.status !== 'running')
        return finish({ runId, status: ev.status, output: ev.output ?? null, error: ev.error ?? null });
      void readStatus(runId).then((o) => o && o.status !== 'running' && finish(o));
    });
    const known = recent(runId);
    if (known) return finish(known);
    timer = setTimeout(() => void check(), pollMs);
  });
}
