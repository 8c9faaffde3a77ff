import type { PgBoss } from 'pg-boss';
import type { Engine, RunOutcome } from '@/lib/engine/engine';
import type { EngineEvent } from '@/lib/engine/events';
import type { RunStatus } from '@/lib/engine/trace-store';
import type { SqlQueryable } from '@/lib/db/sql-executor';
import { TrellisError } from '@/lib/workflow/errors';
import { RUN_QUEUE, workflowConcurrency } from '@/lib/queue/limits';
import type { LocalRuns } from '@/lib/queue/local-runs';
import {
  queueStats,
  runJobGroup,
  waitForRunToStop,
  workflowOfRun,
  type QueueStats,
} from '@/lib/queue/run-queue';

// Who executes a queued run.
// - In-process (embedded mode): the web process runs the engine itself; parked delays are woken
//   by a timer, and recover() picks up what a previous process left. Only one process may open
//   the PGlite folder, so there is nobody to share a queue with.
// - Queue (server mode): the run's job is already written with the run row (lib/queue/run-queue.ts);
//   `trellis worker` processes execute it. Without a worker, runs wait in the queue (stats()).

export interface Dispatcher {
  /**
   * A run row exists in `queued`: start executing it when its workflow has a free slot
   * (workflowConcurrency()); until then it stays `queued`, in order. workflowId is looked up when
   * not given (null: a run of no saved workflow, never held).
   */
  enqueue(runId: string, workflowId?: string | null): Promise<void>;
  /** A waiting run got its decision (approval) or its delay came due: continue it. */
  resume(runId: string): Promise<void>;
  /** Pick up runs a previous process left queued or running. */
  recover(): Promise<void>;
  /** Wait for one run's current execution (tests, `wait: true`). */
  settled(runId: string): Promise<RunOutcome | undefined>;
  /**
   * Runs of a workflow accepted here and waiting for a slot: in process (embedded mode) this is
   * the workflow's whole backlog, so the webhook need not count it in the database. Undefined
   * where the backlog lives in the database (the queue).
   */
  backlog?(workflowId: string): number;
  /** Where runs go and who takes them (GET /api/health). */
  stats?(): Promise<DispatcherStats>;
  close?(): Promise<void>;
}

export interface DispatcherStats extends Partial<QueueStats> {
  mode: 'in-process' | 'queue';
  /** Server mode: runs the web process drives itself right now (their jobs wait deferred in `queued`). */
  inWeb?: number;
}

/** Longest timer we arm; longer delays are re-checked when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * In process, a drive that rejects (the engine could not read what the run needs: its host's
 * failure, not the run's) is tried again this many times, RETRY_DRIVE_MS × 2^n apart; after that
 * the run waits for the next start's recover(). A worker's job gets the same from pg-boss.
 */
export const RETRY_DRIVE_TIMES = 5;
export const RETRY_DRIVE_MS = 500;

export interface InProcessDispatcherDeps {
  /** Runs in the given statuses, oldest first. */
  listRuns: (statuses: RunStatus[]) => Promise<{ id: string; workflowId: string | null }[]>;
  workflowOf: (runId: string) => Promise<string | null>;
  /** Runs of one workflow executing at once; default workflowConcurrency(). */
  concurrency?: number;
  /** First pause before a rejected drive is tried again (RETRY_DRIVE_MS; tests shorten it). */
  retryDriveMs?: number;
}

/** FIFO slots per key: acquire() resolves in call order once fewer than `limit` are held. */
export function createSlots(limit: number) {
  const groups = new Map<string, { held: number; waiters: (() => void)[] }>();
  return {
    acquire(key: string): Promise<() => void> {
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { held: 0, waiters: [] }));
      const group = g;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const next = group.waiters.shift();
        if (next)
          next(); // the slot passes on without ever being free, so order holds
        else if (--group.held === 0) groups.delete(key);
      };
      if (group.held < limit) {
        group.held++;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => group.waiters.push(() => resolve(release)));
    },
    /** Held slots and waiters of one key (tests, stats). */
    usage(key: string) {
      const g = groups.get(key);
      return { held: g?.held ?? 0, waiting: g?.waiters.length ?? 0 };
    },
  };
}

