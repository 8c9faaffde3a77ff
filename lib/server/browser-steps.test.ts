import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { startFixtureSite, type FixtureSite } from '@/lib/browser/testing/fixture-site';
import { sharedBrowserPool } from '@/lib/browser/pool';
import { getRuntime, openedRuntime } from './runtime';
import { callRoute, loadRoute, useEmbeddedRuntime, type Body, type Handler } from './testing/route-harness';

// The browser step through the API as Next.js calls it, on the process runtime (embedded
// database): a run on the redesigned page heals with the scripted model, its screenshots are
// listed with the step and served only through their run, and accepting the healed sequence saves
// a version whose next run replays without the model.

let routes: Record<
  'workflows' | 'runs' | 'step' | 'artifact' | 'accept' | 'promotion' | 'rollout' | 'events' | 'versions',
  Record<string, Handler>
>;
let site: FixtureSite;
let elsewhere: LocalServer;
let mock: MockLlmServer;

beforeAll(async () => {
  mock = await startMockLlmServer();
  elsewhere = await startLocalServer((_req, res) => res.end('reached'));
  site = await startFixtureSite({ password: 'pw', elsewhere: elsewhere.url });
});
const { token } = useEmbeddedRuntime('browser-steps', {
  env: () => ({
    OPENAI_BASE_URL: mock.baseURL,
    OPENAI_API_KEY: 'mock',
    OPENAI_MODEL: 'scenario:browser-heal',
  }),
});

beforeAll(async () => {
  routes = {
    workflows: await loadRoute('workflows'),
    runs: await loadRoute('workflows/[id]/runs'),
    step: await loadRoute('runs/[id]/steps/[stepId]'),
    artifact: await loadRoute('runs/[id]/artifacts/[artifactId]'),
    accept: await loadRoute('workflows/[id]/nodes/[nodeId]/browser-actions'),
    promotion: await loadRoute('workflows/[id]/promotion'),
    rollout: await loadRoute('workflows/[id]/rollout'),
    events: await loadRoute('workflows/[id]/rollout/events'),
    versions: await loadRoute('workflows/[id]/versions'),
  };
});

afterAll(async () => {
  await (await openedRuntime()?.catch(() => null))?.rollout.idle();
  await sharedBrowserPool().close();
  await Promise.all([mock?.close(), site?.close(), elsewhere?.close()]);
});

const call = (h: Handler, method: string, body?: unknown, params: Record<string, string> = {}, auth = true) =>
  callRoute(h, '/api/x', { method, body, params, token: auth ? token : null });
const jsonOf = async (res: Response) => ({ status: res.status, body: (await res.json()) as Body });

function definition() {
  return {
    schemaVersion: 1,
    name: 'Buy a mug',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'shop',
        type: 'browser',
        position: { x: 0, y: 100 },
        agent: { instructions: 'Put the mug in the shopping basket and read the confirmation' },
        config: {
          startUrl: `${site.url}/product?v=2`,
          allowHosts: [site.hostPort],
          heal: true,
          captureEachAction: true,
          actions: [
            {
              type: 'click',
              target: { css: '#add-to-cart', expect: { role: 'button', name: 'Add to cart', near: 'Buy' } },
            },
            { type: 'extract', into: 'confirmation', target: { role: 'status' } },
          ],
        },
      },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'shop' }],
  };
}

