import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MAX_EDGES,
  MAX_MAP_NESTING,
  MAX_NESTING_DEPTH,
  MAX_NODES,
  MAX_PROBLEMS,
  MAX_STRING_LENGTH,
} from './limits';
import type { NodeCatalog, NodeTypeSpec } from './node-type';
import { resolveField, validate } from './validate';

// A tiny catalog so these tests exercise lib/workflow alone; the real registry is tested in
// lib/nodes/validate-definition.test.ts against the shared fixtures.
const spec = (s: Partial<NodeTypeSpec> & { type: string }): NodeTypeSpec => ({
  label: s.type,
  group: 'Test',
  icon: 'x',
  description: '',
  config: z.object({}),
  defaultConfig: {},
  outputs: () => ['out'],
  hasInput: !s.isTrigger,
  ...s,
});
const specs = [
  spec({ type: 'trigger.manual', isTrigger: true }),
  spec({ type: 'step', config: z.object({ v: z.unknown() }) }),
  spec({
    type: 'if',
    config: z.object({ expression: z.string() }),
    outputs: () => ['true', 'false'],
    expressionFields: ['expression'],
  }),
  spec({
    type: 'fetch',
    config: z.object({ url: z.string().min(1), method: z.string(), n: z.number().min(2) }),
  }),
  spec({
    type: 'loop',
    config: z.object({ items: z.string(), body: z.unknown() }),
    expressionFields: ['items'],
    bodyField: 'body',
  }),
];
const catalog: NodeCatalog = { get: (t) => specs.find((s) => s.type === t), list: () => specs };

const chain = (n: number) => ({
  schemaVersion: 1,
  name: 'chain',
  nodes: [
    { id: 't', type: 'trigger.manual' },
    ...Array.from({ length: n - 1 }, (_, i) => ({ id: `s${i}`, type: 'step', config: { v: i } })),
  ],
  edges: Array.from({ length: n - 1 }, (_, i) => ({
    id: `e${i}`,
    source: i ? `s${i - 1}` : 't',
    target: `s${i}`,
  })),
});

