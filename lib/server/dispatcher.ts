import type { PgBoss } from 'pg-boss';
import type { Engine, RunOutcome } from '@/lib/engine/engine';
import type { EngineEvent } from '@/lib/engine/events';
import type { RunStatus } from '@/lib/engine/trace-store';
import type { SqlQueryable } from '@/lib/db/sql-executor';
import { RUN_QUEUE } from '@/lib/queue/limits';
import { queueStats, waitForRunToStop, type QueueStats } from '@/lib/queue/run-queue';

// Who executes a queued run.
// - In-process (embedded mode): the web process runs the engine itself; parked delays are woken
//   by a timer, and recover() picks up what a previous process left. Only one process may open
//   the PGlite folder, so there is nobody to share a queue with.
// - Queue (server mode): the run's job is already written with the run row (lib/queue/run-queue.ts);
//   `trellis worker` processes execute it. Without a worker, runs wait in the queue (stats()).

export interface Dispatcher {
  /** A run row exists in `queued`: start executing it. */
  enqueue(runId: string): Promise<void>;
  /** A waiting run got its decision (approval) or its delay came due: continue it. */
  resume(runId: string): Promise<void>;
  /** Pick up runs a previous process left queued or running. */
  recover(): Promise<void>;
  /** Wait for one run's current execution (tests, `wait: true`). */
  settled(runId: string): Promise<RunOutcome | undefined>;
  /** Where runs go and who takes them (GET /api/health). */
  stats?(): Promise<DispatcherStats>;
  close?(): Promise<void>;
}

export interface DispatcherStats extends Partial<QueueStats> {
  mode: 'in-process' | 'queue';
}

/** Longest timer we arm; longer delays are re-checked when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createInProcessDispatcher(
  engine: Engine,
  listRunIds: (statuses: RunStatus[]) => Promise<string[]>,
): Dispatcher {
  const inFlight = new Map<string, Promise<RunOutcome | undefined>>();

  const track = (runId: string, work: () => Promise<RunOutcome>) => {
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
        console.error(`[trellis] run ${runId} failed to execute`, err);
        return undefined;
      })
      .finally(() => {
        if (inFlight.get(runId) === p) inFlight.delete(runId);
      });
    inFlight.set(runId, p);
    return p;
  };

  const dispatcher: Dispatcher = {
    async enqueue(runId) {
      void track(runId, () => engine.executeRun(runId));
    },
    async resume(runId) {
      const prior = inFlight.get(runId);
      if (prior) await prior;
      void track(runId, () => engine.resumeRun(runId));
    },
    async recover() {
      for (const id of await listRunIds(['queued'])) void dispatcher.enqueue(id);
      for (const id of await listRunIds(['running'])) void dispatcher.resume(id);
      // Parked runs lost their timers with the previous process: resuming one whose delay is not
      // due (or whose approval is undecided) just parks it again, with a fresh timer.
      for (const id of await listRunIds(['waiting'])) void dispatcher.resume(id);
    },
    async settled(runId) {
      return inFlight.get(runId);
    },
    async stats() {
      return { mode: 'in-process', active: inFlight.size };
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
}

export function createQueueDispatcher(deps: QueueDispatcherDeps): Dispatcher {
  const { boss } = deps;
  return {
    async enqueue(runId) {
      if (deps.sentWithRun.delete(runId)) return;
      // Same id as the run: a second insert of the job is ignored.
      await boss.send(RUN_QUEUE, { runId }, { id: runId });
    },
    async resume(runId) {
      await boss.send(RUN_QUEUE, { runId });
    },
    async recover() {
      // Workers recover: dead workers' jobs come back through pg-boss heartbeats.
    },
    settled: (runId) => waitForRunToStop(deps.readOutcome, deps.subscribe, runId),
    async stats() {
      return { mode: 'queue', ...(await queueStats(deps.sql)) };
    },
    async close() {
      await boss.stop({ graceful: false, close: true, timeout: 2_000 }).catch(() => {});
    },
  };
}
