import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { GRADUATION_MIN_AGREEMENT } from '@/lib/promotion/graduate';
import { LABEL_SCHEMA } from '@/lib/promotion/testing/triage';
import { FINAL_GRADUATION_STATUSES } from '@/lib/promotion/graduation-store';
import { getRuntime } from './runtime';
import {
  callJson,
  loadRoute,
  until,
  useEmbeddedRuntime,
  type Body,
  type Handler,
} from './testing/route-harness';

// Graduation over the route handlers with an embedded database: real runs of an llm classifier
// (the scripted model labels by the first label word in the ticket, i.e. a keyword rule) build the
// history; the real SDK asks the scripted model (scenario `graduate`) for a deterministic step.
// Proposing saves nothing; accepting writes one version and one activity row.

let mock: MockLlmServer;
let r: Record<
  'workflows' | 'runs' | 'versions' | 'events' | 'rollout' | 'graduation' | 'proposal' | 'cancel' | 'accept',
  Record<string, Handler>
>;

beforeAll(async () => {
  mock = await startMockLlmServer();
});
const { call, token } = useEmbeddedRuntime('graduation', {
  env: () => ({ OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'mock', OPENAI_MODEL: 'scenario:echo' }),
});
beforeAll(async () => {
  r = {
    workflows: await loadRoute('workflows'),
    runs: await loadRoute('workflows/[id]/runs'),
    versions: await loadRoute('workflows/[id]/versions'),
    events: await loadRoute('workflows/[id]/rollout/events'),
    rollout: await loadRoute('workflows/[id]/rollout'),
    graduation: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation'),
    proposal: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation/[gid]'),
    cancel: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation/[gid]/cancel'),
    accept: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation/accept'),
  };
});
afterAll(async () => {
  await (await getRuntime().catch(() => null))?.rollout.idle();
  await mock?.close();
});

const TICKETS = [
  ...Array.from({ length: 5 }, (_, i) => `billing question ${i} about my invoice`),
  ...Array.from({ length: 5 }, (_, i) => `the app crashes on start (${i}), a bug`),
  ...Array.from({ length: 5 }, (_, i) => `hello ${i}, other things`),
];

let wid = '';
const p = () => ({ id: wid, nodeId: 'label' });
const url = (rest = '') => `/api/workflows/${wid}/nodes/label/graduation${rest}`;
const state = async () => ({
  versions: (await call(r.versions.GET, 'GET', `/api/workflows/${wid}/versions`, undefined, { id: wid })).body
    .versions as { version: number; note: string | null }[],
  events: (await call(r.events.GET, 'GET', `/api/workflows/${wid}/rollout/events`, undefined, { id: wid }))
    .body.events as { kind: string; version: number; evidence: Record<string, unknown> }[],
});

/** GET the proposal until `done` holds, noting every (status, phase, done) it was seen in. */
async function watch(gid: string, done = (g: Body) => FINAL_GRADUATION_STATUSES.includes(g.status)) {
  const seen: string[] = [];
  for (;;) {
    const res = await call(r.proposal.GET, 'GET', url(`/${gid}`), undefined, { ...p(), gid });
    expect(res.status).toBe(200);
    const g = res.body.graduation;
    const at = `${g.status}/${g.phase}/${g.progress.done}`;
    if (seen.at(-1) !== at) seen.push(at);
    if (done(g)) return { graduation: g, seen };
    await new Promise((res) => setTimeout(res, 5));
  }
}

/** POST a proposal (202, queued), then follow it to its end. */
async function propose(body: Record<string, unknown> = { model: 'scenario:graduate' }) {
  const res = await call(r.graduation.POST, 'POST', url(), body, p());
  expect(res.status).toBe(202);
  expect(res.body.graduation).toMatchObject({ status: 'queued', phase: 'queued', proposal: null });
  const { graduation, seen } = await watch(res.body.graduation.id);
  return { ...graduation, seen };
}

