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

/** A big graph opens on a window of this size (flow px) around its first node: readable, not all of it. */
export const OPEN_WINDOW = { width: 1200, height: 700 };

/**
 * The nodes a big graph opens on: the first node and those whose top-left corner lies within
 * OPEN_WINDOW right of and below it. Fitting "the first N nodes" instead would, in a graph of
 * many parallel lanes, span every lane and open at a zoom where nothing is legible (and where
 * hundreds of cards are on screen, each repainted on every drag frame).
 */
export function openingNodes<T extends { id: string; position: { x: number; y: number } }>(nodes: T[]): T[] {
  if (nodes.length === 0) return nodes;
  const { x, y } = nodes[0].position;
  return nodes.filter(
    (n) =>
      n.position.x >= x &&
      n.position.x <= x + OPEN_WINDOW.width &&
      n.position.y >= y &&
      n.position.y <= y + OPEN_WINDOW.height,
  );
}
