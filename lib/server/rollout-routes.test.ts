import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLOUT_EVENT_KINDS } from '@/lib/workflow/rollout';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { openedRuntime } from './runtime';
import { callJson, loadRoute, useEmbeddedRuntime, type Body, type Handler } from './testing/route-harness';

// Rollout over the real API handlers, the process runtime (embedded database, in-process engine
// and its rollout watcher) and the real openai SDK against the scripted model server. The fault:
// the model starts failing mid-traffic; the promise: the canary step is rolled back to shadow
// within one gate window, and the new version, the activity log and the evidence say why.

let mock: MockLlmServer;
let routes: Record<
  'workflows' | 'workflow' | 'versions' | 'runs' | 'rollout' | 'kill' | 'events',
  Record<string, Handler>
>;

beforeAll(async () => {
  mock = await startMockLlmServer();
});
const { token } = useEmbeddedRuntime('rollout-routes', {
  env: () => ({ OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'mock', OPENAI_MODEL: 'scenario:echo' }),
});

beforeAll(async () => {
  routes = {
    workflows: await loadRoute('workflows'),
    workflow: await loadRoute('workflows/[id]'),
    versions: await loadRoute('workflows/[id]/versions'),
    runs: await loadRoute('workflows/[id]/runs'),
    rollout: await loadRoute('workflows/[id]/rollout'),
    kill: await loadRoute('workflows/[id]/rollout/kill'),
    events: await loadRoute('workflows/[id]/rollout/events'),
  };
});

afterAll(async () => {
  // Before the runtime closes: the rollout watcher may still be evaluating.
  await (await openedRuntime()?.catch(() => null))?.rollout.idle();
  await mock?.close();
});

const call = (h: Handler, method: string, body?: unknown, params: Record<string, string> = {}, query = '') =>
  callJson(h, `/api/x${query}`, { method, body, params, token });

const agentStep = (id: string) => ({
  id,
  type: 'transform',
  position: { x: 0, y: 100 },
  config: { value: { label: "{{ /invoice/i.test(input.text) ? 'billing' : 'other' }}" } },
  mode: 'agent',
  agent: { instructions: 'Label the text.', tools: [], shadow: true },
});

const definition = {
  schemaVersion: 1,
  name: 'Rollout',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    agentStep('label'),
    { ...agentStep('tone'), position: { x: 200, y: 100 } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'label' },
    { id: 'e2', source: 'start', target: 'tone' },
  ],
};

const WINDOW = 10;
const gates = { minSample: WINDOW, window: WINDOW, maxFallbackRate: 0.2 };

async function runOnce(id: string) {
  const r = await call(routes.runs.POST, 'POST', { input: { text: 'an invoice' }, wait: true }, { id });
  expect(r.body.run.status).toBe('succeeded');
  // The watcher reads the gates as the run finishes; wait for it so each step below is exact.
  await (await (await import('./runtime')).getRuntime()).rollout.idle();
  return r.body;
}

async function stageOf(id: string, nodeId: string) {
  const s = await call(routes.rollout.GET, 'GET', undefined, { id }, `?nodeId=${nodeId}`);
  return s.body.steps[0];
}