describe('browser step routes', () => {
  it('heal → screenshots in the step → accept → the next run replays without the model', async () => {
    const created = await jsonOf(await call(routes.workflows.POST, 'POST', { definition: definition() }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const run = await jsonOf(await call(routes.runs.POST, 'POST', { input: {}, wait: true }, { id }));
    expect(run.body.run.status).toBe('succeeded');
    const step = run.body.steps.find((s: Body) => s.nodeId === 'shop');
    expect(step.mode).toBe('healed');

    const detail = await jsonOf(
      await call(routes.step.GET, 'GET', undefined, { id: run.body.run.id, stepId: step.id }),
    );
    expect(detail.status).toBe(200);
    expect(detail.body.step.output.extracted.confirmation).toBe('Added to basket');
    const artifacts = detail.body.artifacts as Body[];
    expect(artifacts.length).toBeGreaterThanOrEqual(3);
    expect(artifacts.map((a) => a.id).sort()).toEqual([...detail.body.step.output.screenshots].sort());

    const img = await call(routes.artifact.GET, 'GET', undefined, {
      id: run.body.run.id,
      artifactId: artifacts[0].id,
    });
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    const bytes = new Uint8Array(await img.arrayBuffer());
    expect(bytes.byteLength).toBe(artifacts[0].size);
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    // Only through its own run, and only for a signed-in caller.
    expect(
      (await call(routes.artifact.GET, 'GET', undefined, { id: 'another-run', artifactId: artifacts[0].id }))
        .status,
    ).toBe(404);
    expect(
      (
        await call(
          routes.artifact.GET,
          'GET',
          undefined,
          { id: run.body.run.id, artifactId: artifacts[0].id },
          false,
        )
      ).status,
    ).toBe(401);

    const accepted = await jsonOf(
      await call(routes.accept.POST, 'POST', { stepId: step.id }, { id, nodeId: 'shop' }),
    );
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ version: 2, healed: true, actions: 2 });

    const calls = mock.requests.length;
    const again = await jsonOf(await call(routes.runs.POST, 'POST', { input: {}, wait: true }, { id }));
    expect(again.body.run.status).toBe('succeeded');
    expect(again.body.run.version).toBe(2);
    const replayed = again.body.steps.find((s: Body) => s.nodeId === 'shop');
    expect(replayed.mode).toBe('workflow');
    expect(mock.requests.length).toBe(calls);

    // The promotion report counts replay success, heal rate and heal cost.
    const report = await jsonOf(await call(routes.promotion.GET, 'GET', undefined, { id }));
    const shop = (report.body.steps as Body[]).find((s) => s.nodeId === 'shop')!;
    expect(shop.replay).toMatchObject({
      runs: 2,
      replayed: 1,
      healed: 1,
      failed: 0,
      replaySuccessRate: 0.5,
      healRate: 0.5,
    });
    expect(shop.replay.healCostUsd.total).toBeGreaterThan(0);
    expect(shop.replay.healCostUsd.perHeal).toBe(shop.replay.healCostUsd.total);
  });

  it('refuses to accept a step that did not succeed, naming the field', async () => {
    const def = definition();
    (def.nodes[1].config as Record<string, unknown>).heal = false;
    const created = await jsonOf(await call(routes.workflows.POST, 'POST', { definition: def }));
    const id = created.body.id as string;
    const run = await jsonOf(await call(routes.runs.POST, 'POST', { input: {}, wait: true }, { id }));
    expect(run.body.run.status).toBe('failed');
    const step = run.body.steps.find((s: Body) => s.nodeId === 'shop');
    const refused = await jsonOf(
      await call(routes.accept.POST, 'POST', { stepId: step.id }, { id, nodeId: 'shop' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.problems[0]).toMatchObject({ path: '/stepId', code: 'not_acceptable' });
  });
});

describe('a browser step at the agent stage feeds its gates', () => {
  it('heals count as served, heals that give up as fallbacks; the fallback gate rolls it back to workflow', async () => {
    mock.force(null);
    const def = definition();
    const WINDOW = 4;
    // No `heal: true`: at the agent stage the step heals by its stage.
    const { heal: _heal, ...config } = def.nodes[1].config as Record<string, unknown>;
    const nodes: Record<string, unknown>[] = [
      def.nodes[0],
      {
        ...def.nodes[1],
        config,
        mode: 'agent',
        agent: { ...def.nodes[1].agent, gates: { minSample: WINDOW, window: WINDOW, maxFallbackRate: 0.5 } },
      },
    ];
    const created = await jsonOf(
      await call(routes.workflows.POST, 'POST', { definition: { ...def, nodes } }),
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const runOnce = async () => {
      const run = await jsonOf(await call(routes.runs.POST, 'POST', { input: {}, wait: true }, { id }));
      await (await getRuntime()).rollout.idle();
      return run.body;
    };
    const state = async () =>
      (await jsonOf(await call(routes.rollout.GET, 'GET', undefined, { id }, true))).body.steps[0] as Body;

    // Served: the interface agent heals the redesigned page.
    const healed = await runOnce();
    expect(healed.steps.find((s: Body) => s.nodeId === 'shop').mode).toBe('healed');
    // The fault: from now on every model answer is broken, so each heal gives up and the step fails.
    mock.force('malformed-json');
    for (let i = 0; i < 2; i++) expect((await runOnce()).run.status).toBe('failed');
    let now = await state();
    expect(now).toMatchObject({
      stage: { stage: 'agent' },
      served: { agent: 1, fallback: 2, shadow: 0 },
      verdict: { status: 'insufficient', sample: 3 },
      evidence: { stage: 3, revision: 3, total: 3 },
    });
    // The window fills: 3 of 4 gave up, over the 50% gate: back to workflow (no shadow to land in).
    expect((await runOnce()).run.status).toBe('failed');
    now = await state();
    expect(now.stage).toEqual({ stage: 'workflow' });
    const events = (await jsonOf(await call(routes.events.GET, 'GET', undefined, { id }))).body
      .events as Body[];
    expect(events[0]).toMatchObject({
      kind: 'rollback',
      nodeId: 'shop',
      fromStage: 'agent',
      toStage: 'workflow',
    });
    expect(events[0].reason).toContain('fallback rate 75% > 50% (4 steps)');
    const fallbackRate = events[0].evidence.verdict.gates.find((g: Body) => g.gate === 'fallbackRate');
    expect(fallbackRate).toMatchObject({ status: 'fail', value: 0.75, over: 4 });
    // At workflow the step no longer heals: the next run neither calls the model nor feeds the gates.
    const calls = mock.requests.length;
    expect((await runOnce()).run.status).toBe('failed');
    expect(mock.requests.length).toBe(calls);
    expect((await state()).verdict.sample).toBe(0);
    mock.force(null);
  });
});
