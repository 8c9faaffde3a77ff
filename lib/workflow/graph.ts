import { DEFAULT_HANDLE, ERROR_HANDLE } from './definition';

// The one graph library: validation (lib/workflow/validate.ts), the engine's scheduler
// (lib/engine/plan.ts) and the editor (components/canvas/graph.ts) all walk definitions with
// these functions, so a fix to a walk or a handle rule reaches all three. They take plain ids and
// edges, never throw on odd input (edges to missing nodes are ignored), and are iterative so a
// 2,000-node chain cannot overflow the stack.

export interface EdgeLike {
  id?: string;
  source: string;
  target: string;
  sourceHandle?: string;
}

export interface Graph<E extends EdgeLike = EdgeLike> {
  /** Node ids in definition order. */
  ids: string[];
  incoming: Map<string, E[]>;
  outgoing: Map<string, E[]>;
}

export function buildGraph<E extends EdgeLike>(
  nodes: readonly { id: string }[],
  edges: readonly E[],
): Graph<E> {
  const incoming = new Map<string, E[]>();
  const outgoing = new Map<string, E[]>();
  const ids: string[] = [];
  for (const n of nodes) {
    if (incoming.has(n.id)) continue;
    ids.push(n.id);
    incoming.set(n.id, []);
    outgoing.set(n.id, []);
  }
  for (const e of edges) {
    const out = outgoing.get(e.source);
    const inc = incoming.get(e.target);
    if (!out || !inc) continue;
    out.push(e);
    inc.push(e);
  }
  return { ids, incoming, outgoing };
}

/** A graph over edges alone (the editor's view): nodes are the edges' ends, in first-seen order. */
export function graphFromEdges<E extends EdgeLike>(edges: readonly E[]): Graph<E> {
  const ids: { id: string }[] = [];
  const seen = new Set<string>();
  for (const e of edges)
    for (const id of [e.source, e.target])
      if (!seen.has(id)) {
        seen.add(id);
        ids.push({ id });
      }
  return buildGraph(ids, edges);
}

/** The output an edge leaves from: `out` unless it names another. */
export function sourceHandle(e: { sourceHandle?: string | null }): string {
  return e.sourceHandle ?? DEFAULT_HANDLE;
}

/** Whether an edge carries what its source continued on (`handle`: null/undefined means `out`). */
export function edgeTakes(e: { sourceHandle?: string | null }, handle: string | null | undefined): boolean {
  return (handle ?? DEFAULT_HANDLE) === sourceHandle(e);
}

/** The `default` output of a switch, taken when no case is true. */
export const SWITCH_DEFAULT_HANDLE = 'default';

/**
 * A switch's outputs: one per case id, then `default`. Lenient about config shape (the editor
 * calls it on half-typed configs): cases without an id are left out.
 */
export function switchHandles(config: { cases?: unknown } | null | undefined): string[] {
  const cases = Array.isArray(config?.cases) ? (config.cases as ({ id?: unknown } | null)[]) : [];
  return [...cases.map((c) => String(c?.id ?? '')).filter(Boolean), SWITCH_DEFAULT_HANDLE];
}

/** A node's output handles: its type's outputs for its config, plus `error` when onError is `branch`. */
export function outputHandles(node: { onError?: unknown }, typeOutputs: readonly string[]): string[] {
  const outs = [...typeOutputs];
  if (node.onError === 'branch' && !outs.includes(ERROR_HANDLE)) outs.push(ERROR_HANDLE);
  return outs;
}

/**
 * Kahn's algorithm. Ties keep definition order for the roots, then the order of each node's
 * outgoing edges (several edges to one target count once, so a switch with two cases into the
 * same node orders like a single edge). Nodes on or behind a cycle are left out of `order` and
 * listed in `blocked`.
 */
export function topologicalOrder(g: Graph): { order: string[]; blocked: string[] } {
  const indeg = new Map<string, number>();
  for (const id of g.ids) indeg.set(id, new Set(g.incoming.get(id)!.map((e) => e.source)).size);
  const queue = g.ids.filter((id) => indeg.get(id) === 0);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    order.push(id);
    for (const t of new Set(g.outgoing.get(id)!.map((e) => e.target))) {
      const d = indeg.get(t)! - 1;
      indeg.set(t, d);
      if (d === 0) queue.push(t);
    }
  }
  const done = new Set(order);
  return { order, blocked: g.ids.filter((id) => !done.has(id)) };
}

/**
 * Cycles as strongly connected components (iterative Tarjan): every component with more than
 * one node, or one node with an edge to itself. Each list is in discovery order.
 */