describe('rollout routes', () => {
  it('a model that starts failing mid-traffic rolls the canary back within one window, and records why', async () => {
    mock.force(null);
    const created = await call(routes.workflows.POST, 'POST', { definition });
    const id = created.body.id as string;
    const p = { id };

    // Gates first, then canary: without evidence the gates do not pass, so it takes a confirm.
    expect((await call(routes.rollout.PUT, 'PUT', { nodeId: 'label', gates }, p)).body).toMatchObject({
      changed: true,
      version: 2,
    });
    const refused = await call(
      routes.rollout.PUT,
      'PUT',
      { nodeId: 'label', stage: 'canary', canaryPercent: 50 },
      p,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toMatchObject({ reason: 'gates_not_passing', pointer: '/confirm' });
    const canary = await call(
      routes.rollout.PUT,
      'PUT',
      { nodeId: 'label', stage: 'canary', canaryPercent: 50, confirm: true },
      p,
    );
    expect(canary.body).toMatchObject({
      changed: true,
      version: 3,
      to: { stage: 'canary', canaryPercent: 50 },
    });

    // Healthy traffic: a full window passes and nothing moves.
    const arms = new Set<string>();
    for (let i = 0; i < WINDOW + 2; i++) {
      const run = await runOnce(id);
      arms.add(run.steps.find((s: Body) => s.nodeId === 'label').mode);
    }
    expect([...arms].sort()).toEqual(['agent', 'shadow']);
    let state = await stageOf(id, 'label');
    expect(state).toMatchObject({ label: 'canary 50%', verdict: { status: 'pass', sample: WINDOW } });

    // The fault: every model call fails from now on.
    mock.force('server-error');
    let runsUntilRollback = 0;
    while (runsUntilRollback < WINDOW) {
      await runOnce(id);
      runsUntilRollback++;
      state = await stageOf(id, 'label');
      if (state.stage.stage !== 'canary') break;
    }
    console.log(`rolled back after ${runsUntilRollback} failing runs (window ${WINDOW})`);
    expect(state.stage).toEqual({ stage: 'shadow' });
    // maxFallbackRate 20% of 10: the third failure in the window is the first over the gate.
    expect(runsUntilRollback).toBe(3);

    // Why, in three places: the version's note, the activity log (the event), its evidence.
    const versions = await call(routes.versions.GET, 'GET', undefined, p);
    const latest = versions.body.versions[0];
    expect(latest.version).toBe(4);
    expect(latest.note).toMatch(
      /^Automatic rollback label: canary 50% → shadow\. Gate failed at canary 50%: fallback rate 30% > 20% \(10 steps\)/,
    );
    const events = await call(routes.events.GET, 'GET', undefined, p, '?nodeId=label');
    const rollback = events.body.events[0];
    expect(rollback).toMatchObject({
      kind: 'rollback',
      nodeId: 'label',
      fromStage: 'canary 50%',
      toStage: 'shadow',
      version: 4,
      actor: 'system',
    });
    const failing = rollback.evidence.verdict.gates.find((g: Body) => g.gate === 'fallbackRate');
    expect(failing).toMatchObject({ status: 'fail', value: 0.3, threshold: 0.2, over: 10 });
    // The canvas marks the step: the rolled-back node carries why.
    const wf = await call(routes.workflow.GET, 'GET', undefined, p);
    const label = wf.body.definition.nodes.find((n: Body) => n.id === 'label');
    expect(label.agent.rolledBack).toMatchObject({ from: 'canary 50%' });
    expect(label.agent.rolledBack.reason).toContain('fallback rate 30% > 20%');
    // The other step was never in canary and is untouched; only one rollback was written.
    expect((await stageOf(id, 'tone')).label).toBe('shadow');
    expect(events.body.events.filter((e: Body) => e.kind === 'rollback')).toHaveLength(1);

    // After the rollback the deterministic output serves every run again.
    const after = await runOnce(id);
    expect(after.steps.find((s: Body) => s.nodeId === 'label').mode).toBe('shadow');
    expect(after.run.output).toBeDefined();
    mock.force(null);
  });

  it('the kill switch demotes every agent step in one version', async () => {
    const created = await call(routes.workflows.POST, 'POST', { definition });
    const p = { id: created.body.id as string };
    await call(routes.rollout.PUT, 'PUT', { nodeId: 'label', stage: 'agent', confirm: true }, p);
    const killed = await call(routes.kill.POST, 'POST', { reason: 'provider incident' }, p);
    expect(killed.status).toBe(200);
    expect(killed.body).toMatchObject({ changed: true, version: 3 });
    expect(killed.body.demoted).toEqual([
      { nodeId: 'label', from: 'agent' },
      { nodeId: 'tone', from: 'shadow' },
    ]);
    const wf = await call(routes.workflow.GET, 'GET', undefined, p);
    for (const n of wf.body.definition.nodes.slice(1)) expect(n.mode).toBe('workflow');
    const events = await call(routes.events.GET, 'GET', undefined, p, '?nodeId=tone');
    expect(events.body.events[0]).toMatchObject({
      kind: 'kill_switch',
      nodeId: null,
      version: 3,
      reason: 'provider incident',
    });
    // Nothing left to demote: no new version.
    expect((await call(routes.kill.POST, 'POST', {}, p)).body).toMatchObject({
      changed: false,
      version: null,
    });
    expect((await call(routes.versions.GET, 'GET', undefined, p)).body.versions[0].version).toBe(3);
  });

  it('bad input is a 4xx naming the field, and nothing is written', async () => {
    const created = await call(routes.workflows.POST, 'POST', { definition });
    const p = { id: created.body.id as string };
    const bad = async (body: unknown, pointer: string) => {
      const r = await call(routes.rollout.PUT, 'PUT', body, p);
      expect(r.status).toBe(400);
      expect(r.body.error.details.problems.map((x: Body) => x.path)).toContain(pointer);
    };
    await bad({ nodeId: 'label', gates: { maxFallbackRate: 2 } }, '/gates/maxFallbackRate');
    await bad({ nodeId: 'label', gates: { window: 100_000 } }, '/gates/window');
    await bad({ nodeId: 'label', stage: 'canary', canaryPercent: 100 }, '/canaryPercent');
    await bad({ nodeId: 'label', stage: 'shadow', canaryPercent: 10 }, '/canaryPercent');
    await bad({ nodeId: 'label', stage: 'rocket' }, '/stage');
    await bad({ nodeId: 'label' }, '/stage');
    await bad({ nodeId: 'label', stage: 'agent', extra: 1 }, '');
    expect((await call(routes.rollout.PUT, 'PUT', { nodeId: 'start', stage: 'agent' }, p)).status).toBe(422);
    expect((await call(routes.rollout.PUT, 'PUT', { nodeId: 'ghost', stage: 'agent' }, p)).status).toBe(404);
    expect((await call(routes.events.GET, 'GET', undefined, p, '?cursor=nope')).status).toBe(400);
    expect((await call(routes.events.GET, 'GET', undefined, p, '?limit=100000')).status).toBe(400);
    expect((await call(routes.versions.GET, 'GET', undefined, p)).body.versions).toHaveLength(1);
  });
});

describe('a step whose effects cannot happen twice (browser)', () => {
  it('is offered workflow → agent only; shadow and canary are refused as stage_not_supported', async () => {
    const created = await call(routes.workflows.POST, 'POST', {
      definition: {
        schemaVersion: 1,
        name: 'Browser rollout',
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
          {
            id: 'shop',
            type: 'browser',
            position: { x: 0, y: 100 },
            config: {
              startUrl: 'https://shop.example/product',
              allowHosts: ['shop.example'],
              actions: [{ type: 'click', target: { role: 'button', name: 'Add to cart' } }],
            },
          },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'shop' }],
      },
    });
    expect(created.status).toBe(201);
    const p = { id: created.body.id as string };
    const state = await call(routes.rollout.GET, 'GET', undefined, p, '?nodeId=shop');
    expect(state.body.steps[0]).toMatchObject({
      stage: { stage: 'workflow' },
      stages: ['workflow', 'agent'],
      next: { stage: 'agent' },
    });
    for (const body of [
      { nodeId: 'shop', stage: 'shadow' },
      { nodeId: 'shop', stage: 'canary', canaryPercent: 10, confirm: true },
    ]) {
      const r = await call(routes.rollout.PUT, 'PUT', body, p);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.body.error).toMatchObject({
        code: 'stage_not_supported',
        details: { pointer: '/stage', stage: body.stage, allowed: ['workflow', 'agent'] },
      });
    }
    expect((await call(routes.versions.GET, 'GET', undefined, p)).body.versions).toHaveLength(1);
    // Its own stages still move (agent asks for confirm: no gate has evidence yet).
    const agent = await call(routes.rollout.PUT, 'PUT', { nodeId: 'shop', stage: 'agent', confirm: true }, p);
    expect(agent.body).toMatchObject({ changed: true, to: { stage: 'agent' } });
    const after = await call(routes.rollout.GET, 'GET', undefined, p, '?nodeId=shop');
    // From agent, "back" is workflow: there is no shadow to land in.
    expect(after.body.steps[0]).toMatchObject({ stage: { stage: 'agent' }, next: null });
  });
});

describe('rollout event kinds', () => {
  it('docs/api.md names exactly ROLLOUT_EVENT_KINDS for the events route', () => {
    const api = readFileSync(path.join(process.cwd(), 'docs/api.md'), 'utf8');
    const line = api.split('\n').find((l) => l.includes('/rollout/events'))!;
    const listed = line
      .slice(line.indexOf('`kind`:'))
      .split(';')[0]
      .match(/`[a-z_]+`/g)!
      .map((k) => k.slice(1, -1))
      .filter((k) => k !== 'kind');
    expect(listed).toEqual([...ROLLOUT_EVENT_KINDS]);
  });
});
