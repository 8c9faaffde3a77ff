import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { createChatClient } from '@/lib/agent/model-client';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { createSandboxServices, shutdownSandbox } from '@/lib/sandbox';
import type { WorkflowNode } from '@/lib/workflow/definition';
import { createEngine } from './engine';
import { engineStores, wf, type StoreHandle } from './testing/harness';

// An agent's http tool calls carry Idempotency-Keys like http.request steps do: named by the
// step's effect (run, frame path, node, item), the call's place in its attempt and the request.
// Engine A's agent is stuck in its first POST (a worker that lost its lease or died); engine B
// resumes the run and the agent's next attempt makes the same call again: the recording server
// sees it twice with one key, and the agent's other call with another.

afterAll(() => shutdownSandbox());

let mock: MockLlmServer;
let api: LocalServer;
/** Paths whose first request is never answered (A is as good as dead); destroyed at the end. */
const holdFirst = new Set<string>();
const held: ServerResponse[] = [];

beforeAll(async () => {
  mock = await startMockLlmServer();
  api = await startLocalServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (holdFirst.delete(path)) return void held.push(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true }));
  });
});
afterAll(async () => {
  for (const r of held) r.destroy();
  await Promise.all([mock?.close(), api?.close()]);
});

/** The scripted model POSTs every URL of the step input through the http tool, one per turn. */
const agentNode = (): WorkflowNode =>
  ({
    id: 'act',
    type: 'llm',
    position: { x: 0, y: 0 },
    config: { model: 'scenario:echo', prompt: '{{ input.text }}' },
    mode: 'agent',
    agent: {
      instructions: 'Do what the text says.',
      model: 'scenario:follow-links',
      tools: ['http'],
      allowHosts: [`127.0.0.1:${api.port}`],
      maxSteps: 6,
      maxTokens: 100_000,
      timeoutMs: 20_000,
      fallback: 'fail',
      shadow: false,
    },
  }) as WorkflowNode;

describe.each(engineStores)('agent http tool Idempotency-Keys on $name store', (factory) => {
  let h: StoreHandle;
  beforeAll(async () => {
    h = await factory.open();
  }, 60_000);
  afterAll(() => h?.close());

  const engine = () =>
    createEngine({
      store: h.store,
      services: {
        ...createSandboxServices(),
        chat: createChatClient({ env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'mock' } }),
      },
      agent: { model: { baseURL: mock.baseURL, apiKey: 'mock', defaultModel: 'scenario:echo' } },
    });

  it('an attempt run again after its worker stopped sends its calls with the same keys', async () => {
    const tag = `${factory.name}-${Date.now()}`;
    const [first, second] = [`/held-${tag}`, `/other-${tag}`];
    const definition = wf(
      [
        { id: 't', type: 'trigger.manual' },
        {
          id: 'prep',
          type: 'transform',
          config: { value: { text: `[method:POST] ${api.url}${first} ${api.url}${second}` } },
        },
        agentNode(),
      ],
      [
        ['t', 'prep'],
        ['prep', 'act'],
      ],
    );
    const from = api.requests.length;
    const calls = () =>
      api.requests.slice(from).map((r) => ({
        path: new URL(r.url, 'http://x').pathname,
        method: r.method,
        key: r.headers['idempotency-key'],
      }));
    holdFirst.add(first);
    const a = engine();
    const runId = await a.startRun({ definition });
    const driveA = a.executeRun(runId).catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while (!calls().some((c) => c.path === first)) {
      if (Date.now() > deadline) throw new Error('the first call never arrived');
      await new Promise((r) => setTimeout(r, 20));
    }
    await h.store.flush();

    const out = await engine().resumeRun(runId);
    expect(out.error ?? null).toBeNull();
    expect(out.status).toBe('succeeded');
    // A is stopped now (as the lease-loss path does) and sends nothing more.
    a.abandonRun(runId, new Error('lease lost'));
    await driveA;

    const seen = calls();
    const toFirst = seen.filter((c) => c.path === first);
    const toSecond = seen.filter((c) => c.path === second);
    expect(toFirst.map((c) => c.method)).toEqual(['POST', 'POST']);
    expect(toFirst[0].key).toMatch(/^[0-9a-f]{64}$/);
    expect(toFirst[1].key).toBe(toFirst[0].key);
    expect(toSecond).toHaveLength(1);
    expect(toSecond[0].key).toMatch(/^[0-9a-f]{64}$/);
    expect(toSecond[0].key).not.toBe(toFirst[0].key);

    // Another run of the same workflow is another effect: other keys.
    const again = await engine().runToCompletion({ definition });
    expect(again.status).toBe('succeeded');
    const later = calls().slice(seen.length);
    expect(later.map((c) => c.path)).toEqual([first, second]);
    expect(later.map((c) => c.key)).not.toContain(toFirst[0].key);
    expect(later.map((c) => c.key)).not.toContain(toSecond[0].key);
  });
});
