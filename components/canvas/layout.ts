import dagre from '@dagrejs/dagre';

const DEFAULT_W = 240;
const DEFAULT_H = 80;
/**
 * A layout taller than this many ranks wraps into side-by-side columns of this many ranks, so a
 * 150-step chain fits the view at a zoom where its cards can still be read.
 */
export const WRAP_RANKS = 12;
const COLUMN_GAP = 120;

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
  return wrapColumns(
    out,
    [...ranks.keys()].sort((a, b) => a - b),
    ranks,
    nodes,
  );
}

/**
 * Past WRAP_RANKS ranks, deal the ranks into columns left to right: column c holds ranks
 * c·WRAP_RANKS … and starts at the top. Edges between columns run from the bottom of one to the
 * top of the next, like a line of text wrapping.
 */
function wrapColumns(
  pos: Map<string, { x: number; y: number }>,
  rankYs: number[],
  ranks: Map<number, string[]>,
  nodes: { id: string; width?: number }[],
): Map<string, { x: number; y: number }> {
  if (rankYs.length <= WRAP_RANKS) return pos;
  const width = new Map(nodes.map((n) => [n.id, n.width ?? DEFAULT_W]));
  const xs = [...pos.entries()].map(([id, p]) => [p.x, p.x + (width.get(id) ?? DEFAULT_W)]);
  const minX = Math.min(...xs.map((x) => x[0]));
  const span = Math.max(...xs.map((x) => x[1])) - minX + COLUMN_GAP;
  const top = Math.min(...[...pos.values()].map((p) => p.y));
  // Each column's first rank, read before anything moves.
  const rankTop = rankYs.map((y) => Math.min(...ranks.get(y)!.map((id) => pos.get(id)!.y)));
  rankYs.forEach((y, i) => {
    const col = Math.floor(i / WRAP_RANKS);
    if (col === 0) return;
    const firstY = rankTop[col * WRAP_RANKS];
    for (const id of ranks.get(y)!) {
      const p = pos.get(id)!;
      pos.set(id, { x: p.x + col * span, y: p.y - firstY + top });
    }
  });
  return pos;
}

/**
 * Cards closer than this sit mostly on top of each other (a card is 240 wide, about 100 tall):
 * a pile to lay out. A slight overlap is the author's choice and stays.
 */
const PILE_DX = 120;
const PILE_DY = 50;

/**
 * Do any two positions pile cards on top of each other? (A definition written by hand or by
 * another tool often has no positions, which the schema defaults to 0,0.) A grid of card-sized
 * cells keeps this linear for 1,000 nodes.
 */
export function hasCollisions(points: { x: number; y: number }[]): boolean {
  const cells = new Map<string, { x: number; y: number }[]>();
  for (const p of points) {
    const cx = Math.floor(p.x / PILE_DX);
    const cy = Math.floor(p.y / PILE_DY);
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (const q of cells.get(`${cx + dx},${cy + dy}`) ?? [])
          if (Math.abs(q.x - p.x) < PILE_DX && Math.abs(q.y - p.y) < PILE_DY) return true;
    const key = `${cx},${cy}`;
    cells.set(key, [...(cells.get(key) ?? []), p]);
  }
  return false;
}
