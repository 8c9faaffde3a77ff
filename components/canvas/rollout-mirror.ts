import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { splitMeta, toDefinition, toFlow } from './convert';
import type { FlowNode, StepFlowNode } from './types';

// A Promotion-tab action (stage change, kill switch, promote/demote, graduation to a deterministic
// step) saves a new version on the server. The editor takes over the fields that version changed
// (of mode, agent, type, config; only those, so an unsaved edit of another field stays): into the
// document, so the canvas shows them and the next save keeps them, and, when the version was
// derived from the editor's own base, into the saved snapshot too (not "unsaved changes").

const MIRRORED = ['mode', 'agent', 'type', 'config'] as const;
export type RolloutFields = Partial<Pick<WorkflowNode, (typeof MIRRORED)[number]>>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The steps whose mirrored fields differ between `before` and `after`: the changed fields' new values. */
export function rolloutChanges(
  before: WorkflowDefinition,
  after: WorkflowDefinition,
): Map<string, RolloutFields> {
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const changes = new Map<string, RolloutFields>();
  for (const n of after.nodes) {
    const prev = old.get(n.id);
    if (!prev) continue;
    const changed = MIRRORED.filter((k) => !same(prev[k], n[k]));
    if (changed.length) changes.set(n.id, Object.fromEntries(changed.map((k) => [k, n[k]])) as RolloutFields);
  }
  return changes;
}

/** The flow nodes with `changes` applied (the same objects where nothing changes). */
export function mirrorNodes(nodes: FlowNode[], changes: Map<string, RolloutFields>): FlowNode[] {
  return nodes.map((n) => {
    const f = n.type === 'step' ? changes.get(n.id) : undefined;
    if (!f) return n;
    const s = n as StepFlowNode;
    return { ...s, data: { ...s.data, step: { ...s.data.step, ...f } } };
  });
}

/** A document snapshot with `changes` applied, serialised exactly as the editor serialises it. */
export function mirrorSnap(snap: string, changes: Map<string, RolloutFields>): string {
  const def = JSON.parse(snap) as WorkflowDefinition;
  const flow = toFlow(def);
  return JSON.stringify(toDefinition(splitMeta(def), mirrorNodes(flow.nodes, changes), flow.edges));
}
