import type { RunOutcome } from '@/lib/engine/engine';
import type { EngineEvent } from '@/lib/engine/events';
import { TERMINAL_RUN_STATUSES } from '@/lib/engine/trace-store';

// Fans engine events out to SSE subscribers of one run. Subscribers that are slow simply miss
// nothing: the SSE handler sends a snapshot first and events after, and the browser can reload.

type Listener = (ev: EngineEvent) => void;

/**
 * Server mode: run.finished outcomes the web process keeps for callers that start waiting after the
 * event came (a worker can finish a short run between the run's commit and the webhook's
 * subscription). Events there arrive by NOTIFY, so each is under MAX_EVENT_PAYLOAD_BYTES: at most
 * ~1.8 MB. The race lasts a few milliseconds; the oldest outcome goes first.
 */
export const RECENT_FINISHES_KEPT = 256;

export class RunEventHub {
  private readonly byRun = new Map<string, Set<Listener>>();
  private readonly finishes = new Map<string, RunOutcome>();

  /** `keepFinished`: how many recent run.finished outcomes finished() can answer (0: none). */
  constructor(private readonly keepFinished = 0) {}

  publish(ev: EngineEvent): void {
    // Only final outcomes: a parked run (waiting) changes again when it is resumed.
    if (
      this.keepFinished > 0 &&
      ev.type === 'run.finished' &&
      !('truncated' in ev) &&
      TERMINAL_RUN_STATUSES.includes(ev.status)
    ) {
      this.finishes.delete(ev.runId);
      this.finishes.set(ev.runId, {
        runId: ev.runId,
        status: ev.status,
        output: ev.output ?? null,
        error: ev.error ?? null,
      });
      if (this.finishes.size > this.keepFinished) this.finishes.delete(this.finishes.keys().next().value!);
    }
    const set = this.byRun.get(ev.runId);
    if (!set) return;
    for (const l of set) {
      try {
        l(ev);
      } catch {
        // a closed stream must not break the engine
      }
    }
  }

  /** The outcome of a run whose run.finished this hub received lately (see RECENT_FINISHES_KEPT). */
  finished(runId: string): RunOutcome | undefined {
    return this.finishes.get(runId);
  }

  subscribe(runId: string, listener: Listener): () => void {
    let set = this.byRun.get(runId);
    if (!set) this.byRun.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byRun.delete(runId);
    };
  }
}