describe('graduation over the API', () => {
  it('history: an llm step in shadow whose answers equal a keyword rule', async () => {
    const created = await call(r.workflows.POST, 'POST', '/api/workflows', {
      definition: {
        schemaVersion: 1,
        name: 'Classifier',
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
          {
            id: 'label',
            type: 'llm',
            position: { x: 0, y: 100 },
            config: { prompt: 'Label: {{ input.text }}', outputSchema: LABEL_SCHEMA },
            mode: 'agent',
            agent: { instructions: 'Label the ticket.', tools: ['self'], shadow: true },
          },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'label' }],
      },
    });
    expect(created.status).toBe(201);
    wid = created.body.id;
    for (const text of TICKETS) {
      const run = await call(
        r.runs.POST,
        'POST',
        `/api/workflows/${wid}/runs`,
        { input: { text }, wait: true },
        { id: wid },
      );
      expect(run.body.run.status).toBe('succeeded');
    }
  });

  it('proposes as a queued job: 202, then model → backtest progress → a code step reproducing 100%; saves nothing', async () => {
    const before = await state();
    const g = await propose();
    expect(g).toMatchObject({
      status: 'succeeded',
      phase: 'done',
      version: 1,
      progress: { total: TICKETS.length, done: TICKETS.length },
      error: null,
    });
    // Observed in order: never a later phase before an earlier one, the count never going back.
    const order = ['queued', 'model', 'backtest', 'done'];
    const phases = g.seen.map((s: string) => order.indexOf(s.split('/')[1]));
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    expect(g.seen.at(-1)).toBe(`succeeded/done/${TICKETS.length}`);
    expect(g.proposal).toMatchObject({
      proposed: true,
      nodeType: 'code',
      agreement: 1,
      threshold: GRADUATION_MIN_AGREEMENT,
      cases: TICKETS.length,
      failures: [],
    });
    expect(g.proposal.config.code).toContain('return');
    expect(await state()).toEqual(before);
  });

  it('cancels: a proposal waiting for a slow model ends cancelled with no proposal; a second cancel is 409', async () => {
    const calls = mock.requests.length + 1;
    const res = await call(r.graduation.POST, 'POST', url(), { model: 'scenario:slow' }, p());
    expect(res.status).toBe(202);
    const gid = res.body.graduation.id as string;
    await watch(gid, (g) => g.phase === 'model');
    // The model has the request (and takes MOCK_SLOW_DEFAULT_MS to answer it).
    await until('the slow model call', async () => mock.requests.length === calls);
    const cancel = await call(r.cancel.POST, 'POST', url(`/${gid}/cancel`), undefined, { ...p(), gid });
    expect(cancel.status).toBe(200);
    expect(cancel.body.graduation.cancelRequested).toBe(true);
    const { graduation } = await watch(gid);
    expect(graduation).toMatchObject({ status: 'cancelled', phase: 'done', proposal: null, error: null });
    // The model was not asked again, and no backtest ran.
    expect(mock.requests.length).toBe(calls);
    expect(graduation.progress.done).toBe(0);
    const again = await call(r.cancel.POST, 'POST', url(`/${gid}/cancel`), undefined, { ...p(), gid });
    expect(again.status).toBe(409);
    // Another node's URL does not reach it.
    const other = await call(r.proposal.GET, 'GET', url(`/${gid}`), undefined, {
      ...p(),
      nodeId: 'start',
      gid,
    });
    expect(other.status).toBe(404);
  });

  it('accept checks the base version: a save since the proposal is 409 version_conflict, nothing written', async () => {
    const { proposal, version } = await propose();
    // Someone saves in between: a gates edit is a new version.
    const put = await call(
      r.rollout.PUT,
      'PUT',
      `/api/workflows/${wid}/rollout`,
      { nodeId: 'label', gates: { minSample: 3, window: 5 } },
      { id: wid },
    );
    expect(put.body).toMatchObject({ changed: true, version: version + 1 });
    const before = await state();
    const accept = { nodeType: proposal.nodeType, config: proposal.config };
    const stale = await call(r.accept.POST, 'POST', url('/accept'), { ...accept, baseVersion: version }, p());
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({
      code: 'version_conflict',
      details: { baseVersion: version, currentVersion: version + 1 },
    });
    expect(stale.body.error.details.note).toMatch(/^Gate change/);
    // If-Match names the base the same way.
    const viaHeader = await callJson(r.accept.POST, url('/accept'), {
      method: 'POST',
      body: accept,
      params: p(),
      token,
      headers: { 'if-match': `"${version}"` },
    });
    expect(viaHeader.status).toBe(409);
    expect(viaHeader.body.error.code).toBe('version_conflict');
    const missing = await call(r.accept.POST, 'POST', url('/accept'), { ...accept, baseVersion: 99 }, p());
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.problems[0].path).toBe('/baseVersion');
    expect(await state()).toEqual(before);
  });

  it('accept writes one version: the step as that code step in workflow mode, and a graduation row', async () => {
    const { proposal, version } = await propose();
    const before = await state();
    const res = await call(
      r.accept.POST,
      'POST',
      url('/accept'),
      { nodeType: proposal.nodeType, config: proposal.config, baseVersion: version },
      p(),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ agreement: 1, cases: TICKETS.length });
    expect(res.body.node).toEqual({
      id: 'label',
      type: 'code',
      position: { x: 0, y: 100 },
      config: proposal.config,
      mode: 'workflow',
    });
    const after = await state();
    expect(after.versions).toHaveLength(before.versions.length + 1);
    expect(after.versions[0].note).toMatch(/^Graduation label: llm \(shadow\) → code/);
    expect(after.events).toHaveLength(before.events.length + 1);
    expect(after.events[0]).toMatchObject({
      kind: 'graduation',
      version: res.body.version,
      evidence: { nodeType: 'code', fromType: 'llm', agreement: 1, cases: TICKETS.length },
    });
    // The next run is served by the code step: no model call.
    const calls = mock.requests.length;
    const run = await call(
      r.runs.POST,
      'POST',
      `/api/workflows/${wid}/runs`,
      { input: { text: 'hello, other things' }, wait: true },
      { id: wid },
    );
    expect(run.body.run.status).toBe('succeeded');
    const step = run.body.steps.find((x: { nodeId: string }) => x.nodeId === 'label');
    expect(step).toMatchObject({ mode: 'workflow', status: 'succeeded' });
    expect(mock.requests.length).toBe(calls);
  });

  it('a config below the threshold is 409 unless confirmed; bad input is 4xx with pointers; nothing written', async () => {
    // The history now holds the llm version's runs (graduating the code step again is allowed: it is agent-capable).
    const before = await state();
    const below = await call(
      r.accept.POST,
      'POST',
      url('/accept'),
      { nodeType: 'code', config: { code: "return { label: 'bug' };" }, runs: { limit: 15 } },
      p(),
    );
    expect(below.status).toBe(409);
    expect(below.body.error.details).toMatchObject({ reason: 'below_threshold', pointer: '/confirm' });
    const bad: [unknown, string, Handler, string][] = [
      [{ nodeType: 'code', config: { code: 5 } }, '/config/code', r.accept.POST, '/accept'],
      [{ nodeType: 'python', config: {} }, '/nodeType', r.accept.POST, '/accept'],
      [{ nodeType: 'code', config: { code: 'return 1' }, extra: 1 }, '', r.accept.POST, '/accept'],
      [{ runs: { limit: 0 } }, '/runs/limit', r.graduation.POST, ''],
      [{ version: 99 }, '/version', r.graduation.POST, ''],
    ];
    for (const [body, pointer, h, rest] of bad) {
      const res = await call(h, 'POST', url(rest), body, p());
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (pointer) expect(JSON.stringify(res.body.error), JSON.stringify(body)).toContain(`"${pointer}"`);
    }
    const missing = await call(
      r.graduation.POST,
      'POST',
      `/api/workflows/${wid}/nodes/nope/graduation`,
      {},
      { id: wid, nodeId: 'nope' },
    );
    expect(missing.status).toBe(404);
    expect(await state()).toEqual(before);
  });
});
