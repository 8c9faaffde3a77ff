import dagre from '@dagrejs/dagre';

const DEFAULT_W = 240;
const DEFAULT_H = 80;

/** Top-to-bottom layered layout; returns new top-left positions keyed by node id. */
export function layoutPositions(
  nodes: { id: string; width?: number; height?: number }[],
  /** handleRank: index of the edge's source handle among the node's outputs. */
  edges: { source: string; target: string; handleRank?: number }[],
): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 50, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  // dagre orders each rank from insertion order: insert nodes depth-first with children in
  // handle order (true before false, case1 before default), so branches do not cross.
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const children = new Map<string, { target: string; rank: number }[]>();
  const hasParent = new Set<string>();
  for (const e of edges) {
    if (!byId.has(e.source) || !byId.has(e.target)) continue;
    const list = children.get(e.source) ?? [];
    list.push({ target: e.target, rank: e.handleRank ?? 0 });
    children.set(e.source, list);
    hasParent.add(e.target);
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    order.push(id);
    for (const c of (children.get(id) ?? []).sort((a, b) => a.rank - b.rank)) visit(c.target);
  };
  for (const n of nodes) if (!hasParent.has(n.id)) visit(n.id);
  for (const n of nodes) visit(n.id);
  for (const id of order) {
    const n = byId.get(id)!;
    g.setNode(id, { width: n.width ?? DEFAULT_W, height: n.height ?? DEFAULT_H });
  }
  for (const e of edges) if (byId.has(e.source) && byId.has(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  // dagre minimises crossings but does not know handle order; within each rank, re-deal the
  // x slots so children follow their parent's position and then their handle order
  // (condition: true left of false), top rank first so the order carries down.
  const parentOf = new Map<string, { source: string; rank: number }>();
  for (const e of edges)
    if (!parentOf.has(e.target)) parentOf.set(e.target, { source: e.source, rank: e.handleRank ?? 0 });
  const ranks = new Map<number, string[]>();
  for (const id of order) {
    const y = Math.round(g.node(id).y);
    ranks.set(y, [...(ranks.get(y) ?? []), id]);
  }
  for (const y of [...ranks.keys()].sort((a, b) => a - b)) {
    const ids = ranks.get(y)!;
    if (ids.length === 1) {
      // A lone node under a lone parent sits straight below it (the parent may have moved).
      const p = parentOf.get(ids[0]);
      const siblings = p ? (children.get(p.source) ?? []).length : 0;
      if (p && siblings === 1 && byId.has(p.source)) g.node(ids[0]).x = g.node(p.source).x;
      continue;
    }
    const slots = ids.map((id) => g.node(id).x).sort((a, b) => a - b);
    const key = (id: string) => {
      const p = parentOf.get(id);
      return [p && byId.has(p.source) ? g.node(p.source).x : g.node(id).x, p?.rank ?? 0, g.node(id).x];
    };
    const sorted = [...ids].sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2];
    });
    sorted.forEach((id, i) => (g.node(id).x = slots[i]));
  }

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
