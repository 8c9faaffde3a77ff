// The workflows bench/http.ts saves through the API: each starts with a `trigger.webhook` and ends
// in an `output`, so the webhook answers after the run. The trigger asks for the highest webhook
// rate, so the per-workflow rate limit is not what the throughput scenario measures.
import { MAX_WEBHOOK_RATE } from '@/lib/nodes/trigger-webhook';

type Node = { id: string; type: string; position: { x: number; y: number }; config: unknown };
type Edge = { id: string; source: string; target: string };

const at = (i: number) => ({ x: 0, y: i * 100 });
const trigger = (): Node => ({
  id: 'hook',
  type: 'trigger.webhook',
  position: at(0),
  config: { ratePerSecond: MAX_WEBHOOK_RATE },
});

function linear(name: string, nodes: Node[]) {
  const edges: Edge[] = nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i].id, target: n.id }));
  return { schemaVersion: 1, name, nodes, edges };
}

/**
 * webhook → n transforms → output. No-op transforms hold a constant (no expression); `expression`
 * makes the first one evaluate one, which is what the cold-start scenario times.
 */
export function chainWorkflow(n: number, expression = false) {
  const steps: Node[] = Array.from({ length: n }, (_, i) => ({
    id: `t${i + 1}`,
    type: 'transform',
    position: at(i + 1),
    config: { value: expression && i === 0 ? '{{ input.n ?? 1 }}' : { step: i + 1 } },
  }));
  const out: Node = { id: 'out', type: 'output', position: at(n + 1), config: { value: { ok: true } } };
  return linear(`bench chain ${n}${expression ? ' (expression)' : ''}`, [trigger(), ...steps, out]);
}

/** webhook → `width` no-op transforms in parallel → merge (all) → output. */
export function parallelWorkflow(width: number) {
  const nodes: Node[] = [trigger()];
  const edges: Edge[] = [];
  for (let i = 0; i < width; i++) {
    nodes.push({ id: `b${i}`, type: 'transform', position: { x: i * 50, y: 100 }, config: { value: { i } } });
    edges.push({ id: `in${i}`, source: 'hook', target: `b${i}` });
    edges.push({ id: `out${i}`, source: `b${i}`, target: 'join' });
  }
  nodes.push({ id: 'join', type: 'merge', position: at(2), config: { mode: 'all' } });
  nodes.push({ id: 'out', type: 'output', position: at(3), config: { value: { ok: true } } });
  edges.push({ id: 'j', source: 'join', target: 'out' });
  return { schemaVersion: 1, name: `bench parallel ${width}`, nodes, edges };
}

const makeItems = (n: number) =>
  `return Array.from({ length: ${n} }, (_, i) => ({ i, value: i * 2, name: 'item ' + i }));`;

/** webhook → `code` makes n items → 3 `code` steps map them → output (the count). */
export function codeItemsWorkflow(n: number) {
  const step = (id: string, prev: string, field: string): Node => ({
    id,
    type: 'code',
    position: at(0),
    config: { code: `return steps.${prev}.output.map((x) => ({ ...x, ${field}: x.value + x.i }));` },
  });
  return linear(`bench code ${n} items`, [
    trigger(),
    { id: 'make', type: 'code', position: at(1), config: { code: makeItems(n) } },
    step('c1', 'make', 'a'),
    step('c2', 'c1', 'b'),
    step('c3', 'c2', 'c'),
    { id: 'out', type: 'output', position: at(5), config: { value: '{{ steps.c3.output.length }}' } },
  ]);
}

/**
 * webhook → `code` makes n items → `map` whose body is 3 `transform` steps with real expressions
 * (a trace row per item step) → output (the count).
 */
export function mapWorkflow(n: number) {
  const body = {
    nodes: [
      {
        id: 's1',
        type: 'transform',
        position: at(0),
        config: { value: '{{ ({ ...item, s1: item.value * 1 + item.i }) }}' },
      },
      {
        id: 's2',
        type: 'transform',
        position: at(1),
        config: { value: '{{ ({ ...steps.s1.output, s2: steps.s1.output.s1 * 2 }) }}' },
      },
      {
        id: 's3',
        type: 'transform',
        position: at(2),
        config: { value: '{{ ({ ...steps.s2.output, s3: steps.s2.output.s2 + index }) }}' },
      },
    ],
    edges: [
      { id: 'b1', source: 's1', target: 's2' },
      { id: 'b2', source: 's2', target: 's3' },
    ],
  };
  return linear(`bench map ${n} items`, [
    trigger(),
    { id: 'make', type: 'code', position: at(1), config: { code: makeItems(n) } },
    { id: 'each', type: 'map', position: at(2), config: { items: 'steps.make.output', body } },
    { id: 'out', type: 'output', position: at(3), config: { value: '{{ steps.each.output.length }}' } },
  ]);
}
