import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { MAX_ARTIFACT_BYTES } from '@/lib/workflow/trace';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import type { StepRecord } from '@/lib/engine/trace-store';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { createSandboxServices } from '@/lib/sandbox';
import { sharedBrowserPool } from '@/lib/browser/pool';
import { MAX_BROWSER_ACTIONS, MAX_DOM_SNAPSHOT_BYTES } from '@/lib/browser/limits';
import type { BrowserTrace } from '@/lib/browser/action-log';
import { browserConfigSchema, type BrowserActionInput } from '@/lib/browser/schema';
import { FIXTURE_ORDERS, startFixtureSite, type FixtureSite } from '@/lib/browser/testing/fixture-site';
import type { BrowserOutput } from './browser';
import { validateDefinition } from './validate-definition';

// The browser step end to end: the engine runs a `browser` node against a fixture site on
// 127.0.0.1 in the real Chromium (one shared browser for the file), healing goes through the real
// openai SDK to the scripted model server.

const SECRET = 'hunter2-very-secret-7731';
let site: FixtureSite;
let elsewhere: LocalServer;
let mock: MockLlmServer;

beforeAll(async () => {
  elsewhere = await startLocalServer((_req, res) => res.end('reached'));
  site = await startFixtureSite({ password: SECRET, elsewhere: elsewhere.url });
  mock = await startMockLlmServer();
});
afterAll(async () => {
  await sharedBrowserPool().close();
  await Promise.all([site?.close(), elsewhere?.close(), mock?.close()]);
});

function flow(config: Record<string, unknown>, node: Record<string, unknown> = {}): WorkflowDefinition {
  return {
    schemaVersion: 1,
    name: 'browser',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      { id: 'web', type: 'browser', position: { x: 0, y: 100 }, config, ...node },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'web' }],
  };
}

async function run(def: WorkflowDefinition, opts: { model?: boolean } = {}) {
  const store = new MemoryTraceStore();
  const engine = createEngine({
    store,
    services: createSandboxServices(),
    secrets: () => ({ sitePassword: SECRET }),
    agent: {
      model: opts.model
        ? { baseURL: mock.baseURL, apiKey: 'mock', defaultModel: 'scenario:browser-heal' }
        : () => null,
    },
  });
  const out = await engine.runToCompletion({ definition: def, input: {} });
  const step = (await store.listSteps(out.runId)).find((s: StepRecord) => s.nodeId === 'web')!;
  return { out, step, store, output: step.output as BrowserOutput };
}

const LOGIN_AND_READ: BrowserActionInput[] = [
  { type: 'fill', target: { label: 'User name' }, value: 'alice' },
  { type: 'fill', target: { label: 'Password' }, value: '{{ secrets.sitePassword }}' },
  { type: 'click', target: { role: 'button', name: 'Sign in' } },
  { type: 'waitFor', urlIncludes: '/orders', state: 'visible' },
  { type: 'extract', into: 'page1', as: 'table', target: { role: 'table', name: 'Orders' } },
  { type: 'click', target: { role: 'link', name: 'Next page' } },
  { type: 'waitFor', urlIncludes: 'page=2', state: 'visible' },
  {
    type: 'extract',
    into: 'page2',
    as: 'table',
    target: { css: 'table' },
    schema: { type: 'array', items: { type: 'object', required: ['Order', 'Total'] } },
  },
  { type: 'screenshot' },
];

