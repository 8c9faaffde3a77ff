import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { splitMeta, toDefinition, toFlow } from './convert';
import type { FlowNode, StepFlowNode } from './types';

// A Promotion-tab action (stage change, kill switch, promote/demote) saves a new version on the
// server. The editor takes over the rollout fields that version changed, into the document (so the
// canvas shows them and the next save keeps them) and, when the version was derived from the
// editor's own base, into the saved snapshot too (so they are not "unsaved changes").

export type RolloutFields = Pick<WorkflowNode, 'mode' | 'agent'>;

const fieldsOf = (n: Pick<WorkflowNode, 'mode' | 'agent'>): RolloutFields => ({
  mode: n.mode,
  agent: n.agent,
});
const same = (a: RolloutFields, b: RolloutFields) => JSON.stringify(a) === JSON.stringify(b);

/** The steps whose rollout fields differ between `before` and `after`, with their new fields. */
export function rolloutChanges(
  before: WorkflowDefinition,
  after: WorkflowDefinition,
): Map<string, RolloutFields> {
  const old = new Map(before.nodes.map((n) => [n.id, fieldsOf(n)]));
  const changes = new Map<string, RolloutFields>();
  for (const n of after.nodes) {
    const prev = old.get(n.id);
    if (prev && !same(prev, fieldsOf(n))) changes.set(n.id, fieldsOf(n));
  }
  return changes;
}

/** The flow nodes with `changes` applied (the same objects where nothing changes). */
export function mirrorNodes(nodes: FlowNode[], changes: Map<string, RolloutFields>): FlowNode[] {
  return nodes.map((n) => {
    const f = n.type === 'step' ? changes.get(n.id) : undefined;
    if (!f) return n;
    const s = n as StepFlowNode;
    return { ...s, data: { ...s.data, step: { ...s.data.step, mode: f.mode, agent: f.agent } } };
  });
}

/** A document snapshot with `changes` applied, serialised exactly as the editor serialises it. */
export function mirrorSnap(snap: string, changes: Map<string, RolloutFields>): string {
  const def = JSON.parse(snap) as WorkflowDefinition;
  const flow = toFlow(def);
  return JSON.stringify(toDefinition(splitMeta(def), mirrorNodes(flow.nodes, changes), flow.edges));
}
