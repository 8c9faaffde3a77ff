import type { EngineEvent } from '@/lib/engine/events';

// Fans engine events out to SSE subscribers of one run. Subscribers that are slow simply miss
// nothing: the SSE handler sends a snapshot first and events after, and the browser can reload.

type Listener = (ev: EngineEvent) => void;

export class RunEventHub {
  private readonly byRun = new Map<string, Set<Listener>>();

  publish(ev: EngineEvent): void {
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