describe('validate (lib/workflow alone)', () => {
  it('an empty or missing required config value reads "Required"; other problems keep their own words', () => {
    const def = chain(1);
    def.nodes.push({ id: 'f', type: 'fetch', config: { url: '', n: 1 } as never });
    const problems = validate(def, catalog).problems.filter((p) => p.code === 'invalid_config');
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      ['/nodes/1/config/url', 'Required'],
      ['/nodes/1/config/method', 'Required'],
      ['/nodes/1/config/n', 'Too small: expected number to be >=2'],
    ]);
  });

  it('accepts a plain chain', () => {
    expect(validate(chain(5), catalog)).toEqual({ valid: true, problems: [] });
  });

  it(`MAX_NODES (${MAX_NODES}) and MAX_EDGES (${MAX_EDGES})`, () => {
    expect(validate(chain(MAX_NODES), catalog).valid).toBe(true);
    const tooMany = validate(chain(MAX_NODES + 1), catalog);
    expect(tooMany.problems).toContainEqual(
      expect.objectContaining({ code: 'too_many_nodes', path: '/nodes' }),
    );
    const def = chain(2);
    def.edges = Array.from({ length: MAX_EDGES + 1 }, (_, i) => ({ id: `x${i}`, source: 't', target: 's0' }));
    expect(validate(def, catalog).problems).toContainEqual(
      expect.objectContaining({ code: 'too_many_edges', path: '/edges' }),
    );
  });

  it(`stops listing after MAX_PROBLEMS (${MAX_PROBLEMS})`, () => {
    const def = chain(2);
    def.edges = Array.from({ length: MAX_PROBLEMS * 2 }, (_, i) => ({
      id: `x${i}`,
      source: 't',
      target: `ghost${i}`,
    }));
    const r = validate(def, catalog);
    expect(r.problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(r.problems.at(-1)!.code).toBe('too_many_problems');
  });

  it(`MAX_MAP_NESTING (${MAX_MAP_NESTING}) bounds nested bodies`, () => {
    const nest = (levels: number): Record<string, unknown> => {
      let body: Record<string, unknown> = {
        nodes: [{ id: 'leaf', type: 'step', config: { v: 1 } }],
        edges: [],
      };
      for (let i = 0; i < levels - 1; i++)
        body = { nodes: [{ id: `l${i}`, type: 'loop', config: { items: 'item', body } }], edges: [] };
      return {
        ...chain(1),
        nodes: [
          { id: 't', type: 'trigger.manual' },
          { id: 'm', type: 'loop', config: { items: 'input', body } },
        ],
        edges: [{ id: 'e', source: 't', target: 'm' }],
      };
    };
    // Depth of JSON nesting would stop an absurd body first; keep within MAX_NESTING_DEPTH here.
    expect(4 * MAX_MAP_NESTING + 8).toBeLessThan(MAX_NESTING_DEPTH);
    expect(validate(nest(MAX_MAP_NESTING), catalog)).toEqual({ valid: true, problems: [] });
    const deep = validate(nest(MAX_MAP_NESTING + 1), catalog);
    expect(deep.problems.map((p) => p.code)).toEqual(['too_deep']);
  });

  it(`reports strings over MAX_STRING_LENGTH (${MAX_STRING_LENGTH}) with their pointer and keeps validating`, () => {
    const def = chain(2);
    (def.nodes[1] as Record<string, unknown>).config = { v: 'x'.repeat(MAX_STRING_LENGTH + 1) };
    def.edges[0].target = 'ghost';
    expect(validate(def, catalog).problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'string_too_long /nodes/1/config/v',
      'dangling_edge /edges/0/target',
      'unreachable /nodes/1',
    ]);
  });

  it('reports problems in several places at once', () => {
    const def = chain(3);
    def.nodes.push({ id: 's0', type: 'nope', config: { v: 1 } });
    (def.nodes[2] as Record<string, unknown>).position = 'here';
    def.edges.push({ id: 'e0', source: 's1', target: 't' });
    const codes = validate(def, catalog)
      .problems.map((p) => p.code)
      .sort();
    expect(codes).toEqual([
      'duplicate_edge_id',
      'duplicate_node_id',
      'invalid_shape',
      'target_has_no_input',
      'unknown_node_type',
    ]);
  });

  it('accepts an error edge only when onError is branch', () => {
    const def = chain(3);
    def.edges[1] = { ...def.edges[1], sourceHandle: 'error' } as (typeof def.edges)[number];
    expect(validate(def, catalog).problems.map((p) => p.code)).toEqual(['unknown_handle']);
    (def.nodes[1] as Record<string, unknown>).onError = 'branch';
    expect(validate(def, catalog).valid).toBe(true);
  });

  it('never throws on arbitrary JSON, and always answers with problems', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const r = validate(value, catalog);
        expect(r.valid).toBe(r.problems.length === 0);
        expect(r.valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on definition-shaped random input', () => {
    const id = fc.constantFrom('t', 's0', 's1', 'x', '', 'a/b', '__proto__', 'constructor');
    const node = fc.record(
      {
        id,
        type: fc.constantFrom('trigger.manual', 'step', 'if', 'loop', 'nope', 3),
        config: fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.record({
            expression: fc.string(),
            items: fc.string(),
            v: fc.string(),
            body: fc.jsonValue({ maxDepth: 3 }),
          }),
        ),
        onError: fc.constantFrom('branch', 'fail', 1),
        mode: fc.constantFrom('agent', 'workflow', null),
        agent: fc.oneof(
          fc.record({ tools: fc.array(fc.oneof(fc.string(), fc.integer())) }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: [] },
    );
    const edge = fc.record(
      { id, source: id, target: id, sourceHandle: fc.constantFrom('out', 'true', 'error', 'x') },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.record({
          schemaVersion: fc.constantFrom(1, 2, '1'),
          name: fc.string(),
          nodes: fc.array(node, { maxLength: 8 }),
          edges: fc.array(edge, { maxLength: 10 }),
        }),
        (def) => {
          const r = validate(def, catalog);
          expect(Array.isArray(r.problems)).toBe(true);
          for (const p of r.problems) {
            expect(typeof p.path).toBe('string');
            expect(p.code).not.toBe('internal_error');
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects non-JSON and hostile values without throwing', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const cyclic: Record<string, unknown> = { schemaVersion: 1 };
    cyclic.nodes = [cyclic];
    const cases: unknown[] = [
      undefined,
      null,
      42,
      'x',
      [],
      () => 1,
      Symbol('s'),
      10n,
      { nodes: deep },
      cyclic,
      { schemaVersion: 1, name: 'x'.repeat(50 * 1024 * 1024) },
    ];
    const codes = cases.map((c) => validate(c, catalog).problems[0]?.code);
    expect(codes).toEqual([
      'not_object',
      'not_object',
      'not_object',
      'not_object',
      'not_object',
      'not_object',
      'not_object',
      'not_object',
      'too_deep',
      'too_deep',
      'too_large',
    ]);
  });
});

describe('resolveField', () => {
  it('walks dotted paths and [] over arrays', () => {
    const c = { cases: [{ expression: 'a' }, { expression: 'b' }, 'odd'], x: { y: 1 } };
    expect(resolveField(c, 'cases[].expression')).toEqual([
      { value: 'a', segments: ['cases', 0, 'expression'] },
      { value: 'b', segments: ['cases', 1, 'expression'] },
    ]);
    expect(resolveField(c, 'x.y')).toEqual([{ value: 1, segments: ['x', 'y'] }]);
    expect(resolveField(c, 'missing.y')).toEqual([]);
  });
});