describe('deterministic replay', () => {
  it('signs in, pages through the table and extracts every row; the secret is typed but never stored', async () => {
    const { out, step, store, output } = await run(
      flow({
        startUrl: `${site.url}/login`,
        allowHosts: [site.hostPort],
        actions: LOGIN_AND_READ,
        captureEachAction: true,
      }),
    );
    expect(out.status, JSON.stringify(step.error)).toBe('succeeded');
    expect(step.mode).toBe('workflow');
    expect(output.extracted.page1).toEqual(FIXTURE_ORDERS.slice(0, 3));
    expect(output.extracted.page2).toEqual(FIXTURE_ORDERS.slice(3));
    expect(output.url).toBe(`${site.url}/orders?page=2`);
    expect(output.title).toBe('Orders, page 2');
    // Typed for real: the site received it.
    expect(site.logins).toContain(SECRET);
    // Every action is logged with its timing and its screenshot, and the screenshots are stored.
    expect(output.actions.map((a) => a.type)).toEqual(['goto', ...LOGIN_AND_READ.map((a) => a.type)]);
    expect(output.actions.every((a) => a.status === 'ok' && a.durationMs >= 0)).toBe(true);
    const artifacts = await store.listArtifacts(step.id);
    expect(artifacts.map((a) => a.id).sort()).toEqual([...output.screenshots].sort());
    expect(artifacts.length).toBe(LOGIN_AND_READ.length + 1);
    const first = await store.getArtifact(output.screenshots[0]);
    expect(first?.mime).toBe('image/jpeg');
    expect([...first!.bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    // The secret is nowhere in the trace: not in the step, not in artifact metadata.
    const trace = JSON.stringify({ step, artifacts, turns: await store.listAgentTurns(step.id) });
    expect(trace).not.toContain(SECRET);
    expect(output.actions[2].value).toBe('{{ secrets.sitePassword }}');
    // What ran is recorded for the next replay: each target's `expect` is what it acted on.
    expect(output.recorded[2]).toMatchObject({
      type: 'click',
      target: {
        role: 'button',
        name: 'Sign in',
        expect: { role: 'button', name: 'Sign in', near: 'Sign in' },
      },
    });
  });

  it('fails on an extract that breaks its schema, naming the action by JSON pointer', async () => {
    const { out, step } = await run(
      flow({
        startUrl: `${site.url}/product`,
        allowHosts: [site.hostPort],
        actions: [{ type: 'extract', into: 'price', target: { css: '.price' }, schema: { type: 'number' } }],
      }),
    );
    expect(out.status).toBe('failed');
    expect(step.error?.code).toBe('unprocessable');
    expect((step.error?.details as { pointer: string }).pointer).toBe('/config/actions/0/schema');
  });
});

const BUY: BrowserActionInput[] = [
  {
    type: 'click',
    target: { css: '#add-to-cart', expect: { role: 'button', name: 'Add to cart', near: 'Buy' } },
  },
  { type: 'extract', into: 'confirmation', target: { role: 'status' } },
];
const GOAL = 'Put the mug in the shopping basket and read the confirmation';

describe('replay, check, heal, record', () => {
  it('replays on the page it was recorded on', async () => {
    const { out, output } = await run(
      flow({ startUrl: `${site.url}/product`, allowHosts: [site.hostPort], actions: BUY }),
    );
    expect(out.status).toBe('succeeded');
    expect(output.extracted.confirmation).toBe('Added to cart');
  });

  it('on the redesign, the old selector resolves to a decoy: missing, not clicked, and the step fails without heal', async () => {
    const { out, step } = await run(
      flow({ startUrl: `${site.url}/product?v=2`, allowHosts: [site.hostPort], actions: BUY }),
    );
    expect(out.status).toBe('failed');
    expect(step.error?.code).toBe('browser_target_missing');
    expect(step.error?.message).toContain('Add to wishlist');
    const details = step.error?.details as {
      pointer: string;
      found: { name: string };
      actions: Array<{ status: string }>;
    };
    expect(details.pointer).toBe('/config/actions/0');
    expect(details.found.name).toBe('Add to wishlist');
    // The decoy was never clicked: the status line is still empty (no "Saved to wishlist").
    expect(JSON.stringify(details)).not.toContain('Saved to wishlist');
    expect(details.actions.at(-1)?.status).toBe('missing');
  });

  it('heals with the interface agent, and the accepted sequence replays without the model', async () => {
    const healedRun = await run(
      flow(
        { startUrl: `${site.url}/product?v=2`, allowHosts: [site.hostPort], actions: BUY, heal: true },
        { agent: { instructions: GOAL } },
      ),
      { model: true },
    );
    expect(healedRun.out.status, JSON.stringify(healedRun.step.error)).toBe('succeeded');
    expect(healedRun.step.mode).toBe('healed');
    expect(healedRun.output.extracted.confirmation).toBe('Added to basket');
    const healed = healedRun.output.healed!;
    expect(healed.fromAction).toBe(0);
    expect(healed.reason).toContain('Add to wishlist');
    expect(healed.actions[0]).toMatchObject({
      type: 'click',
      target: {
        role: 'button',
        name: 'Add to basket',
        expect: { role: 'button', name: 'Add to basket', near: 'Checkout' },
      },
    });
    const turns = await healedRun.store.listAgentTurns(healedRun.step.id);
    const calls = turns
      .filter((t) => t.kind === 'tool_call')
      .map((t) => (t.payload as { name: string }).name);
    expect(calls).toEqual(['observe', 'act', 'extract']);
    expect(healedRun.output.actions.filter((a) => a.by === 'agent').length).toBe(2);

    // Accepted as the step's new actions: the next run needs no model (none is configured).
    const before = mock.requests.length;
    const replay = await run(
      flow({
        startUrl: `${site.url}/product?v=2`,
        allowHosts: [site.hostPort],
        actions: healedRun.output.recorded,
      }),
    );
    expect(replay.out.status, JSON.stringify(replay.step.error)).toBe('succeeded');
    expect(replay.step.mode).toBe('workflow');
    expect(replay.output.extracted.confirmation).toBe('Added to basket');
    expect(mock.requests.length).toBe(before);
  });

  it('agent mode without a model fails with the missing target and says healing had no model', async () => {
    const { out, step } = await run(
      flow(
        { startUrl: `${site.url}/product?v=2`, allowHosts: [site.hostPort], actions: BUY },
        { mode: 'agent', agent: { instructions: GOAL } },
      ),
    );
    expect(out.status).toBe('failed');
    expect(step.error?.code).toBe('browser_target_missing');
    expect((step.error?.details as { healReason: string }).healReason).toBe('no_model_configured');
  });
});

describe('SSRF guard', () => {
  const blockedRun = async (config: Record<string, unknown>) =>
    run(flow({ allowHosts: [site.hostPort], ...config }));

  it('refuses a navigation to a loopback host that is not allowed, and to the metadata address', async () => {
    for (const url of [`${elsewhere.url}/`, 'http://169.254.169.254/latest/meta-data/']) {
      const { out, step } = await blockedRun({
        startUrl: `${site.url}/product`,
        actions: [{ type: 'goto', url }],
      });
      expect(out.status).toBe('failed');
      expect(step.error?.code).toBe('ssrf_blocked');
      expect(step.error?.message).toMatch(/not in this node's allowHosts/);
    }
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses subrequests, fetches and window.open to other hosts and records why', async () => {
    const { out, output } = await blockedRun({
      startUrl: `${site.url}/leaky`,
      actions: [{ type: 'waitFor', target: { role: 'heading', name: 'Leaky' }, state: 'visible' }],
    });
    expect(out.status).toBe('succeeded');
    const urls = output.blocked.map((b) => b.url);
    expect(urls).toContain(`${elsewhere.url}/pixel.png`);
    expect(urls).toContain('http://169.254.169.254/latest/meta-data/');
    expect(output.blocked.every((b) => /allowHosts/.test(b.reason))).toBe(true);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses a redirect to a private address or another host, with the reason', async () => {
    for (const [path, host] of [
      ['/to-private', '10.0.0.1'],
      ['/to-elsewhere', `127.0.0.1:${elsewhere.port}`],
    ]) {
      const { out, step } = await blockedRun({ startUrl: `${site.url}${path}`, actions: [] });
      expect(out.status).toBe('failed');
      expect(step.error?.code).toBe('ssrf_blocked');
      expect(step.error?.message).toContain(`redirect from ${site.hostPort}`);
      expect(step.error?.message).toContain(host);
    }
    expect(elsewhere.requests).toHaveLength(0);
  });

  it("refuses a POST's redirect to another host (the hop after a form post)", async () => {
    const { out, output } = await blockedRun({
      startUrl: `${site.url}/post-away`,
      actions: [{ type: 'click', target: { role: 'button', name: 'Send' } }],
    });
    expect(out.status).toBe('succeeded');
    expect(output.blocked).toContainEqual(
      expect.objectContaining({ url: `${elsewhere.url}/landing`, navigation: true }),
    );
    expect(output.blocked.find((b) => b.url === `${elsewhere.url}/landing`)?.reason).toContain(
      `redirect from ${site.hostPort}`,
    );
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('without allowHosts, the start URL host is reachable only at a public address (loopback refused)', async () => {
    const { out, step } = await run(flow({ startUrl: `${site.url}/product`, actions: [] }));
    expect(out.status).toBe('failed');
    expect(step.error?.code).toBe('ssrf_blocked');
    expect(step.error?.message).toContain('loopback');
  });
});

describe('redirects of a POST (fetch spec), form and fetch()', () => {
  const sendAndFollow = (status: string) =>
    run(
      flow({
        allowHosts: [site.hostPort],
        startUrl: `${site.url}/send?status=${status}`,
        actions: [
          { type: 'click', target: { role: 'button', name: 'Post with fetch' } },
          { type: 'waitFor', target: { css: '#out:not(:empty)' }, state: 'visible' },
          { type: 'extract', into: 'fetched', target: { css: '#out' } },
          { type: 'click', target: { role: 'button', name: 'Post form' } },
          { type: 'waitFor', urlIncludes: '/echo', state: 'visible' },
          { type: 'extract', into: 'method', target: { css: '#method' } },
          { type: 'extract', into: 'body', target: { css: '#body' } },
        ],
      }),
    );
  // What /echo received, in order: the fetch's hop, then the form's.
  const echoed = (since: number) =>
    site.requests
      .slice(since)
      .filter((r) => r.url === '/echo')
      .map((r) => `${r.method} ${r.body}`);

  it('307 and 308 keep the method and the body', async () => {
    for (const status of ['307', '308']) {
      const since = site.requests.length;
      const { out, output } = await sendAndFollow(status);
      expect(out.status).toBe('succeeded');
      expect(echoed(since)).toEqual(['POST note=kept', 'POST note=kept']);
      expect(output.extracted).toMatchObject({
        fetched: 'POST note=kept',
        method: 'POST',
        body: 'note=kept',
      });
    }
  });

  it('301, 302 and 303 turn a POST into a GET without a body', async () => {
    for (const status of ['301', '302', '303']) {
      const since = site.requests.length;
      const { out, output } = await sendAndFollow(status);
      expect(out.status).toBe('succeeded');
      expect(echoed(since)).toEqual(['GET ', 'GET ']);
      expect(output.extracted).toMatchObject({ fetched: 'GET', method: 'GET', body: '' });
    }
  });
});

describe('DOM snapshots', () => {
  const actions: BrowserActionInput[] = [
    { type: 'fill', target: { label: 'Token' }, value: '{{ secrets.sitePassword }}' },
    { type: 'goto', url: `{{ input.big }}` },
    { type: 'click', target: { role: 'button', name: 'Nowhere' } },
  ];
  const config = () => ({
    allowHosts: [site.hostPort],
    startUrl: `${site.url}/mirror`,
    timeoutMs: 1000,
    actions,
  });

  it('are off by default', async () => {
    const { step } = await run(flow(config()));
    const trace = step.error?.details as unknown as BrowserTrace;
    expect(trace.actions.length).toBeGreaterThan(0);
    expect(trace.actions.some((a) => a.dom)).toBe(false);
  });

  it(`with domSnapshots: one after each action and one at the failure, secrets replaced, cut at MAX_DOM_SNAPSHOT_BYTES (${MAX_DOM_SNAPSHOT_BYTES})`, async () => {
    const def = flow({ ...config(), domSnapshots: true });
    const store = new MemoryTraceStore();
    const engine = createEngine({
      store,
      services: createSandboxServices(),
      secrets: () => ({ sitePassword: SECRET }),
      agent: { model: () => null },
    });
    const out = await engine.runToCompletion({ definition: def, input: { big: `${site.url}/big` } });
    expect(out.status).toBe('failed');
    const step = (await store.listSteps(out.runId)).find((s) => s.nodeId === 'web')!;
    const trace = step.error?.details as unknown as BrowserTrace;
    expect(trace.actions.map((a) => [a.type, a.status, !!a.dom])).toEqual([
      ['goto', 'ok', true],
      ['fill', 'ok', true],
      ['goto', 'ok', true],
      ['click', 'missing', true],
    ]);
    const artifacts = await store.listArtifacts(step.id);
    expect(artifacts.filter((a) => a.kind === 'dom')).toHaveLength(4);
    const afterFill = await store.getArtifact(trace.actions[1].dom!);
    expect(afterFill?.mime).toBe('text/html; charset=utf-8');
    const html = Buffer.from(afterFill!.bytes).toString();
    // The page echoed the secret into its own text; the snapshot has it replaced.
    expect(html).toContain('typed: ••••••');
    const big = await store.getArtifact(trace.actions[2].dom!);
    expect(big!.size).toBeGreaterThan(MAX_DOM_SNAPSHOT_BYTES);
    expect(big!.size).toBeLessThan(MAX_DOM_SNAPSHOT_BYTES + 200);
    expect(Buffer.from(big!.bytes).toString().trimEnd()).toMatch(/cut by Trellis at \d+ of \d+ bytes -->$/);
    expect(artifacts.find((a) => a.id === trace.actions[2].dom)?.meta).toMatchObject({ truncated: true });
    for (const a of artifacts) {
      const bytes = Buffer.from((await store.getArtifact(a.id))!.bytes).toString('latin1');
      expect(bytes).not.toContain(SECRET);
    }
    expect(JSON.stringify({ step, artifacts })).not.toContain(SECRET);
  });
});

describe('limits', () => {
  it(`MAX_BROWSER_ACTIONS (${MAX_BROWSER_ACTIONS}) actions per step`, () => {
    const action = { type: 'screenshot' };
    expect(
      browserConfigSchema.safeParse({
        startUrl: 'https://a.example',
        actions: Array(MAX_BROWSER_ACTIONS).fill(action),
      }).success,
    ).toBe(true);
    const over = browserConfigSchema.safeParse({
      startUrl: 'https://a.example',
      actions: Array(MAX_BROWSER_ACTIONS + 1).fill(action),
    });
    expect(over.success).toBe(false);
    expect(over.error?.issues[0].path).toEqual(['actions']);
  });

  it('a target names exactly one way to find it', () => {
    const bad = browserConfigSchema.safeParse({
      startUrl: 'https://a.example',
      actions: [{ type: 'click', target: { css: '#a', text: 'A' } }],
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['actions', 0, 'target']);
  });

  it('validation names each bad action field by JSON pointer, all at once', () => {
    const res = validateDefinition(
      flow({
        startUrl: 'https://a.example',
        actions: [
          { type: 'click', target: { css: '#a', text: 'A' } },
          { type: 'fill', target: { label: 'Name' } },
          { type: 'teleport' },
        ],
      }),
    );
    const paths = res.problems.map((p) => p.path);
    expect(paths).toContain('/nodes/1/config/actions/0/target');
    expect(paths).toContain('/nodes/1/config/actions/1/value');
    expect(paths.some((p) => p.startsWith('/nodes/1/config/actions/2'))).toBe(true);
  });

  it(`MAX_ARTIFACT_BYTES (${MAX_ARTIFACT_BYTES}) per artifact`, async () => {
    const store = new MemoryTraceStore();
    const r = await store.createRun({
      workflowId: null,
      workflowVersionId: null,
      version: null,
      definition: flow({}),
      input: {},
      trigger: 'manual',
    });
    const stepId = await store.startStep({
      runId: r.id,
      nodeId: 'web',
      nodeType: 'browser',
      attempt: 1,
      mode: 'workflow',
      input: {},
      startedAt: new Date(),
    });
    await expect(
      store.saveArtifact(stepId, {
        kind: 'screenshot',
        mime: 'image/jpeg',
        bytes: new Uint8Array(MAX_ARTIFACT_BYTES),
      }),
    ).resolves.toBeTruthy();
    await expect(
      store.saveArtifact(stepId, {
        kind: 'screenshot',
        mime: 'image/jpeg',
        bytes: new Uint8Array(MAX_ARTIFACT_BYTES + 1),
      }),
    ).rejects.toMatchObject({ code: 'payload_too_large' });
  });
});
