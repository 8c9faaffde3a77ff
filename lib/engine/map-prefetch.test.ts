import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxServices, sandboxStats, shutdownSandbox, warmSandbox } from '@/lib/sandbox';
import type { ExpressionScope, ExpressionServices, SandboxCall } from '@/lib/workflow/expression-scope';
import type { WorkflowNode } from '@/lib/workflow/definition';
import { getNode } from '@/lib/nodes/registry';
import { createEngine, type EngineOptions } from './engine';
import { MAP_PREFETCH_AHEAD, MAP_PREFETCH_CHUNK } from './limits';
import { MapPrefetch, prefetchPlan } from './map-prefetch';
import { compileGraph } from './plan';
import { ProbeLog, engineStores, nodesWithProbe, wf, type StoreHandle } from './testing/harness';
import type { StepRecord, TraceStore } from './trace-store';

// A map whose body is made of sandbox steps asks the sandbox for a chunk of items per message
// (map-prefetch.ts). Every semantic stays: the same outputs and trace rows, per-item errors under
// the map's error policy, per-item deadlines, cancellation, masking.

beforeAll(() => warmSandbox());
afterAll(() => shutdownSandbox());

type Body = { nodes: Partial<WorkflowNode>[]; edges: { id: string; source: string; target: string }[] };

const chain = (...nodes: Partial<WorkflowNode>[]): Body => ({
  nodes: nodes.map((n) => ({ position: { x: 0, y: 0 }, ...n })),
  edges: nodes.slice(1).map((n, i) => ({ id: `b${i}`, source: nodes[i].id!, target: n.id! })),
});

/** The bench's body: three transforms, each a real expression over the previous step. */
const threeTransforms = () =>
  chain(
    { id: 's1', type: 'transform', config: { value: '{{ ({ ...item, s1: item.v * 2 + index }) }}' } },
    {
      id: 's2',
      type: 'transform',
      config: { value: '{{ ({ ...steps.s1.output, s2: steps.s1.output.s1 + 1 }) }}' },
    },
    {
      id: 's3',
      type: 'transform',
      config: { value: { s3: '{{ steps.s2.output.s2 * 10 }}', at: 'i{{ index }}' } },
    },
  );

function mapWorkflow(body: Body, extra: Record<string, unknown> = {}) {
  return wf(
    [
      { id: 't', type: 'trigger.manual' },
      { id: 'm', type: 'map', config: { items: 'input.items', body, ...extra } },
      { id: 'o', type: 'output', config: { value: '{{ steps.m.output }}' } },
    ],
    [
      ['t', 'm'],
      ['m', 'o'],
    ],
  );
}

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ v: i }));

/** The sandbox services without evaluateMany: every item step evaluates alone, as before batching. */
function unbatched(): ExpressionServices {
  const { evaluate, runCode, render } = createSandboxServices();
  return { evaluate, runCode, render };
}

async function counted<T>(fn: () => Promise<T>) {
  const before = sandboxStats();
  const value = await fn();
  const after = sandboxStats();
  return {
    value,
    messages: after.messages - after.resent - (before.messages - before.resent),
    tasks: after.tasks - before.tasks,
  };
}

const itemRows = (steps: StepRecord[]) =>
  steps
    .filter((s) => s.parentNodeId === 'm')
    .map((s) => ({
      node: s.nodeId,
      item: s.itemIndex,
      status: s.status,
      input: s.input,
      output: s.output,
      error: s.error,
    }))
    .sort((a, b) => a.item! - b.item! || a.node.localeCompare(b.node));

