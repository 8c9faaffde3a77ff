import dagre from '@dagrejs/dagre';

const DEFAULT_W = 240;
const DEFAULT_H = 80;

/** Top-to-bottom layered layout; returns new top-left positions keyed by node id. */
export function layoutPositions(
  nodes: { id: string; width?: number; height?: number }[],
  edges: { source: string; target: string }[],
): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 50, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width ?? DEFAULT_W, height: n.height ?? DEFAULT_H });
  const ids = new Set(nodes.map((n) => n.id));
  for (const e of edges) if (ids.has(e.source) && ids.has(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const p = g.node(n.id);
    // dagre gives centres; React Flow positions are top-left corners.
    out.set(n.id, {
      x: Math.round(p.x - (n.width ?? DEFAULT_W) / 2),
      y: Math.round(p.y - (n.height ?? DEFAULT_H) / 2),
    });
  }
  return out;
}
