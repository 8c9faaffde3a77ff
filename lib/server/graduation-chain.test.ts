import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { GRADUATION_MIN_AGREEMENT } from '@/lib/promotion/graduate';
import { FINAL_GRADUATION_STATUSES } from '@/lib/promotion/graduation-store';
import { getRuntime } from './runtime';
import { loadRoute, useEmbeddedRuntime, type Body, type Handler } from './testing/route-harness';

// Graduating a fixed sequence of tool calls over the route handlers (embedded database): a
// support step in agent mode whose agent (the scripted model, scenario `tool-chain`) always runs
// the workflow lookup(email), then create(customerId, subject), then answers from their results.
// The proposal is the chain lookup → create → transform, backtested with every call answered
// from the recorded runs; accepting writes it as a version whose runs give the agent's answers
// without the model.

let mock: MockLlmServer;
let r: Record<
  'workflows' | 'workflow' | 'runs' | 'runList' | 'graduation' | 'proposal' | 'accept',
  Record<string, Handler>
>;

beforeAll(async () => {
  mock = await startMockLlmServer();
});
const { call } = useEmbeddedRuntime('graduation-chain', {
  env: () => ({ OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'mock', OPENAI_MODEL: 'scenario:echo' }),
});
beforeAll(async () => {
  r = {
    workflows: await loadRoute('workflows'),
    workflow: await loadRoute('workflows/[id]'),
    runs: await loadRoute('workflows/[id]/runs'),
    runList: await loadRoute('runs'),
    graduation: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation'),
    proposal: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation/[gid]'),
    accept: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation/accept'),
  };
});
afterAll(async () => {
  await (await getRuntime().catch(() => null))?.rollout.idle();
  await mock?.close();
});

const trigger = { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} };
const child = (name: string, inputSchema: object, value: object) => ({
  schemaVersion: 1,
  name,
  description: name,
  inputSchema,
  nodes: [trigger, { id: 'out', type: 'output', position: { x: 0, y: 100 }, config: { value } }],
  edges: [{ id: 'e1', source: 'start', target: 'out' }],
});

const TICKETS = Array.from({ length: 6 }, (_, i) => ({
  email: `user${i}@example.com`,
  subject: `Printer ${i} is on fire`,
}));

let wid = '';
let lookup = '';
let create = '';
const p = () => ({ id: wid, nodeId: 'support' });
const url = (rest = '') => `/api/workflows/${wid}/nodes/support/graduation${rest}`;
const runCount = async () =>
  ((await call(r.runList.GET, 'GET', `/api/runs?limit=200`)).body.runs as unknown[]).length;

async function propose() {
  const res = await call(r.graduation.POST, 'POST', url(), {}, p());
  expect(res.status).toBe(202);
  const gid = res.body.graduation.id as string;
  for (;;) {
    const g = (await call(r.proposal.GET, 'GET', url(`/${gid}`), undefined, { ...p(), gid })).body
      .graduation as Body;
    if (FINAL_GRADUATION_STATUSES.includes(g.status)) return g;
    await new Promise((res) => setTimeout(res, 10));
  }
}

