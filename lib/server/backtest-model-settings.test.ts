import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { triageDefinition, triageTickets } from '@/lib/promotion/testing/triage';
import { getRuntime } from './runtime';
import { loadRoute, useEmbeddedRuntime, type Body, type Handler } from './testing/route-harness';

// The model a backtest (its agent and its judge) and a graduation proposal talk to is the one agent
// steps use: with no OPENAI_* in the environment, the endpoint saved in Settings, read when the
// backtest starts. Injected fault: the environment has no model at all, so only Settings can help.

let mock: MockLlmServer;
let r: Record<
  'settings' | 'workflows' | 'runs' | 'backtests' | 'backtest' | 'graduation' | 'proposal',
  Record<string, Handler>
>;

beforeAll(async () => {
  mock = await startMockLlmServer();
});
const { call } = useEmbeddedRuntime('backtest-model', {
  env: {
    OPENAI_BASE_URL: undefined,
    OPENAI_API_KEY: undefined,
    OPENAI_MODEL: undefined,
    TRELLIS_SECRET_KEY: randomBytes(32).toString('hex'),
  },
});
beforeAll(async () => {
  r = {
    settings: await loadRoute('settings/model'),
    workflows: await loadRoute('workflows'),
    runs: await loadRoute('workflows/[id]/runs'),
    backtests: await loadRoute('workflows/[id]/backtests'),
    backtest: await loadRoute('workflows/[id]/backtests/[bid]'),
    graduation: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation'),
    proposal: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation/[gid]'),
  };
});
afterAll(async () => {
  await mock?.close();
});

let wid = '';
async function backtest(body: Record<string, unknown>): Promise<Body> {
  const started = await call(r.backtests.POST, 'POST', `/api/workflows/${wid}/backtests`, body, { id: wid });
  expect(started.status).toBe(202);
  const bid = started.body.backtest.id as string;
  await (await getRuntime()).backtests.settled(bid);
  return (
    await call(r.backtest.GET, 'GET', `/api/workflows/${wid}/backtests/${bid}`, undefined, { id: wid, bid })
  ).body;
}

describe('backtests and graduation use the model endpoint saved in Settings', () => {
  it('history from real runs (a transform: no model needed)', async () => {
    const created = await call(r.workflows.POST, 'POST', '/api/workflows', {
      definition: triageDefinition(),
    });
    wid = created.body.id;
    for (const t of triageTickets(0.25)) {
      const run = await call(
        r.runs.POST,
        'POST',
        `/api/workflows/${wid}/runs`,
        { input: { text: t.text }, wait: true },
        { id: wid },
      );
      expect(run.body.run.status).toBe('succeeded');
    }
  });

  it('without any endpoint every case falls back as no_model_configured', async () => {
    const b = await backtest({ nodeId: 'label', runs: { limit: 10 } });
    expect(b.report.failureTypes[0]).toMatchObject({ key: 'fallback:no_model_configured', count: 10 });
    expect(mock.requests).toHaveLength(0);
  });

  it('once saved in Settings, the agent and the judge ask that endpoint, with its default model', async () => {
    const saved = await call(r.settings.PUT, 'PUT', '/api/settings/model', {
      baseURL: mock.baseURL,
      apiKey: 'sk-settings-only',
      defaultModel: 'scenario:echo',
    });
    expect(saved.status).toBe(200);
    const b = await backtest({
      nodeId: 'label',
      runs: { limit: 10 },
      scorer: { kind: 'llm_judge' },
      passScore: 0,
    });
    expect(b.backtest.status).toBe('succeeded');
    expect(b.report.fallback.rate).toBe(0);
    expect(b.report.cases).toBe(10);
    const judged = mock.requests.filter((q) =>
      JSON.stringify(q.body.messages).includes('You compare an answer'),
    );
    expect(judged).toHaveLength(10);
    expect(mock.requests.length).toBeGreaterThan(10);
    for (const q of mock.requests) {
      expect(q.body.model).toBe('scenario:echo');
      expect(q.headers.authorization).toBe('Bearer sk-settings-only');
    }
  });

  it('a graduation proposal asks the same endpoint', async () => {
    const before = mock.requests.length;
    const res = await call(
      r.graduation.POST,
      'POST',
      `/api/workflows/${wid}/nodes/label/graduation`,
      { model: 'scenario:graduate' },
      { id: wid, nodeId: 'label' },
    );
    // Queued (202); followed to its end.
    expect(res.status).toBe(202);
    const gid = res.body.graduation.id as string;
    let g: Body;
    for (;;) {
      const got = await call(
        r.proposal.GET,
        'GET',
        `/api/workflows/${wid}/nodes/label/graduation/${gid}`,
        undefined,
        { id: wid, nodeId: 'label', gid },
      );
      g = got.body.graduation;
      if (['succeeded', 'failed', 'cancelled'].includes(g.status)) break;
      await new Promise((done) => setTimeout(done, 20));
    }
    expect(g.status).toBe('succeeded');
    expect(mock.requests.length).toBe(before + 1);
    expect(mock.requests.at(-1)!.scenario).toBe('graduate');
    expect(g.proposal.reason).not.toBe('invalid_answer');
  });
});
