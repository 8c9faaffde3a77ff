'use client';
import { useSyncExternalStore } from 'react';
import type { RunNodeStatus } from './types';

// Live run status and problem counts per node id, outside React Flow's node data: an SSE event
// or a validation pass re-renders only the nodes whose slice changed (STYLE.md §6).
type Listener = () => void;

export interface NodeSlice {
  status?: RunNodeStatus;
  mode?: string;
  stepId?: string;
  /** Why the step failed, for the card's tooltip (set while its status is `failed`). */
  error?: string;
  problems: number;
  /** Every problem of the node is a warning (amber, still valid), none an error. */
  warningsOnly?: boolean;
}

const EMPTY: NodeSlice = { problems: 0 };

class NodeStatusStore {
  private byNode = new Map<string, NodeSlice>();
  private listeners = new Map<string, Set<Listener>>();
  private all = new Set<Listener>();
  private version = 0;

  get(id: string): NodeSlice {
    return this.byNode.get(id) ?? EMPTY;
  }
  getVersion = () => this.version;

  private set(id: string, next: NodeSlice) {
    this.byNode.set(id, next);
    this.listeners.get(id)?.forEach((l) => l());
  }
  private bump() {
    this.version++;
    this.all.forEach((l) => l());
  }

  setStatus(
    id: string,
    status: RunNodeStatus | undefined,
    extra: { mode?: string; stepId?: string; error?: string } = {},
  ) {
    const { error: _previous, ...cur } = this.get(id);
    this.set(id, {
      ...cur,
      status,
      ...(extra.mode ? { mode: extra.mode } : {}),
      ...(extra.stepId ? { stepId: extra.stepId } : {}),
      ...(status === 'failed' && (extra.error ?? _previous) ? { error: extra.error ?? _previous } : {}),
    });
    this.bump();
  }

  /** Forget the previous run; `ids` start in `status` (e.g. every node queued). */
  resetRun(ids: Iterable<string>, status?: RunNodeStatus) {
    for (const [id, s] of this.byNode)
      if (s.status || s.stepId || s.error) this.set(id, { problems: s.problems });
    if (status) for (const id of ids) this.set(id, { problems: this.get(id).problems, status });
    this.bump();
  }

  setProblems(counts: Map<string, number>, warningsOnly: ReadonlySet<string> = new Set()) {
    const ids = new Set([...this.byNode.keys(), ...counts.keys()]);
    let changed = false;
    for (const id of ids) {
      const n = counts.get(id) ?? 0;
      const w = n > 0 && warningsOnly.has(id);
      const cur = this.get(id);
      if (cur.problems !== n || !!cur.warningsOnly !== w) {
        this.set(id, { ...cur, problems: n, warningsOnly: w });
        changed = true;
      }
    }
    if (changed) this.bump();
  }

  subscribe(id: string, l: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(l);
    return () => set!.delete(l);
  }
  subscribeAll = (l: Listener): (() => void) => {
    this.all.add(l);
    return () => this.all.delete(l);
  };
}

export const nodeStatusStore = new NodeStatusStore();

export function useNodeSlice(id: string): NodeSlice {
  return useSyncExternalStore(
    (l) => nodeStatusStore.subscribe(id, l),
    () => nodeStatusStore.get(id),
    () => EMPTY,
  );
}

/** Re-render on any status change (run summary bar, config panel's last-run section). */
export function useStatusVersion(): number {
  return useSyncExternalStore(nodeStatusStore.subscribeAll, nodeStatusStore.getVersion, () => 0);
}
