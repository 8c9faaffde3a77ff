import { beforeAll, describe, expect, it } from 'vitest';
import { loadRoute, useEmbeddedRuntime, type Handler } from './testing/route-harness';

// The route handlers as Next.js calls them (Request in, Response out), on the process runtime with
// a fresh embedded database and no model configured: the API half of the e2e spec, runnable
// without a browser or a build.

const { call } = useEmbeddedRuntime('promotion-routes', {
  env: { OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined },
});
let routes: Record<
  'workflows' | 'runs' | 'promotion' | 'settings' | 'prices' | 'step',
  Record<string, Handler>
>;

beforeAll(async () => {
  routes = {
    workflows: await loadRoute('workflows'),
    runs: await loadRoute('workflows/[id]/runs'),
    promotion: await loadRoute('workflows/[id]/promotion'),
    settings: await loadRoute('settings'),
    prices: await loadRoute('settings/model-prices'),
    step: await loadRoute('runs/[id]/steps/[stepId]'),
  };
});

const definition = {
  schemaVersion: 1,
  name: 'Routes',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    {
      id: 'label',
      type: 'transform',
      position: { x: 0, y: 100 },
      config: { value: { label: "{{ /invoice/i.test(input.text) ? 'billing' : 'other' }}" } },
    },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'label' }],
};

