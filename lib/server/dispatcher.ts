import type { Engine, RunOutcome } from '@/lib/engine/engine';
import type { RunStatus } from '@/lib/engine/trace-store';

// Who executes a queued run. In-process: the web process runs the engine itself (embedded mode,
// and server mode until a queue worker takes over). Parked delays are woken by a timer here.

export interface Dispatcher {
  /** A run row exists in `queued`: start executing it. */
  enqueue(runId: string): Promise<void>;
  /** A waiting run got its decision (approval) or its delay came due: continue it. */
  resume(runId: string): Promise<void>;
  /** Pick up runs a previous process left queued or running. */
  recover(): Promise<void>;
  /** Wait for one run's current execution (tests, `wait: true`). */
  settled(runId: string): Promise<RunOutcome | undefined>;
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
          const t = setTimeout(() => void dispatcher.resume(runId), Math.min(MAX_TIMER_MS, Math.max(0, out.wakeAt - Date.now())));
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
    },
    async settled(runId) {
      return inFlight.get(runId);
    },
  };
  return dispatcher;
}
