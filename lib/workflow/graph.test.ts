import { describe, expect, it } from 'vitest';
import {
  buildGraph,
  downstreamOf,
  edgeTakes,
  findCycles,
  graphFromEdges,
  hasCycle,
  outputHandles,
  leaves,
  reachableFrom,
  roots,
  sourceHandle,
  switchHandles,
  topologicalOrder,
  upstreamIndex,
  upstreamOf,
  wouldCycle,
} from './graph';

const g = (ids: string[], edges: [string, string][]) =>
  buildGraph(
    ids.map((id) => ({ id })),
    edges.map(([source, target]) => ({ source, target })),
  );

describe('graph utilities', () => {
  const diamond = g(
    ['t', 'a', 'b', 'c', 'x'],
    [
      ['t', 'a'],
      ['t', 'b'],
      ['a', 'c'],
      ['b', 'c'],
    ],
  );

  it('builds incoming and outgoing maps, ignoring edges to missing nodes', () => {
    const gg = g(
      ['a', 'b'],
      [
        ['a', 'b'],
        ['a', 'ghost'],
      ],
    );
    expect(gg.outgoing.get('a')!.map((e) => e.target)).toEqual(['b']);
    expect(gg.incoming.get('b')!.map((e) => e.source)).toEqual(['a']);
  });

  it('orders topologically and reports nodes blocked by cycles', () => {
    const { order, blocked } = topologicalOrder(diamond);
    expect(order.indexOf('t')).toBeLessThan(order.indexOf('a'));
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('c'));
    expect(blocked).toEqual([]);
    const cyclic = g(
      ['a', 'b', 'c', 'd'],
      [
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'b'],
        ['c', 'd'],
      ],
    );
    expect(topologicalOrder(cyclic)).toEqual({ order: ['a'], blocked: ['b', 'c', 'd'] });
    expect(hasCycle(cyclic)).toBe(true);
    expect(hasCycle(diamond)).toBe(false);
  });

  it('finds each cycle once, including self loops', () => {
    const gg = g(
      ['a', 'b', 'c', 'd', 'e'],
      [
        ['a', 'b'],
        ['b', 'a'],
        ['c', 'c'],
        ['d', 'e'],
      ],
    );
    expect(findCycles(gg)).toEqual([['a', 'b'], ['c']]);
    expect(findCycles(diamond)).toEqual([]);
  });

  it('computes upstream, downstream, reachability, roots and leaves', () => {
    expect([...upstreamOf(diamond, 'c')].sort()).toEqual(['a', 'b', 't']);
    expect([...downstreamOf(diamond, 't')].sort()).toEqual(['a', 'b', 'c']);
    expect(reachableFrom(diamond, ['t']).has('x')).toBe(false);
    expect(roots(diamond)).toEqual(['t', 'x']);
    expect(leaves(diamond)).toEqual(['c', 'x']);
  });

  it('upstreamIndex agrees with upstreamOf, also on cycles', () => {
    const gg = g(
      ['t', 'a', 'b', 'c', 'd'],
      [
        ['t', 'a'],
        ['a', 'b'],
        ['b', 'a'],
        ['b', 'c'],
        ['t', 'd'],
      ],
    );
    for (const graph of [diamond, gg]) {
      const idx = upstreamIndex(graph);
      for (const x of graph.ids) {
        expect(idx.upstream(x)).toEqual(upstreamOf(graph, x));
        for (const y of graph.ids) expect(idx.isUpstream(y, x)).toBe(upstreamOf(graph, x).has(y));
      }
    }
  });

  it('handles a 5,000-node chain without recursion', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `n${i}`);
    const chain = g(
      ids,
      ids.slice(1).map((id, i) => [ids[i], id] as [string, string]),
    );
    expect(topologicalOrder(chain).order).toHaveLength(5000);
    expect(findCycles(chain)).toEqual([]);
    expect(upstreamIndex(chain).isUpstream('n0', 'n4999')).toBe(true);
    expect(upstreamIndex(chain).isUpstream('n4999', 'n0')).toBe(false);
  });

  it('orders ties by definition order, then by first edge; parallel edges to one target count once', () => {
    // A switch with two cases into `a` and one into `b`, written a, b, a: `a` comes first.
    const sw = buildGraph(
      [{ id: 's' }, { id: 'b' }, { id: 'a' }],
      [
        { source: 's', target: 'a', sourceHandle: 'c1' },
        { source: 's', target: 'b', sourceHandle: 'c2' },
        { source: 's', target: 'a', sourceHandle: 'default' },
      ],
    );
    expect(topologicalOrder(sw)).toEqual({ order: ['s', 'a', 'b'], blocked: [] });
  });

  it('walks nearest first', () => {
    const chain = g(
      ['a', 'b', 'c', 'd'],
      [
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'd'],
      ],
    );
    expect([...upstreamOf(chain, 'd')]).toEqual(['c', 'b', 'a']);
    expect([...downstreamOf(chain, 'a')]).toEqual(['b', 'c', 'd']);
  });

  it('answers over edges alone, as the editor asks', () => {
    const edges = [
      { source: 'a', target: 'b' },
      { source: 'b', target: 'c' },
    ];
    const ge = graphFromEdges(edges);
    expect(ge.ids).toEqual(['a', 'b', 'c']);
    expect(wouldCycle(ge, 'c', 'a')).toBe(true);
    expect(wouldCycle(ge, 'a', 'a')).toBe(true);
    expect(wouldCycle(ge, 'a', 'c')).toBe(false);
    expect(wouldCycle(ge, 'c', 'unknown')).toBe(false);
  });
});

describe('handles', () => {
  it('an edge leaves from out unless it names another, and carries what its source took', () => {
    expect(sourceHandle({})).toBe('out');
    expect(sourceHandle({ sourceHandle: 'true' })).toBe('true');
    expect(edgeTakes({}, null)).toBe(true);
    expect(edgeTakes({ sourceHandle: 'out' }, undefined)).toBe(true);
    expect(edgeTakes({ sourceHandle: 'true' }, 'false')).toBe(false);
  });

  it('a switch has one output per case, then default; half-typed cases are left out', () => {
    expect(switchHandles({ cases: [{ id: 'a' }, { id: 'b' }] })).toEqual(['a', 'b', 'default']);
    expect(switchHandles({ cases: [{ id: '' }, null, { expression: 'x' }] })).toEqual(['default']);
    expect(switchHandles(undefined)).toEqual(['default']);
  });

  it('onError branch adds the error output once', () => {
    expect(outputHandles({ onError: 'branch' }, ['out'])).toEqual(['out', 'error']);
    expect(outputHandles({ onError: 'branch' }, ['out', 'error'])).toEqual(['out', 'error']);
    expect(outputHandles({ onError: 'continue' }, ['true', 'false'])).toEqual(['true', 'false']);
  });
});