export function findCycles(g: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  for (const root of g.ids) {
    if (index.has(root)) continue;
    const work: { id: string; edge: number }[] = [{ id: root, edge: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1];
      const outs = g.outgoing.get(frame.id)!;
      if (frame.edge < outs.length) {
        const next = outs[frame.edge++].target;
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          work.push({ id: next, edge: 0 });
        } else if (onStack.has(next)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(next)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].id;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.id)!));
      }
      if (low.get(frame.id) === index.get(frame.id)) {
        const comp: string[] = [];
        let id: string;
        do {
          id = stack.pop()!;
          onStack.delete(id);
          comp.push(id);
        } while (id !== frame.id);
        const selfLoop = comp.length === 1 && g.outgoing.get(comp[0])!.some((e) => e.target === comp[0]);
        if (comp.length > 1 || selfLoop) cycles.push(comp.reverse());
      }
    }
  }
  return cycles;
}

export function hasCycle(g: Graph): boolean {
  return topologicalOrder(g).blocked.length > 0;
}

/** Every node reachable from `starts` following edges forward (the starts included). */
export function reachableFrom(g: Graph, starts: Iterable<string>): Set<string> {
  return walk(g, starts, 'forward');
}

/** Every node with a path to `id`, nearest first (not `id` itself unless it sits on a cycle). */
export function upstreamOf(g: Graph, id: string): Set<string> {
  const seen = walk(
    g,
    (g.incoming.get(id) ?? []).map((e) => e.source),
    'backward',
  );
  return seen;
}

/** Every node `id` has a path to, nearest first (not `id` itself unless it sits on a cycle). */
export function downstreamOf(g: Graph, id: string): Set<string> {
  return walk(
    g,
    (g.outgoing.get(id) ?? []).map((e) => e.target),
    'forward',
  );
}

/** Would an edge source→target close a cycle? True when source is reachable from target. */
export function wouldCycle(g: Graph, source: string, target: string): boolean {
  return source === target || reachableFrom(g, [target]).has(source);
}

// Breadth-first, so the set's order is nearest first (the editor lists suggestions that way).
function walk(g: Graph, starts: Iterable<string>, dir: 'forward' | 'backward'): Set<string> {
  const seen = new Set<string>();
  const queue: string[] = [];
  for (const s of starts) {
    if (g.incoming.has(s) && !seen.has(s)) {
      seen.add(s);
      queue.push(s);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    const edges = dir === 'forward' ? g.outgoing.get(id)! : g.incoming.get(id)!;
    for (const e of edges) {
      const next = dir === 'forward' ? e.target : e.source;
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

/** Nodes with no incoming edge: where a map body starts. */
export function roots(g: Graph): string[] {
  return g.ids.filter((id) => g.incoming.get(id)!.length === 0);
}

/** Nodes with no outgoing edge. */
export function leaves(g: Graph): string[] {
  return g.ids.filter((id) => g.outgoing.get(id)!.length === 0);
}

/**
 * Answers "is `a` upstream of `b`" for many pairs: ancestor bitsets computed once in
 * topological order (one word-wise OR per edge), so 2,000 nodes cost microseconds per query
 * instead of a graph walk each. Nodes on cycles fall back to a walk.
 */
export function upstreamIndex(g: Graph): {
  isUpstream(a: string, b: string): boolean;
  upstream(id: string): Set<string>;
} {
  const pos = new Map<string, number>();
  g.ids.forEach((id, i) => pos.set(id, i));
  const words = Math.ceil(g.ids.length / 32) || 1;
  const bits = new Map<string, Uint32Array>();
  const { order } = topologicalOrder(g);
  for (const id of order) {
    const set = new Uint32Array(words);
    for (const e of g.incoming.get(id)!) {
      const parent = bits.get(e.source);
      if (parent) for (let w = 0; w < words; w++) set[w] |= parent[w];
      const p = pos.get(e.source)!;
      set[p >>> 5] |= 1 << (p & 31);
    }
    bits.set(id, set);
  }
  const slow = new Map<string, Set<string>>();
  const upstream = (id: string): Set<string> => {
    const set = bits.get(id);
    if (!set) {
      let s = slow.get(id);
      if (!s) slow.set(id, (s = upstreamOf(g, id)));
      return s;
    }
    const out = new Set<string>();
    g.ids.forEach((other, i) => {
      if (set[i >>> 5] & (1 << (i & 31))) out.add(other);
    });
    return out;
  };
  return {
    upstream,
    isUpstream(a, b) {
      const set = bits.get(b);
      const p = pos.get(a);
      if (p === undefined || !g.incoming.has(b)) return false;
      if (set) return (set[p >>> 5] & (1 << (p & 31))) !== 0;
      return upstream(b).has(a);
    },
  };
}
