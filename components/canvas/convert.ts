import type { WorkflowDefinition, WorkflowEdge, WorkflowNode } from '@/lib/workflow/definition';
import { sourceHandle } from '@/lib/workflow/graph';
import type { FlowEdge, FlowNode, NoteFlowNode, StepFlowNode } from './types';

// The definition is the document; React Flow nodes are a view of it while editing. Sticky notes
// share the canvas, so their React Flow ids get a prefix that step ids cannot hold (':').
export const NOTE_PREFIX = 'note:';

export type DefinitionMeta = Omit<WorkflowDefinition, 'nodes' | 'edges' | 'notes'>;

export function toFlow(def: WorkflowDefinition): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const nodes: FlowNode[] = def.nodes.map((n) => stepToFlow(n));
  for (const note of def.notes ?? []) {
    nodes.push({
      id: NOTE_PREFIX + note.id,
      type: 'note',
      position: note.position,
      data: { text: note.text },
      ariaLabel: 'Sticky note',
      ...(note.width && note.height ? { width: note.width, height: note.height } : {}),
    } satisfies NoteFlowNode);
  }
  return { nodes, edges: def.edges.map(edgeToFlow) };
}

export function stepToFlow(n: WorkflowNode): StepFlowNode {
  const { position, ...step } = n;
  return {
    id: n.id,
    type: 'step',
    position: position ?? { x: 0, y: 0 },
    data: { step },
    ariaLabel: n.name || n.id,
  };
}

export function edgeToFlow(e: WorkflowEdge): FlowEdge {
  return {
    id: e.id,
    source: e.source,
    target: e.target,
    sourceHandle: sourceHandle(e),
    targetHandle: e.targetHandle ?? 'in',
  };
}

const round = (v: number) => Math.round(v * 10) / 10;

export function toDefinition(meta: DefinitionMeta, nodes: FlowNode[], edges: FlowEdge[]): WorkflowDefinition {
  const steps: WorkflowNode[] = [];
  const notes: NonNullable<WorkflowDefinition['notes']> = [];
  for (const n of nodes) {
    const position = { x: round(n.position.x), y: round(n.position.y) };
    if (n.type === 'note') {
      const w = n.width ?? n.measured?.width;
      const h = n.height ?? n.measured?.height;
      notes.push({
        id: n.id.slice(NOTE_PREFIX.length),
        text: (n as NoteFlowNode).data.text,
        position,
        ...(n.width && n.height ? { width: w, height: h } : {}),
      });
    } else {
      const s = (n as StepFlowNode).data.step;
      steps.push({ ...s, position } as WorkflowNode);
    }
  }
  return {
    ...meta,
    nodes: steps,
    edges: edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      ...(e.sourceHandle && e.sourceHandle !== 'out' ? { sourceHandle: e.sourceHandle } : {}),
      ...(e.targetHandle && e.targetHandle !== 'in' ? { targetHandle: e.targetHandle } : {}),
    })),
    ...(notes.length ? { notes } : {}),
  };
}

export function splitMeta(def: WorkflowDefinition): DefinitionMeta {
  const { nodes: _n, edges: _e, notes: _s, ...meta } = def;
  return meta;
}

export function blankDefinition(name: string): WorkflowDefinition {
  return { schemaVersion: 1, name, nodes: [], edges: [] };
}
