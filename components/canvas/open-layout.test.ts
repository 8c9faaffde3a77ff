import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { hasCollisions, WRAP_RANKS } from './layout';
import { largeDefinition } from '@/lib/workflow/fixtures/large-definition';
import { toFlow } from './convert';
import { arrangeOnOpen, OPEN_WINDOW, openingNodes } from './open-layout';

const chain = (n: number, at: (i: number) => { x: number; y: number }): WorkflowDefinition => ({
  schemaVersion: 1,
  name: 'chain',
  nodes: Array.from({ length: n }, (_, i) => ({
    id: `n${i}`,
    type: 'transform',
    position: at(i),
    config: {},
  })),
  edges: Array.from({ length: n - 1 }, (_, i) => ({ id: `e${i}`, source: `n${i}`, target: `n${i + 1}` })),
});

describe('arrangeOnOpen', () => {
  it('lays out steps that all sit at 0,0 (a definition without positions)', () => {
    const def = chain(5, () => ({ x: 0, y: 0 }));
    const out = arrangeOnOpen(def);
    expect(hasCollisions(out.nodes.map((n) => n.position))).toBe(false);
    expect(out.nodes[1].position.y).toBeGreaterThan(out.nodes[0].position.y);
  });

  it('lays out steps stored without any position', () => {
    const def = chain(3, () => ({ x: 0, y: 0 }));
    for (const n of def.nodes) delete (n as { position?: unknown }).position;
    const out = arrangeOnOpen(def);
    expect(hasCollisions(out.nodes.map((n) => n.position))).toBe(false);
  });

  it('keeps positions that do not collide exactly as they are', () => {
    const def = chain(4, (i) => ({ x: i * 50, y: i * 160 }));
    expect(arrangeOnOpen(def)).toBe(def);
  });

  it('wraps a long chain into columns so it is about as wide as it is tall', () => {
    const n = 150;
    const out = arrangeOnOpen(chain(n, () => ({ x: 0, y: 0 })));
    const xs = out.nodes.map((p) => p.position.x);
    const ys = out.nodes.map((p) => p.position.y);
    const width = Math.max(...xs) - Math.min(...xs) + 240;
    const height = Math.max(...ys) - Math.min(...ys) + 100;
    expect(new Set(xs).size).toBe(Math.ceil(n / WRAP_RANKS));
    expect(height / width).toBeLessThan(2);
    expect(hasCollisions(out.nodes.map((p) => p.position))).toBe(false);
    // Reading order survives the wrap: each column starts at the top.
    expect(out.nodes[WRAP_RANKS].position.y).toBe(out.nodes[0].position.y);
    expect(out.nodes[WRAP_RANKS].position.x).toBeGreaterThan(out.nodes[WRAP_RANKS - 1].position.x);
  });
});

describe('hasCollisions', () => {
  it('finds two cards on top of each other among many apart', () => {
    const apart = Array.from({ length: 1000 }, (_, i) => ({
      x: (i % 40) * 300,
      y: Math.floor(i / 40) * 160,
    }));
    expect(hasCollisions(apart)).toBe(false);
    expect(hasCollisions([...apart, { x: 310, y: 170 }])).toBe(true);
  });
});

describe('openingNodes', () => {
  it('opens a graph of many lanes on a window around its first node, not across every lane', () => {
    const { nodes } = toFlow(largeDefinition(1000) as unknown as WorkflowDefinition);
    const open = openingNodes(nodes);
    expect(open[0].id).toBe('start');
    const xs = open.map((n) => n.position.x);
    const ys = open.map((n) => n.position.y);
    expect(Math.max(...xs) - Math.min(...xs)).toBeLessThanOrEqual(OPEN_WINDOW.width);
    expect(Math.max(...ys) - Math.min(...ys)).toBeLessThanOrEqual(OPEN_WINDOW.height);
    // Several lanes and rows, a small share of the 1,000 (the first 30 nodes spanned all 20 lanes).
    expect(new Set(xs).size).toBeGreaterThan(1);
    expect(new Set(ys).size).toBeGreaterThan(1);
    expect(open.length).toBeLessThan(60);
  });

  it('keeps nodes left of or above the first one out, and handles an empty graph', () => {
    const nodes = [
      { id: 'a', position: { x: 0, y: 0 } },
      { id: 'left', position: { x: -300, y: 0 } },
      { id: 'below', position: { x: 100, y: OPEN_WINDOW.height } },
      { id: 'far', position: { x: OPEN_WINDOW.width + 1, y: 0 } },
    ];
    expect(openingNodes(nodes).map((n) => n.id)).toEqual(['a', 'below']);
    expect(openingNodes([])).toEqual([]);
  });
});
