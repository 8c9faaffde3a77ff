import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { outputsFor } from './graph';
import { hasCollisions, layoutPositions } from './layout';
import type { NodeTypeInfo } from './types';

// A definition whose steps sit on top of each other (no positions, so all at 0,0; or a tool that
// wrote the same spot twice) opens laid out instead of as one pile. Positions that do not collide
// are the author's and are kept as they are.

export function arrangeOnOpen(
  def: WorkflowDefinition,
  catalog?: Map<string, NodeTypeInfo>,
): WorkflowDefinition {
  // A stored definition may lack positions altogether (the schema's 0,0 default is not written).
  const at = (n: { position?: { x: number; y: number } }) => n.position ?? { x: 0, y: 0 };
  if (def.nodes.length < 2 || !hasCollisions(def.nodes.map(at))) return def;
  const byId = new Map(def.nodes.map((n) => [n.id, n]));
  const pos = layoutPositions(
    def.nodes.map((n) => ({ id: n.id, height: 100 })),
    def.edges.map((e) => {
      const src = byId.get(e.source);
      const outs = src ? outputsFor(src, catalog?.get(src.type)) : ['out'];
      return {
        source: e.source,
        target: e.target,
        handleRank: Math.max(0, outs.indexOf(e.sourceHandle ?? 'out')),
      };
    }),
  );
  return { ...def, nodes: def.nodes.map((n) => ({ ...n, position: pos.get(n.id) ?? at(n) })) };
}
