import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triageDefinition, triageTickets } from '@/lib/promotion/testing/triage';
import { getRuntime } from './runtime';
import { loadRoute, useEmbeddedRuntime, type Body, type Handler } from './testing/route-harness';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';

// Backtests end to end on the route handlers (Request in, Response out) with an embedded
// database: real runs build the history, the real openai SDK talks to the scripted model server,
// and a recording HTTP server counts what reaches the outside during a replay.

let routes: Record<
  'workflows' | 'runs' | 'backtests' | 'backtest' | 'cases' | 'cancel' | 'compare',
  Record<string, Handler>
>;
let mock: MockLlmServer;
let outside: LocalServer;
let settled: (id: string) => Promise<void>;

beforeAll(async () => {
  mock = await startMockLlmServer();
  outside = await startLocalServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"customer":"vip"}');
  });
});
const { call } = useEmbeddedRuntime('backtests', {
  env: () => ({ OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'mock', OPENAI_MODEL: 'scenario:echo' }),
});

beforeAll(async () => {
  routes = {
    workflows: await loadRoute('workflows'),
    runs: await loadRoute('workflows/[id]/runs'),
    backtests: await loadRoute('workflows/[id]/backtests'),
    backtest: await loadRoute('workflows/[id]/backtests/[bid]'),
    cases: await loadRoute('workflows/[id]/backtests/[bid]/cases'),
    cancel: await loadRoute('workflows/[id]/backtests/[bid]/cancel'),
    compare: await loadRoute('workflows/[id]/backtests/compare'),
  };
  const rt = await getRuntime();
  settled = (id) => rt.backtests.settled(id);
});

afterAll(async () => {
  await Promise.all([mock?.close(), outside?.close()]);
});

const tickets = () => triageTickets(1, outside.url);
const TOTAL = 40;
let wid = '';

async function backtest(body: Record<string, unknown>) {
  const started = await call(routes.backtests.POST, 'POST', `/api/workflows/${wid}/backtests`, body, {
    id: wid,
  });
  expect(started.status).toBe(202);
  const bid = started.body.backtest.id as string;
  await settled(bid);
  const got = await call(routes.backtest.GET, 'GET', `/api/workflows/${wid}/backtests/${bid}`, undefined, {
    id: wid,
    bid,
  });
  expect(got.status).toBe(200);
  return { bid, ...got.body } as Body & { bid: string };
}

