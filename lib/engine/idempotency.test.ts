import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { createSandboxServices, shutdownSandbox } from '@/lib/sandbox';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { createEngine } from './engine';
import { engineStores, wf, type StoreHandle } from './testing/harness';
import { MemoryWorkflowSource } from './workflow-source';

// Distinct effects get distinct Idempotency-Keys, and a retried effect keeps its key: the key
// names the top-level run, the frame path (map items, nested maps, child runs), the node and the
// item. A recording server checks the headers.

afterAll(() => shutdownSandbox());

let server: LocalServer;
/** Paths whose first request per key answers 500 (the step fails once and is retried). */
const failOnce = new Set<string>();
/** Paths whose first request is never answered (a worker that dies mid-call); destroyed at the end. */
const holdFirst = new Set<string>();
const held: import('node:http').ServerResponse[] = [];
const seenKeys = new Map<string, number>();

beforeAll(async () => {
  server = await startLocalServer((req, res) => {
    const key = String(req.headers['idempotency-key']);
    const n = (seenKeys.get(`${req.url} ${key}`) ?? 0) + 1;
    seenKeys.set(`${req.url} ${key}`, n);
    const path = new URL(req.url, 'http://x').pathname;
    if (holdFirst.delete(path)) return void held.push(res);
    const fail = n === 1 && failOnce.has(path);
    res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: !fail }));
  });
});
afterAll(async () => {
  for (const r of held) r.destroy();
  await server?.close();
});

const post = (id: string, path: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'http.request',
  position: { x: 0, y: 0 },
  config: {
    method: 'POST',
    url: `${server.url}${path}`,
    body: { at: id },
    allowHosts: [`127.0.0.1:${server.port}`],
  },
  ...extra,
});

/** A map whose inline body is one POST with node id `post` (the same id in every such body). */
const mapOf = (id: string, items: string, body: unknown[]) => ({
  id,
  type: 'map',
  position: { x: 0, y: 0 },
  config: { items, concurrency: 2, body: { nodes: body, edges: [] } },
});

const keysOf = (runFrom: number) =>
  server.requests.slice(runFrom).map((r) => ({
    path: new URL(r.url, 'http://x').pathname,
    key: String(r.headers['idempotency-key']),
  }));

describe.each(engineStores)('Idempotency-Keys on $name store', (factory) => {
  let h: StoreHandle;
  beforeAll(async () => {
    h = await factory.open();
  });
  afterAll(() => h?.close());

  it('sibling maps reusing node ids and nested maps: one key per effect, none shared', async () => {
    const engine = createEngine({ store: h.store, services: createSandboxServices() });
    const from = server.requests.length;
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          mapOf('a', '[1, 2]', [post('post', '/a')]),
          mapOf('b', '[1, 2]', [post('post', '/b')]),
          mapOf('outer', '[1, 2]', [mapOf('inner', '[1, 2]', [post('post', '/nested')])]),
          post('post', '/top'),
        ],
        [
          ['t', 'a'],
          ['t', 'b'],
          ['t', 'outer'],
          ['t', 'post'],
        ],
      ),
    });
    expect(out.status).toBe('succeeded');
    const seen = keysOf(from);
    // a: 2 items, b: 2 items, outer × inner: 4, top: 1.
    expect(seen).toHaveLength(9);
    expect(new Set(seen.map((s) => s.key)).size).toBe(9);
    expect(seen.filter((s) => s.path === '/nested')).toHaveLength(4);
  });

  it('a retried step keeps its key; two subworkflow nodes and map-over-workflow items differ', async () => {
    const workflows = new MemoryWorkflowSource({ recordIds: false });
    workflows.save('child-wf', childDefinition());
    const engine = createEngine({ store: h.store, workflows, services: createSandboxServices() });
    failOnce.add('/flaky');
    const retry = { maxAttempts: 3, backoffMs: 0, factor: 1 };
    const from = server.requests.length;
    try {
      const out = await engine.runToCompletion({
        definition: wf(
          [
            { id: 't', type: 'trigger.manual' },
            { id: 'sub1', type: 'subworkflow', config: { workflowId: 'child-wf', input: {} } },
            { id: 'sub2', type: 'subworkflow', config: { workflowId: 'child-wf', input: {} } },
            post('flaky', '/flaky', { retry }),
            { id: 'each', type: 'map', config: { items: '[1, 2]', workflowId: 'child-wf', concurrency: 1 } },
          ],
          [
            ['t', 'sub1'],
            ['sub1', 'sub2'],
            ['t', 'flaky'],
            ['sub2', 'each'],
          ],
        ),
      });
      expect(out.error ?? null).toBeNull();
      expect(out.status).toBe('succeeded');
    } finally {
      failOnce.clear();
    }
    const seen = keysOf(from);
    const flaky = seen.filter((s) => s.path === '/flaky');
    expect(flaky).toHaveLength(2); // failed once, retried with the same key
    expect(flaky[0].key).toBe(flaky[1].key);
    // sub1, sub2 and the map's two items run the same child workflow: four effects, four keys.
    const childKeys = seen.filter((s) => s.path === '/child-effect').map((s) => s.key);
    expect(childKeys).toHaveLength(4);
    expect(new Set(childKeys).size).toBe(4);
  });

  it('a subworkflow run again after its worker died starts a new child run, whose call keeps the key', async () => {
    const workflows = new MemoryWorkflowSource({ recordIds: false });
    workflows.save('held-wf', childDefinition('/held-effect'));
    const definition = wf(
      [
        { id: 't', type: 'trigger.manual' },
        { id: 'sub', type: 'subworkflow', config: { workflowId: 'held-wf', input: {} } },
      ],
      [['t', 'sub']],
    );
    const from = server.requests.length;
    holdFirst.add('/held-effect');
    // Engine A takes the run and its child's call never returns: A is as good as dead.
    const a = createEngine({ store: h.store, workflows, services: createSandboxServices() });
    const runId = await a.startRun({ definition });
    void a.executeRun(runId).catch(() => {});
    const deadline = Date.now() + 30_000;
    while (!keysOf(from).some((s) => s.path === '/held-effect')) {
      if (Date.now() > deadline) throw new Error('the first call never arrived');
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.store.flush();
    // Engine B resumes it: the `sub` step left running is run again, with a new child run.
    const b = createEngine({ store: h.store, workflows, services: createSandboxServices() });
    const out = await b.resumeRun(runId);
    expect(out.status).toBe('succeeded');
    const calls = keysOf(from).filter((s) => s.path === '/held-effect');
    expect(calls).toHaveLength(2);
    expect(calls[1].key).toBe(calls[0].key);
    const subSteps = (await h.store.listSteps(runId)).filter(
      (s) => s.nodeId === 'sub' && s.parentNodeId == null,
    );
    expect(subSteps.length).toBeGreaterThanOrEqual(2); // the dead attempt and the one that finished
  });
});

function childDefinition(path = '/child-effect'): WorkflowDefinition {
  return wf([{ id: 'ct', type: 'trigger.manual' }, post('post', path)], [['ct', 'post']], 'child');
}
