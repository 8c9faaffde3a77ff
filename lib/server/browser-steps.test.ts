import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { startFixtureSite, type FixtureSite } from '@/lib/browser/testing/fixture-site';
import { sharedBrowserPool } from '@/lib/browser/pool';
import { callRoute, loadRoute, useEmbeddedRuntime, type Body, type Handler } from './testing/route-harness';

// The browser step through the API as Next.js calls it, on the process runtime (embedded
// database): a run on the redesigned page heals with the scripted model, its screenshots are
// listed with the step and served only through their run, and accepting the healed sequence saves
// a version whose next run replays without the model.

let routes: Record<
  'workflows' | 'runs' | 'step' | 'artifact' | 'accept' | 'promotion',
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
  };
});

afterAll(async () => {
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