describe('backtests over the API', () => {
  it('history from real runs', async () => {
    const created = await call(routes.workflows.POST, 'POST', '/api/workflows', {
      definition: triageDefinition({ allowHost: `127.0.0.1:${outside.port}` }),
    });
    expect(created.status).toBe(201);
    wid = created.body.id;
    for (const t of tickets()) {
      const run = await call(
        routes.runs.POST,
        'POST',
        `/api/workflows/${wid}/runs`,
        { input: { text: t.text }, wait: true },
        { id: wid },
      );
      expect(run.body.run.status).toBe('succeeded');
    }
  });

  it('finds the known failing class as one failure type with its count, with 0 outbound requests', async () => {
    const before = mock.requests.length;
    // follow-links: the model tries to GET the URL in every refund ticket; nothing was recorded.
    const r = await backtest({
      nodeId: 'label',
      agent: { model: 'scenario:follow-links' },
      runs: { limit: TOTAL },
    });
    expect(r.backtest.status).toBe('succeeded');
    expect(r.backtest.progress).toEqual({ total: TOTAL, done: TOTAL });
    expect(r.report.cases).toBe(TOTAL);
    expect(r.report.agreed).toBe(TOTAL - 8);
    expect(r.report.agreement).toBe(0.8);
    expect(r.report.failureTypes).toHaveLength(1);
    expect(r.report.failureTypes[0]).toMatchObject({
      key: 'diff:/label',
      kind: 'diff',
      count: 8,
      transitions: [{ path: '/label', expected: 'billing', actual: 'bug', count: 8 }],
    });
    expect(r.report.refusedToolCalls).toBe(8);
    // Against the deterministic step: its recorded latency and cost per case (a transform costs nothing).
    expect(r.report.costUsd.deterministic).toEqual({ p50: 0, p95: 0, mean: 0 });
    expect(r.report.latencyMs.deterministic.p50).toEqual(expect.any(Number));
    expect(r.report.costUsd.mean).toBeGreaterThan(0);
    // The model was asked; the outside never was.
    expect(mock.requests.length).toBeGreaterThan(before);
    expect(outside.requests).toHaveLength(0);

    // Each failing case links to its source run, and its input is a refund ticket.
    const cases = await call(
      routes.cases.GET,
      'GET',
      `/api/workflows/${wid}/backtests/${r.bid}/cases?failureType=${encodeURIComponent('diff:/label')}&limit=100`,
      undefined,
      { id: wid, bid: r.bid },
    );
    expect(cases.body.items).toHaveLength(8);
    for (const c of cases.body.items) {
      expect(c.input.text).toMatch(/^refund/);
      expect(c).toMatchObject({
        outcome: 'ok',
        agreed: false,
        expected: { label: 'billing' },
        actual: { label: 'bug' },
        refusedCalls: 1,
      });
      expect(typeof c.runId).toBe('string');
    }
  });

  it('read_only lets a read-only tool really run: the same counter sees it', async () => {
    const r = await backtest({
      nodeId: 'label',
      agent: { model: 'scenario:follow-links' },
      tools: 'read_only',
      runs: { limit: TOTAL },
    });
    expect(r.backtest.status).toBe('succeeded');
    expect(r.report.refusedToolCalls).toBe(0);
    expect(outside.requests.length).toBe(8);
    outside.requests.length = 0;
  });

  it('answers `self` from the recorded deterministic output', async () => {
    const before = mock.requests.length;
    const r = await backtest({
      nodeId: 'label',
      agent: { model: 'scenario:tool-then-answer' },
      runs: { limit: 5 },
    });
    expect(r.report).toMatchObject({ cases: 5, refusedToolCalls: 0 });
    // The model saw the recorded label as the tool's result: the deterministic step did not run again.
    const toolMessages = mock.requests
      .slice(before)
      .flatMap((q) =>
        q.body.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(String(m.content))),
      );
    expect(toolMessages).toHaveLength(5);
    // (The newest five runs are refund tickets, labelled billing by the rule.)
    for (const m of toolMessages) expect(m).toEqual({ label: 'billing' });
    expect(outside.requests).toHaveLength(0);
  });

  it('pages cases with a cursor, each once, in order', async () => {
    const r = await backtest({ nodeId: 'label', runs: { limit: TOTAL } });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = await call(
        routes.cases.GET,
        'GET',
        `/api/workflows/${wid}/backtests/${r.bid}/cases?limit=15${q}`,
        undefined,
        { id: wid, bid: r.bid },
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((c: { seq: number }) => c.seq));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    const bad = await call(
      routes.cases.GET,
      'GET',
      `/api/workflows/${wid}/backtests/${r.bid}/cases?cursor=nope`,
      undefined,
      { id: wid, bid: r.bid },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.problems[0].path).toBe('/cursor');

    // Side by side with another model over the same history.
    const other = await backtest({
      nodeId: 'label',
      agent: { model: 'scenario:always-invalid' },
      runs: { limit: TOTAL },
    });
    expect(other.report.failureTypes[0]).toMatchObject({ key: 'fallback:invalid_output', count: TOTAL });
    const cmp = await call(
      routes.compare.GET,
      'GET',
      `/api/workflows/${wid}/backtests/compare?a=${r.bid}&b=${other.bid}`,
      undefined,
      { id: wid },
    );
    expect(cmp.status).toBe(200);
    expect(cmp.body.comparison).toMatchObject({ matched: TOTAL, agreement: { a: 0.8, b: 0, delta: -0.8 } });
    expect(cmp.body.comparison.regressedCount).toBe(TOTAL - 8);
    expect(cmp.body.comparison.regressed).toHaveLength(20);
  });

  it('the llm_judge scorer (off unless asked for) asks the model once per answered case', async () => {
    const judged = () =>
      mock.requests.filter((q) => JSON.stringify(q.body.messages).includes('You compare an answer')).length;
    const before = judged();
    await backtest({ nodeId: 'label', runs: { limit: 5 } });
    expect(judged()).toBe(before);
    const r = await backtest({
      nodeId: 'label',
      runs: { limit: 5 },
      scorer: { kind: 'llm_judge' },
      passScore: 0.5,
    });
    expect(judged() - before).toBe(5);
    // The scripted judge answers the schema's minimum, 0: nothing agrees, and its spend is counted.
    expect(r.report).toMatchObject({ cases: 5, agreed: 0, scores: { mean: 0 } });
    expect(r.backtest.tokens).toBeGreaterThan(0);
  });

  it('the code and numeric scorers over the API', async () => {
    // Half a point for the right label family: the refund class (billing → bug) scores 0.5.
    const code = await backtest({
      nodeId: 'label',
      runs: { limit: TOTAL },
      scorer: {
        kind: 'code',
        code: 'return expected.label === actual.label ? 1 : input.text.includes("refund") ? 0.5 : 0;',
      },
      passScore: 0.5,
    });
    expect(code.backtest.status).toBe('succeeded');
    expect(code.report).toMatchObject({ cases: TOTAL, agreed: TOTAL, scores: { mean: 0.9 } });
    const numeric = await backtest({
      nodeId: 'label',
      runs: { limit: TOTAL },
      scorer: { kind: 'numeric', tolerance: 0.1 },
    });
    // Labels are strings: the tolerance changes nothing, agreement is the exact one.
    expect(numeric.report.agreement).toBe(0.8);
  });

  it('stops at its budget', async () => {
    const r = await backtest({ nodeId: 'label', runs: { limit: TOTAL }, concurrency: 1, budgetUsd: 0.05 });
    expect(r.backtest.status).toBe('budget_exceeded');
    expect(r.backtest.progress.done).toBeGreaterThan(0);
    expect(r.backtest.progress.done).toBeLessThan(TOTAL);
    expect(r.backtest.costUsd).toBeLessThanOrEqual(0.05);
  });

  it('cancels: the running replay stops and keeps what it finished', async () => {
    const started = await call(
      routes.backtests.POST,
      'POST',
      `/api/workflows/${wid}/backtests`,
      { nodeId: 'label', agent: { model: 'scenario:slow' }, runs: { limit: TOTAL }, concurrency: 1 },
      { id: wid },
    );
    const bid = started.body.backtest.id;
    const cancelled = await call(
      routes.cancel.POST,
      'POST',
      `/api/workflows/${wid}/backtests/${bid}/cancel`,
      undefined,
      { id: wid, bid },
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.backtest.cancelRequested).toBe(true);
    await settled(bid);
    const got = await call(routes.backtest.GET, 'GET', `/api/workflows/${wid}/backtests/${bid}`, undefined, {
      id: wid,
      bid,
    });
    expect(got.body.backtest.status).toBe('cancelled');
    expect(got.body.backtest.progress.done).toBeLessThan(TOTAL);
    const again = await call(
      routes.cancel.POST,
      'POST',
      `/api/workflows/${wid}/backtests/${bid}/cancel`,
      undefined,
      { id: wid, bid },
    );
    expect(again.status).toBe(409);
  });

  it('a backtest its process left running ends failed on restart; a queued one runs', async () => {
    const { getRuntime } = await import('./runtime');
    const { createInProcessBacktests } = await import('./backtest-host');
    const { PrismaBacktestStore } = await import('@/lib/db/backtest-store');
    const { INTERRUPTED } = await import('@/lib/promotion/job');
    const { backtestRequestSchema } = await import('@/lib/promotion/spec');
    const rt = await getRuntime();
    const store = new PrismaBacktestStore(rt.db);
    const request = backtestRequestSchema.parse({ nodeId: 'label', runs: { limit: 3 } });
    const left = await store.create({ workflowId: wid, nodeId: 'label', version: 1, request });
    expect(await store.claim(left.id, 3)).toBe(true);
    const queued = await store.create({ workflowId: wid, nodeId: 'label', version: 1, request });
    // What a new process does on start (createRuntime in embedded mode).
    const host = createInProcessBacktests(rt.db);
    await host.recover();
    await host.settled(queued.id);
    expect(await store.get(left.id)).toMatchObject({ status: 'failed', error: { message: INTERRUPTED } });
    expect(await store.get(queued.id)).toMatchObject({ status: 'succeeded', done: 3 });
  });

  it('bad requests are 4xx naming the field by JSON pointer, and store nothing', async () => {
    const post = (body: unknown) =>
      call(routes.backtests.POST, 'POST', `/api/workflows/${wid}/backtests`, body, { id: wid });
    const before = (
      await call(routes.backtests.GET, 'GET', `/api/workflows/${wid}/backtests?limit=100`, undefined, {
        id: wid,
      })
    ).body.backtests.length;
    const cases: [unknown, string][] = [
      [{ nodeId: 'nope' }, '/nodeId'],
      [{ nodeId: 'start' }, '/nodeId'],
      [{ nodeId: 'label', runs: { limit: 1001 } }, '/runs/limit'],
      [{ nodeId: 'label', version: 99 }, '/version'],
      [{ nodeId: 'label', scorer: { kind: 'fields', fields: ['label'] } }, '/scorer/fields/0'],
      [{ nodeId: 'label', scorer: { kind: 'nope' } }, '/scorer/kind'],
      // A code scorer that does not parse is refused before it could fail every case.
      [{ nodeId: 'label', scorer: { kind: 'code', code: 'return (expected' } }, '/scorer/code'],
      [{ nodeId: 'label', scorer: { kind: 'numeric', tolerance: -1 } }, '/scorer/tolerance'],
      [{ nodeId: 'label', concurrency: 0 }, '/concurrency'],
      [{ nodeId: 'label', tools: 'all' }, '/tools'],
      [{}, '/nodeId'],
    ];
    for (const [body, path] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.details.problems.map((p: { path: string }) => p.path)).toContain(path);
    }
    const missing = await call(
      routes.backtests.POST,
      'POST',
      `/api/workflows/no-such/backtests`,
      { nodeId: 'label' },
      { id: 'no-such' },
    );
    expect(missing.status).toBe(404);
    const none = await call(routes.backtest.GET, 'GET', `/api/workflows/${wid}/backtests/nope`, undefined, {
      id: wid,
      bid: 'nope',
    });
    expect(none.status).toBe(404);
    const after = (
      await call(routes.backtests.GET, 'GET', `/api/workflows/${wid}/backtests?limit=100`, undefined, {
        id: wid,
      })
    ).body.backtests.length;
    expect(after).toBe(before);
  });
});