describe.each(engineStores)('map prefetch on $name store', (factory) => {
  let h: StoreHandle;
  let store: TraceStore;
  beforeAll(async () => {
    h = await factory.open();
    store = h.store;
  });
  afterAll(() => h?.close());

  const make = (services: ExpressionServices = createSandboxServices(), extra: Partial<EngineOptions> = {}) =>
    createEngine({ store, nodes: nodesWithProbe(new ProbeLog()), services, ...extra });

  it(`evaluates each item step once, ${MAP_PREFETCH_CHUNK} items per message; outputs and trace rows as without batching`, async () => {
    expect(MAP_PREFETCH_CHUNK).toBe(64);
    const n = 300;
    const definition = mapWorkflow(threeTransforms());
    const batched = await counted(() => make().runToCompletion({ definition, input: { items: items(n) } }));
    expect(batched.value.status).toBe('succeeded');
    // Three sandbox steps per item, each evaluated exactly once (no item fell back to a message of its own).
    expect(batched.tasks).toBe(3 * n);
    expect(batched.messages).toBeLessThanOrEqual(3 * Math.ceil(n / MAP_PREFETCH_CHUNK));
    const alone = await counted(() =>
      make(unbatched()).runToCompletion({ definition, input: { items: items(n) } }),
    );
    expect(alone.messages).toBe(3 * n);
    expect(batched.value.output).toEqual(alone.value.output);
    expect((batched.value.output as unknown[])[5]).toEqual({ s3: (5 * 2 + 5 + 1) * 10, at: 'i5' });
    expect(itemRows(await store.listSteps(batched.value.runId))).toEqual(
      itemRows(await store.listSteps(alone.value.runId)),
    );
  });

  it('answers from the batch a body step that reads a step outside the map', async () => {
    const definition = wf(
      [
        { id: 't', type: 'trigger.manual' },
        { id: 'base', type: 'code', config: { code: 'return { k: 5 }' } },
        {
          id: 'm',
          type: 'map',
          config: {
            items: 'input.items',
            body: chain({
              id: 's',
              type: 'transform',
              config: { value: '{{ item.v + steps.base.output.k }}' },
            }),
          },
        },
      ],
      [
        ['t', 'base'],
        ['base', 'm'],
      ],
    );
    const { value: out, tasks } = await counted(() =>
      make().runToCompletion({ definition, input: { items: items(100) } }),
    );
    expect(out.status).toBe('succeeded');
    const rows = (await store.listSteps(out.runId)).filter((s) => s.parentNodeId === 'm');
    expect(rows.map((r) => r.output).sort((a, b) => (a as number) - (b as number))).toEqual(
      items(100).map((it) => it.v + 5),
    );
    // The code step, then one task per item: every item answered from its batch.
    expect(tasks).toBe(1 + 100);
  });

  it("an item that throws fails only that item, under the map's error policy", async () => {
    const list: unknown[] = items(70);
    list[3] = { v: null, deep: null };
    const body = (onError?: 'continue') =>
      chain(
        {
          id: 's1',
          type: 'transform',
          config: { value: '{{ item.deep === null ? item.deep.x : item.v + 1 }}' },
          ...(onError ? { onError } : {}),
        },
        { id: 's2', type: 'transform', config: { value: '{{ [steps.s1.output, index] }}' } },
      );
    // onError: continue — the error value is item 3's output of s1; every other item is untouched.
    const cont = mapWorkflow(body('continue'));
    const batched = await make().runToCompletion({ definition: cont, input: { items: list } });
    const alone = await make(unbatched()).runToCompletion({ definition: cont, input: { items: list } });
    expect(batched.status).toBe('succeeded');
    expect(batched.output).toEqual(alone.output);
    const out = batched.output as [unknown, number][];
    expect(out[3][0]).toMatchObject({ code: 'expression_error' });
    expect(out.filter((_, i) => i !== 3).map(([v]) => v)).toEqual(
      list.flatMap((it, i) => (i === 3 ? [] : [(it as { v: number }).v + 1])),
    );
    // The default (fail): the map fails with item 3's error, as without batching.
    const fail = mapWorkflow(body(), { concurrency: 1 });
    const failed = await make().runToCompletion({ definition: fail, input: { items: list } });
    const failedAlone = await make(unbatched()).runToCompletion({ definition: fail, input: { items: list } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual(failedAlone.error);
    expect(failed.error?.message).toMatch(/^map item 3 failed/);
    const rows = (await store.listSteps(failed.runId)).filter((s) => s.parentNodeId === 'm');
    expect(rows.filter((s) => s.status === 'failed').map((s) => [s.nodeId, s.itemIndex])).toEqual([
      ['s1', 3],
    ]);
  });

  it('a timeout in a batch fails only the item that ran past its deadline', async () => {
    const list = items(10).map((it, i) => ({ ...it, spin: i === 2 }));
    const definition = mapWorkflow(
      chain({
        id: 'c',
        type: 'code',
        onError: 'continue',
        config: { code: 'if (item.spin) { while (true) {} } return item.v * 3;' },
      }),
    );
    const engine = make(createSandboxServices({ codeTimeoutMs: 150 }));
    const { value: out, tasks } = await counted(() =>
      engine.runToCompletion({ definition, input: { items: list } }),
    );
    expect(out.status).toBe('succeeded');
    const values = out.output as unknown[];
    expect(values[2]).toMatchObject({ code: 'expression_timeout' });
    expect(values.filter((_, i) => i !== 2)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9].map((v) => v * 3));
    expect(tasks).toBe(list.length);
  });

  it('a cancel stops a batched map: items not started never run', async () => {
    const n = 400;
    const engine = make();
    const definition = mapWorkflow(
      chain({
        id: 'c',
        type: 'code',
        config: { code: 'const end = Date.now() + 5; while (Date.now() < end) {} return index;' },
      }),
      { concurrency: 2 },
    );
    const runId = await engine.startRun({ definition, input: { items: items(n) } });
    let started = 0;
    const off = engine.subscribe((e) => {
      if (e.type === 'step.started' && e.parentNodeId === 'm' && ++started === 3)
        void engine.cancelRun(runId);
    });
    const out = await engine.executeRun(runId);
    off();
    expect(out.status).toBe('cancelled');
    const rows = (await store.listSteps(runId)).filter((s) => s.parentNodeId === 'm');
    // At most the chunks asked for ahead were evaluated; far fewer items than the map holds ran.
    expect(rows.length).toBeLessThan((MAP_PREFETCH_AHEAD + 1) * MAP_PREFETCH_CHUNK);
    expect(rows.some((s) => s.status === 'cancelled' || s.status === 'succeeded')).toBe(true);
  });

  it('masks secrets in the trace rows of batched item steps; the map output is the exact value', async () => {
    const secret = 'sekrit-token-42';
    const engine = make(createSandboxServices(), { secrets: () => ({ token: secret }) });
    const definition = mapWorkflow(
      chain({ id: 's', type: 'transform', config: { value: "{{ secrets.token + ':' + item.v }}" } }),
    );
    const out = await engine.runToCompletion({ definition, input: { items: items(5) } });
    expect(out.status).toBe('succeeded');
    const rows = (await store.listSteps(out.runId)).filter((s) => s.parentNodeId === 'm');
    expect(rows).toHaveLength(5);
    expect(JSON.stringify(rows.map((r) => r.output))).not.toContain(secret);
    expect(rows.map((r) => r.executableOutput ?? r.output).sort()).toEqual(
      items(5).map((it) => `${secret}:${it.v}`),
    );
  });

  it('a step between sandbox steps (retried) keeps its attempts; steps after it evaluate alone', async () => {
    const log = new ProbeLog();
    const engine = createEngine({ store, nodes: nodesWithProbe(log), services: createSandboxServices() });
    const definition = mapWorkflow(
      chain(
        { id: 's1', type: 'transform', config: { value: '{{ item.v * 2 }}' } },
        {
          id: 'p',
          type: 'test.probe',
          config: { failTimes: 1 },
          retry: { maxAttempts: 2, backoffMs: 1, factor: 1 },
        },
        { id: 's2', type: 'transform', config: { value: '{{ steps.p.output + 1 }}' } },
      ),
    );
    const { value: out, tasks } = await counted(() =>
      engine.runToCompletion({ definition, input: { items: items(4) } }),
    );
    expect(out.status).toBe('succeeded');
    expect(out.output).toEqual([1, 3, 5, 7]);
    // s1 in one batch; s2 reads the probe's output, which only the real step knows: alone per item.
    expect(tasks).toBe(4 + 4);
    const probeRows = (await store.listSteps(out.runId)).filter((s) => s.nodeId === 'p');
    expect(probeRows.map((s) => s.attempt).sort()).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });
});

describe('prefetchPlan', () => {
  const services = createSandboxServices();
  const plan = (body: Body) =>
    prefetchPlan(
      compileGraph(body as never),
      { getNode },
      services,
      (node) => node.config,
      () => true,
    ).map((n) => [n.id, n.inner]);

  it('takes sandbox steps fed only by sandbox steps, reading only named steps', () => {
    expect(plan(threeTransforms())).toEqual([
      ['s1', []],
      ['s2', ['s1']],
      ['s3', ['s2']],
    ]);
    // After a node that is not a sandbox step, nothing is prefetched; a plain reference is not worth it.
    expect(
      plan(
        chain(
          { id: 'a', type: 'transform', config: { value: '{{ item }}' } },
          { id: 'h', type: 'http.request', config: { url: 'http://example.test' } },
          { id: 'b', type: 'transform', config: { value: '{{ item.v + 1 }}' } },
        ),
      ),
    ).toEqual([]);
    // A step that may read any step (steps[x]) cannot be checked, so it is not prefetched.
    expect(plan(chain({ id: 'a', type: 'code', config: { code: 'return steps[item.k].output' } }))).toEqual(
      [],
    );
  });
});

describe('MapPrefetch', () => {
  it('answers a step only when every value its call reads is the same one, and only once', async () => {
    const calls: ExpressionScope[][] = [];
    const services: ExpressionServices = {
      ...createSandboxServices(),
      evaluateMany: async (_call, scopes) => {
        calls.push(scopes);
        return scopes.map((s) => ({ ok: true, value: (s.item as { v: number }).v * 2 }));
      },
    };
    const call: SandboxCall = { kind: 'render', template: '{{ item.v * 2 + input.k }}' };
    const list = items(3);
    const input = { k: 1 };
    const prefetch = new MapPrefetch({
      plan: [{ id: 'x', call, reads: services.batchable!(call)!, inner: [] }],
      services,
      items: list,
      base: { input, env: {}, secrets: {}, steps: {} },
      skip: () => false,
      signal: new AbortController().signal,
    });
    await prefetch.ready(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(3);
    const scope = (i: number, over: Partial<ExpressionScope> = {}): ExpressionScope => ({
      input,
      env: {},
      secrets: {},
      steps: {},
      item: list[i],
      index: i,
      ...over,
    });
    const take = prefetch.forItem(1);
    // Another node, another call, or another input object: no answer.
    expect(take('y', call, scope(1))).toBeUndefined();
    expect(take('x', { kind: 'render', template: '{{ 1 }}' }, scope(1))).toBeUndefined();
    expect(take('x', call, scope(1, { input: { k: 1 } }))).toBeUndefined();
    expect(take('x', call, scope(1, { item: { v: 1 } }))).toBeUndefined();
    // Only what the call reads counts: a different `env` does not matter here.
    expect(take('x', call, scope(1, { env: { E: 'x' } }))).toEqual({ ok: true, value: 2 });
    expect(take('x', call, scope(1))).toBeUndefined();
  });
});