describe('promotion and settings routes', () => {
  it('promote → fallback no_model_configured in the trace → shadow runs → report', async () => {
    const created = await call(routes.workflows.POST, 'POST', '/api/workflows', { definition });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const p = { id };

    const none = await call(routes.promotion.GET, 'GET', `/api/workflows/${id}/promotion`, undefined, p);
    expect(none.status).toBe(200);
    expect(none.body.steps[0]).toMatchObject({
      nodeId: 'label',
      count: 0,
      recommendation: { action: 'shadow' },
    });

    const promoted = await call(
      routes.promotion.POST,
      'POST',
      `/api/workflows/${id}/promotion`,
      { nodeId: 'label', action: 'promote' },
      p,
    );
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({
      version: 2,
      node: { mode: 'agent', agent: { shadow: false, tools: ['self'] } },
    });

    const run = await call(
      routes.runs.POST,
      'POST',
      `/api/workflows/${id}/runs`,
      { input: { text: 'invoice' }, wait: true },
      p,
    );
    expect(run.status).toBe(200);
    expect(run.body.run.status).toBe('succeeded');
    const step = run.body.steps.find((s: { nodeId: string }) => s.nodeId === 'label');
    expect(step).toMatchObject({ mode: 'fallback', fallbackReason: 'no_model_configured' });
    const detail = await call(routes.step.GET, 'GET', `/api/runs/x/steps/y`, undefined, {
      id: run.body.run.id,
      stepId: step.id,
    });
    expect(detail.status).toBe(200);
    expect(detail.body.step.output).toEqual({ label: 'billing' });
    expect(detail.body.agentTurns.at(-1).payload.summary).toMatchObject({
      mode: 'fallback',
      reason: 'no_model_configured',
    });

    await call(
      routes.promotion.POST,
      'POST',
      `/api/workflows/${id}/promotion`,
      { nodeId: 'label', action: 'shadow' },
      p,
    );
    for (let i = 0; i < 3; i++) {
      const r = await call(
        routes.runs.POST,
        'POST',
        `/api/workflows/${id}/runs`,
        { input: { text: 'x' }, wait: true },
        p,
      );
      expect(r.body.steps.find((s: { nodeId: string }) => s.nodeId === 'label').mode).toBe('shadow');
    }
    const report = await call(
      routes.promotion.GET,
      'GET',
      `/api/workflows/${id}/promotion?nodeId=label&limit=3`,
      undefined,
      p,
    );
    expect(report.body.limit).toBe(3);
    expect(report.body.steps[0]).toMatchObject({
      count: 3,
      byMode: { agent: 0, shadow: 3, fallback: 0 },
      current: { mode: 'agent', shadow: true },
      fallback: { rate: 1, byReason: { no_model_configured: 1 } },
      recommendation: { action: 'collect_more' },
    });
  });

  it('bad input is a 4xx with a code', async () => {
    const created = await call(routes.workflows.POST, 'POST', '/api/workflows', { definition });
    const p = { id: created.body.id };
    const bad = await call(
      routes.promotion.POST,
      'POST',
      '/api/workflows/x/promotion',
      { nodeId: 'label', action: 'launch' },
      p,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    const trig = await call(
      routes.promotion.POST,
      'POST',
      '/api/workflows/x/promotion',
      { nodeId: 'start', action: 'promote' },
      p,
    );
    expect(trig.status).toBe(422);
    const ghost = await call(
      routes.promotion.GET,
      'GET',
      '/api/workflows/x/promotion?nodeId=ghost',
      undefined,
      p,
    );
    expect(ghost.status).toBe(404);
    const limit = await call(
      routes.promotion.GET,
      'GET',
      '/api/workflows/x/promotion?limit=100000',
      undefined,
      p,
    );
    expect(limit.status).toBe(400);
    const noAuth = await routes.promotion.GET(new Request('http://127.0.0.1/api/workflows/x/promotion'), {
      params: Promise.resolve(p),
    });
    expect(noAuth.status).toBe(401);
  });

  it('settings: model status without the key, prices editable and resettable', async () => {
    const s = await call(routes.settings.GET, 'GET', '/api/settings');
    expect(s.status).toBe(200);
    expect(s.body.model.configured).toBe(false);
    expect(s.body.pricesAreDefault).toBe(true);
    expect(s.body.runCostCapUsd).toBeGreaterThan(0);
    const put = await call(routes.prices.PUT, 'PUT', '/api/settings/model-prices', {
      prices: { 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } },
    });
    expect(put.body).toEqual({
      prices: { 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } },
      isDefault: false,
    });
    const bad = await call(routes.prices.PUT, 'PUT', '/api/settings/model-prices', {
      prices: { m: { inputPerMTok: -1, outputPerMTok: 2 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.problems[0].path).toBe('/prices/m/inputPerMTok');
    const reset = await call(routes.prices.DELETE, 'DELETE', '/api/settings/model-prices');
    expect(reset.body.isDefault).toBe(true);
  });

  it('settings flag models charged at the unknown-model price, never silently free', async () => {
    const { costOf, DEFAULT_UNKNOWN_MODEL_PRICE } = await import('@/lib/agent/pricing');
    // A model answered with an id the table does not know (dated ids of known ones are known).
    expect(costOf('acme-7b-chat', { promptTokens: 1_000_000, completionTokens: 0 })).toBe(
      DEFAULT_UNKNOWN_MODEL_PRICE.inputPerMTok,
    );
    costOf('gpt-4.1-mini-2025-04-14', { promptTokens: 1, completionTokens: 1 });
    const s = await call(routes.settings.GET, 'GET', '/api/settings');
    expect(s.body.unknownModels).toContain('acme-7b-chat');
    expect(s.body.unknownModels).not.toContain('gpt-4.1-mini-2025-04-14');
    expect(s.body.unknownModelPrice).toEqual(DEFAULT_UNKNOWN_MODEL_PRICE);
    // Pricing it (or a "*" row) clears the flag and sets the price.
    await call(routes.prices.PUT, 'PUT', '/api/settings/model-prices', {
      prices: {
        'acme-7b-chat': { inputPerMTok: 0, outputPerMTok: 0 },
        '*': { inputPerMTok: 9, outputPerMTok: 9 },
      },
    });
    const after = await call(routes.settings.GET, 'GET', '/api/settings');
    expect(after.body.unknownModels).not.toContain('acme-7b-chat');
    expect(after.body.unknownModelPrice).toEqual({ inputPerMTok: 9, outputPerMTok: 9 });
    await call(routes.prices.DELETE, 'DELETE', '/api/settings/model-prices');
  });
});