describe('graduating a fixed sequence of tool calls', () => {
  it('history: an agent that always calls lookup then create, in agent mode', async () => {
    const mk = async (definition: object) => {
      const res = await call(r.workflows.POST, 'POST', '/api/workflows', { definition });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    lookup = await mk(
      child(
        'Lookup customer',
        { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
        { customerId: "{{ 'c-' + input.email.split('@')[0] }}", name: "{{ input.email.split('@')[0] }}" },
      ),
    );
    create = await mk(
      child(
        'Create ticket',
        {
          type: 'object',
          properties: { customerId: { type: 'string' }, subject: { type: 'string' } },
          required: ['customerId', 'subject'],
        },
        { ticketId: "{{ 't-' + input.customerId + '-' + input.subject.length }}", status: 'open' },
      ),
    );
    wid = await mk({
      schemaVersion: 1,
      name: 'Support',
      nodes: [
        trigger,
        {
          id: 'support',
          type: 'llm',
          position: { x: 0, y: 100 },
          config: {
            prompt: 'Open a ticket: {{ input.subject }}',
            outputSchema: {
              type: 'object',
              properties: {
                ticketId: { type: 'string' },
                customerId: { type: 'string' },
                status: { type: 'string' },
              },
              required: ['ticketId', 'customerId', 'status'],
            },
          },
          mode: 'agent',
          agent: {
            instructions: 'Open a ticket for the customer.',
            tools: [`workflow:${lookup}`, `workflow:${create}`],
            model: 'scenario:tool-chain',
          },
        },
        {
          id: 'done',
          type: 'output',
          position: { x: 0, y: 200 },
          config: { value: '{{ steps.support.output }}' },
        },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'support' },
        { id: 'e2', source: 'support', target: 'done' },
      ],
    });
    for (const t of TICKETS) {
      const run = await call(
        r.runs.POST,
        'POST',
        `/api/workflows/${wid}/runs`,
        { input: t, wait: true },
        { id: wid },
      );
      expect(run.body.run.status).toBe('succeeded');
      const step = run.body.steps.find((s: Body) => s.nodeId === 'support');
      expect(step.mode).toBe('agent');
      expect(run.body.run.output).toMatchObject({ customerId: `c-${t.email.split('@')[0]}`, status: 'open' });
    }
  });

  it('proposes the 2-node chain + transform, backtested with 0 model calls and 0 child runs', async () => {
    const [calls, runs] = [mock.requests.length, await runCount()];
    const g = await propose();
    expect(g).toMatchObject({
      status: 'succeeded',
      progress: { total: TICKETS.length, done: TICKETS.length },
    });
    const proposal = g.proposal as Body;
    expect(proposal).toMatchObject({
      proposed: true,
      kind: 'chain',
      agreement: 1,
      agreed: TICKETS.length,
      cases: TICKETS.length,
      threshold: GRADUATION_MIN_AGREEMENT,
      failures: [],
      tokens: 0,
    });
    expect(proposal.chain).toMatchObject({
      source: 'start',
      sameSequence: 1,
      sequence: [`workflow_${lookup}`, `workflow_${create}`],
      calls: [
        { id: 'support_1', tool: `workflow:${lookup}`, args: { email: '{{ steps.start.output.email }}' } },
        {
          id: 'support_2',
          tool: `workflow:${create}`,
          args: {
            customerId: '{{ steps.support_1.output.customerId }}',
            subject: '{{ steps.start.output.subject }}',
          },
        },
      ],
      output: {
        ticketId: '{{ steps.support_2.output.ticketId }}',
        customerId: '{{ steps.support_1.output.customerId }}',
        status: 'open',
      },
    });
    expect(proposal.chain.nodes.map((n: Body) => [n.id, n.type])).toEqual([
      ['support_1', 'subworkflow'],
      ['support_2', 'subworkflow'],
      ['support', 'transform'],
    ]);
    // The backtest answered every call from the trace: the model was not asked, no child ran.
    expect(mock.requests.length).toBe(calls);
    expect(await runCount()).toBe(runs);
  });

  it('a chain whose tool is not the step’s, or whose id is taken, is 400 by pointer; nothing written', async () => {
    const before = (await call(r.workflow.GET, 'GET', `/api/workflows/${wid}`, undefined, { id: wid })).body
      .version;
    const bad: [unknown, string][] = [
      [
        { chain: { source: 'start', calls: [{ id: 'x', tool: 'http', args: {} }], output: {} } },
        '/chain/calls/0/tool',
      ],
      [{ chain: { source: 'start', calls: [], output: {} } }, '/chain/calls'],
      [
        {
          chain: { source: 'start', calls: [{ id: 'x', tool: 'self', args: {} }], output: {} },
          nodeType: 'code',
        },
        '/chain',
      ],
      [{ runs: { limit: 5 } }, '/nodeType'],
    ];
    for (const [body, pointer] of bad) {
      const res = await call(r.accept.POST, 'POST', url('/accept'), body, p());
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body.error.details), JSON.stringify(body)).toContain(`"${pointer}"`);
    }
    expect(
      (await call(r.workflow.GET, 'GET', `/api/workflows/${wid}`, undefined, { id: wid })).body.version,
    ).toBe(before);
  });
  it('accept writes the chain wired in order; the new version gives the agent’s answers without the model', async () => {
    const g = await propose();
    const { chain } = g.proposal;
    const calls = mock.requests.length;
    const res = await call(
      r.accept.POST,
      'POST',
      url('/accept'),
      { chain: { source: chain.source, calls: chain.calls, output: chain.output }, baseVersion: g.version },
      p(),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      version: g.version + 1,
      kind: 'chain',
      agreement: 1,
      cases: TICKETS.length,
    });
    expect(mock.requests.length).toBe(calls);
    const wf = (await call(r.workflow.GET, 'GET', `/api/workflows/${wid}`, undefined, { id: wid })).body;
    const byId = Object.fromEntries(wf.definition.nodes.map((n: Body) => [n.id, n]));
    expect(byId.support_1).toMatchObject({
      type: 'subworkflow',
      mode: 'workflow',
      config: { workflowId: lookup, input: { email: '{{ steps.start.output.email }}' } },
    });
    expect(byId.support_2).toMatchObject({ type: 'subworkflow', config: { workflowId: create } });
    expect(byId.support).toMatchObject({
      type: 'transform',
      mode: 'workflow',
      config: { value: chain.output },
    });
    expect(byId.support.agent).toBeUndefined();
    const wiring = wf.definition.edges.map((e: Body) => `${e.source}→${e.target}`).sort();
    expect(wiring).toEqual(
      ['start→support_1', 'support_1→support_2', 'support_2→support', 'support→done'].sort(),
    );

    // A recorded input, run on the new version: the same output as the agent gave, no model call.
    const recorded = (
      await call(
        r.runs.POST,
        'POST',
        `/api/workflows/${wid}/runs`,
        { input: TICKETS[3], wait: true },
        { id: wid },
      )
    ).body;
    expect(recorded.run.status).toBe('succeeded');
    expect(recorded.run.version).toBe(g.version + 1);
    expect(recorded.run.output).toEqual({
      ticketId: `t-c-user3-${TICKETS[3].subject.length}`,
      customerId: 'c-user3',
      status: 'open',
    });
    expect(mock.requests.length).toBe(calls);
  });
});