export function createInProcessDispatcher(engine: Engine, deps: InProcessDispatcherDeps): Dispatcher {
  const inFlight = new Map<string, Promise<RunOutcome | undefined>>();
  const slots = createSlots(deps.concurrency ?? workflowConcurrency());
  let queued = 0;

  const retryMs = deps.retryDriveMs ?? RETRY_DRIVE_MS;
  const track = (runId: string, work: () => Promise<RunOutcome>, failures = 0) => {
    const p = work()
      .then((out) => {
        if (out.status === 'waiting' && out.wakeAt) {
          const t = setTimeout(
            () => void dispatcher.resume(runId),
            Math.min(MAX_TIMER_MS, Math.max(0, out.wakeAt - Date.now())),
          );
          t.unref?.();
        }
        return out;
      })
      .catch((err) => {
        // A TrellisError is the engine's answer about the run itself (a conflict: it is driven
        // already, or not resumable; not found): trying again would get the same answer.
        const again = failures < RETRY_DRIVE_TIMES && !(err instanceof TrellisError);
        console.error(`[trellis] run ${runId} could not be driven${again ? '; trying again' : ''}`, err);
        if (again) {
          // The drive left the run `running` with nothing written for it: a resume continues it.
          const t = setTimeout(
            () => void track(runId, () => engine.resumeRun(runId), failures + 1),
            retryMs * 2 ** failures,
          );
          t.unref?.();
        }
        return undefined;
      })
      .finally(() => {
        if (inFlight.get(runId) === p) inFlight.delete(runId);
      });
    inFlight.set(runId, p);
    return p;
  };

  // The slot is taken synchronously in enqueue's call order (the workflow id is known by then), so
  // runs start in the order they were accepted; it is given back when the run finishes or parks.
  const execute = (runId: string, workflowId: string | null) => {
    if (workflowId === null) return void track(runId, () => engine.executeRun(runId));
    const slot = slots.acquire(workflowId);
    queued++;
    void track(runId, async () => {
      const release = await slot;
      queued--;
      try {
        return await engine.executeRun(runId);
      } finally {
        release();
      }
    });
  };

  const dispatcher: Dispatcher = {
    async enqueue(runId, workflowId) {
      execute(runId, workflowId === undefined ? await deps.workflowOf(runId) : workflowId);
    },
    async resume(runId) {
      const prior = inFlight.get(runId);
      if (prior) await prior;
      void track(runId, () => engine.resumeRun(runId));
    },
    async recover() {
      for (const r of await deps.listRuns(['queued'])) execute(r.id, r.workflowId);
      for (const r of await deps.listRuns(['running'])) void dispatcher.resume(r.id);
      // Parked runs lost their timers with the previous process: resuming one whose delay is not
      // due (or whose approval is undecided) just parks it again, with a fresh timer.
      for (const r of await deps.listRuns(['waiting'])) void dispatcher.resume(r.id);
    },
    async settled(runId) {
      return inFlight.get(runId);
    },
    backlog: (workflowId) => slots.usage(workflowId).waiting,
    async stats() {
      return { mode: 'in-process', active: inFlight.size - queued, queued };
    },
  };
  return dispatcher;
}

export interface QueueDispatcherDeps {
  boss: PgBoss;
  sql: SqlQueryable;
  /** Run ids whose job was written with the run row in this process (enqueue skips the round trip). */
  sentWithRun: Set<string>;
  readOutcome: (runId: string) => Promise<RunOutcome | null>;
  subscribe: (runId: string, l: (ev: EngineEvent) => void) => () => void;
  /** Outcomes of runs whose run.finished already came (RunEventHub.finished). */
  recent?: (runId: string) => RunOutcome | undefined;
  /** Runs this process claimed when it wrote them, and drives itself (lib/queue/local-runs.ts). */
  local?: Pick<LocalRuns, 'start' | 'settled' | 'inFlight' | 'close'>;
}

export function createQueueDispatcher(deps: QueueDispatcherDeps): Dispatcher {
  const { boss } = deps;
  return {
    async enqueue(runId, workflowId) {
      // Claimed here (it starts now) or sent to the queue with the run row: nothing to send.
      if (deps.local?.start(runId) !== undefined) return;
      if (deps.sentWithRun.delete(runId)) return;
      const wf = workflowId === undefined ? await workflowOfRun(deps.sql, runId) : workflowId;
      // Same id as the run: a second insert of the job is ignored.
      await boss.send(RUN_QUEUE, { runId }, { id: runId, ...runJobGroup(wf) });
    },
    async resume(runId) {
      // No group: a run that already started does not queue again behind new ones.
      await boss.send(RUN_QUEUE, { runId });
    },
    async recover() {
      // Workers recover: dead workers' jobs come back through pg-boss heartbeats.
    },
    async settled(runId) {
      // A run lost here (lease, hand-over) finishes elsewhere: then its events tell.
      const here = await deps.local?.settled(runId);
      return here ?? waitForRunToStop(deps.readOutcome, deps.subscribe, runId, undefined, deps.recent);
    },
    async stats() {
      const inWeb = deps.local?.inFlight().length;
      return { mode: 'queue', ...(await queueStats(deps.sql)), ...(inWeb === undefined ? {} : { inWeb }) };
    },
    async close() {
      await deps.local?.close();
      await boss.stop({ graceful: false, close: true, timeout: 2_000 }).catch(() => {});
    },
  };
}
