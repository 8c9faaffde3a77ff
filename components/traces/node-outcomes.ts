import { stepOutcome } from './run-status';
import type { StepSummary } from './types';

// Per top-level node: the outcome of its latest attempt, how many attempts it took, its map
// items, and the step to open when the node is clicked on the canvas.

export interface NodeOutcome {
  outcome: string;
  attempts: number;
  lastStepId: string;
  durationMs: number | null;
  items: number;
  failedItems: number;
}

export function nodeOutcomes(steps: StepSummary[]): Map<string, NodeOutcome> {
  const out = new Map<string, NodeOutcome>();
  const last = new Map<string, StepSummary>();
  const attempts = new Map<string, Set<number>>();
  const items = new Map<string, Map<number, StepSummary>>();
  for (const s of steps) {
    if (s.parentNodeId) {
      const byItem = items.get(s.parentNodeId) ?? new Map<number, StepSummary>();
      const idx = s.itemIndex ?? -1;
      const prev = byItem.get(idx);
      if (!prev || s.startedAt >= prev.startedAt) byItem.set(idx, s);
      items.set(s.parentNodeId, byItem);
      continue;
    }
    const prev = last.get(s.nodeId);
    if (!prev || s.attempt > prev.attempt || (s.attempt === prev.attempt && s.startedAt >= prev.startedAt))
      last.set(s.nodeId, s);
    const a = attempts.get(s.nodeId) ?? new Set<number>();
    a.add(s.attempt);
    attempts.set(s.nodeId, a);
  }
  for (const [nodeId, s] of last) {
    const byItem = items.get(nodeId);
    let failedItems = 0;
    if (byItem) for (const it of byItem.values()) if (it.status === 'failed') failedItems++;
    out.set(nodeId, {
      outcome: stepOutcome(s),
      attempts: attempts.get(nodeId)?.size ?? 1,
      lastStepId: s.id,
      durationMs: s.durationMs ?? (s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : null),
      items: byItem?.size ?? 0,
      failedItems,
    });
  }
  return out;
}

/** The attempts of one node (or one map item), oldest first. */
export function attemptsOf(steps: StepSummary[], of: StepSummary): StepSummary[] {
  return steps
    .filter(
      (s) =>
        s.nodeId === of.nodeId &&
        (s.parentNodeId ?? null) === (of.parentNodeId ?? null) &&
        (s.itemIndex ?? null) === (of.itemIndex ?? null),
    )
    .sort((a, b) => a.attempt - b.attempt || a.startedAt.localeCompare(b.startedAt));
}
