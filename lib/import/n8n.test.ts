import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import { MemoryWorkflowSource } from '@/lib/engine/workflow-source';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { createSandboxServices, shutdownSandbox } from '@/lib/sandbox';
import { ValidationError } from '@/lib/workflow/errors';
import { importN8n } from './n8n';

// The corpus in fixtures/n8n is hand-written n8n exports covering every mapped node type and
// expression form. Each must import to a definition that validates, equal to its reviewed
// `.expected.json`; the runnable ones run on the real engine against a local HTTP server.

const DIR = path.join(import.meta.dirname, 'fixtures', 'n8n');
const CORPUS = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
  .map((f) => f.replace(/\.json$/, ''));
const read = (name: string) => fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8');
const load = (name: string, base = 'http://127.0.0.1:1') =>
  JSON.parse(read(name).replaceAll('__BASE__', base));
const importFixture = (name: string, base?: string) =>
  importN8n(load(name, base), { validate: validateDefinition });

afterAll(() => shutdownSandbox());

describe('n8n import: corpus', () => {
  it('has a fixture for every mapped node family', () => {
    const types = new Set(
      CORPUS.flatMap((n) => (JSON.parse(read(n)).nodes as { type: string }[]).map((x) => x.type)),
    );
    for (const t of [
      'manualTrigger',
      'webhook',
      'scheduleTrigger',
      'cron',
      'httpRequest',
      'set',
      'code',
      'function',
      'if',
      'filter',
      'switch',
      'merge',
      'splitInBatches',
      'splitOut',
      'aggregate',
      'wait',
      'executeWorkflow',
      'respondToWebhook',
      'noOp',
      'stickyNote',
    ])
      expect(types.has(`n8n-nodes-base.${t}`), t).toBe(true);
    for (const t of [
      'agent',
      'chainLlm',
      'openAi',
      'lmChatOpenAi',
      'memoryBufferWindow',
      'toolWorkflow',
      'outputParserStructured',
    ])
      expect(types.has(`@n8n/n8n-nodes-langchain.${t}`), t).toBe(true);
  });

  it.each(CORPUS)('%s imports to a valid definition equal to its expected file', (name) => {
    const { definition, report } = importFixture(name, '__BASE__');
    expect(validateDefinition(definition)).toEqual({ valid: true, problems: [] });
    const expected = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.expected.json`), 'utf8'));
    expect({ definition, report }).toEqual(expected);
  });

  it.each(CORPUS)('%s keeps every node at its n8n position', (name) => {
    const src = JSON.parse(read(name)) as { nodes: { name: string; position: [number, number] }[] };
    const { definition } = importFixture(name);
    const all = definition.nodes.flatMap((n) => [
      n,
      ...((n.config.body as { nodes?: typeof definition.nodes })?.nodes ?? []),
    ]);
    for (const n of all.filter((x) => x.name && src.nodes.some((s) => s.name === x.name))) {
      const s = src.nodes.find((x) => x.name === n.name)!;
      expect(n.position, n.name).toEqual({ x: s.position[0], y: s.position[1] });
    }
    const stickies = src.nodes.filter((n) => (n as { type?: string }).type === 'n8n-nodes-base.stickyNote');
    expect(definition.notes?.map((n) => n.position) ?? []).toEqual(
      stickies.map((s) => ({ x: s.position[0], y: s.position[1] })),
    );
  });
});

describe('n8n import: report and errors', () => {
  it('marks integrations, Python and credentials, and says why', () => {
    const { definition, report } = importFixture('legacy-and-unsupported');
    const by = Object.fromEntries(report.entries.map((e) => [e.node, e]));
    expect(by['Read sheet']).toMatchObject({ status: 'placeholder', trellisType: 'http.request' });
    expect(by['Read sheet'].reasons[0]).toMatch(/googleSheets has no Trellis equivalent/);
    expect(by['Post to Slack'].status).toBe('placeholder');
    expect(by['Python']).toMatchObject({ status: 'placeholder' });
    expect(by['Python'].reasons[0]).toMatch(/python code is not supported/);
    expect(by['Orphan']).toMatchObject({
      status: 'dropped',
      reasons: ['not connected to a trigger (n8n never runs it)'],
    });
    expect(by['Call API'].status).toBe('approximated');
    expect(by['Call API'].reasons.join(' ')).toMatch(/credentials \(githubApi\) are not carried over/);
    expect(by['Call API'].reasons.join(' ')).toMatch(/Luxon/);
    const sheet = definition.nodes.find((n) => n.id === 'Read_sheet')!;
    expect(sheet.notes).toMatch(/^PLACEHOLDER for the n8n node "Read sheet"/);
    expect(sheet.config.url).toBe('https://placeholder.invalid/n8n/googleSheets');
    // the error output of "Call API" (onError: continueErrorOutput) becomes the error handle
    expect(definition.nodes.find((n) => n.id === 'Call_API')!.onError).toBe('branch');
    expect(definition.edges).toContainEqual(
      expect.objectContaining({ source: 'Call_API', target: 'On_error', sourceHandle: 'error' }),
    );
    expect(report.summary).toEqual({ mapped: 5, approximated: 2, placeholder: 3, dropped: 1 });
  });

  it('turns a node whose translation does not validate into a placeholder, and says why', () => {
    const wf = {
      name: 'bad expression',
      nodes: [
        { name: 'Start', type: 'n8n-nodes-base.manualTrigger', parameters: {}, position: [0, 0] },
        {
          name: 'Broken',
          type: 'n8n-nodes-base.if',
          typeVersion: 2,
          position: [200, 0],
          parameters: {
            conditions: {
              conditions: [
                {
                  leftValue: '={{ $json.a ( }}',
                  rightValue: 1,
                  operator: { type: 'number', operation: 'equals' },
                },
              ],
            },
          },
        },
        { name: 'Yes', type: 'n8n-nodes-base.noOp', parameters: {}, position: [400, 0] },
        {
          name: 'After',
          type: 'n8n-nodes-base.set',
          typeVersion: 3.4,
          parameters: { assignments: { assignments: [{ name: 'x', value: 1, type: 'number' }] } },
          position: [600, 0],
        },
      ],
      connections: {
        Start: { main: [[{ node: 'Broken', type: 'main', index: 0 }]] },
        Broken: {
          main: [[{ node: 'Yes', type: 'main', index: 0 }], [{ node: 'After', type: 'main', index: 0 }]],
        },
        Yes: { main: [[{ node: 'After', type: 'main', index: 0 }]] },
      },
    };
    const { definition, report } = importN8n(wf, { validate: validateDefinition });
    expect(validateDefinition(definition).valid).toBe(true);
    const e = report.entries.find((x) => x.node === 'Broken')!;
    expect(e.status).toBe('placeholder');
    expect(e.reasons.join(' ')).toMatch(/Trellis refused the translation: \/nodes\/1\/config\/expression/);
  });

  it('refuses what is not an n8n export with JSON pointers', () => {
    expect(() => importN8n({ nodes: [{ type: 'x' }] })).toThrow(ValidationError);
    try {
      importN8n({ nodes: [{ type: 'x' }] });
    } catch (err) {
      expect((err as ValidationError).problems).toContainEqual(
        expect.objectContaining({ path: '/nodes/0/name' }),
      );
    }
    expect(() => importN8n('nope')).toThrow(/Not an n8n workflow export/);
  });
});

describe('n8n import: imported workflows run', () => {
  let server: http.Server;
  let base = '';
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const prevAllow = process.env.TRELLIS_HTTP_ALLOW_PRIVATE;
  beforeAll(async () => {
    process.env.TRELLIS_HTTP_ALLOW_PRIVATE = 'true';
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const u = new URL(req.url!, 'http://x');
        const send = (v: unknown) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(v));
        };
        if (u.pathname.startsWith('/tickets/'))
          return send({
            id: u.pathname.split('/')[2],
            priority: 'high',
            customer: { name: 'Ada' },
            expand: u.searchParams.get('expand'),
          });
        if (u.pathname === '/price') {
          const b = JSON.parse(body);
          return send({ sku: b.sku, total: b.qty * 10 });
        }
        if (u.pathname === '/users') return send([{ id: 1 }, { id: 2 }]);
        if (u.pathname === '/plans') return send({ plans: ['free', 'pro'] });
        res.statusCode = 404;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    if (prevAllow === undefined) delete process.env.TRELLIS_HTTP_ALLOW_PRIVATE;
    else process.env.TRELLIS_HTTP_ALLOW_PRIVATE = prevAllow;
    await new Promise((r) => server.close(r));
  });

  const run = async (name: string, input: unknown, workflows = new MemoryWorkflowSource()) => {
    const store = new MemoryTraceStore();
    const engine = createEngine({ store, workflows, services: createSandboxServices() });
    const { definition } = importFixture(name, base);
    const out = await engine.runToCompletion({ definition, input });
    const steps = await store.listSteps(out.runId);
    const output = (id: string) =>
      steps.filter((s) => s.nodeId === id && s.parentNodeId == null).at(-1)?.output;
    return { out, steps, output };
  };

  it('ticket-triage: HTTP with query and headers, Set, IF, NoOp, $node and $("…")', async () => {
    const { out, output, steps } = await run('ticket-triage', { ticketId: 'T-7' });
    expect(out.status).toBe('succeeded');
    const req = seen.find((s) => s.url.startsWith('/tickets/T-7'))!;
    expect(req.url).toBe('/tickets/T-7?expand=customer');
    expect(req.headers['x-trace']).toBe('T-7');
    expect(output('Urgent')).toEqual({
      id: 'T-7',
      priority: 'high',
      customer: { name: 'Ada' },
      score: 5,
      queue: 'urgent',
      label: 'Ticket T-7 for Ada',
    });
    expect(steps.find((s) => s.nodeId === 'Normal')?.status).toBe('skipped');
  });

  it('webhook-switch: each rule and the fallback route as in n8n, the reply is the branch that ran', async () => {
    expect((await run('webhook-switch', { kind: 'refund', id: 'o-1' })).out.output).toEqual({
      route: 'refund',
      order: 'o-1',
    });
    expect((await run('webhook-switch', { kind: 'order', amount: 5000 })).out.output).toEqual({
      route: 'big',
      amount: 5000,
    });
    expect((await run('webhook-switch', { kind: 'order', amount: 5 })).out.output).toEqual({
      route: 'other',
    });
  });

  it('loop-aggregate: Code makes items, Loop Over Items runs the body per item, Aggregate collects', async () => {
    const { out, output } = await run('loop-aggregate', { count: 3 });
    expect(out.status).toBe('succeeded');
    expect(output('Make_items')).toEqual([
      { i: 1, sku: 'sku-1' },
      { i: 2, sku: 'sku-2' },
      { i: 3, sku: 'sku-3' },
    ]);
    expect(output('Collect')).toEqual({ totals: [10, 20, 30] });
    expect(seen.filter((s) => s.url === '/price').map((s) => JSON.parse(s.body))).toEqual(
      expect.arrayContaining([{ sku: 'sku-3', qty: 3 }]),
    );
  });

  it('split-out: Split Out, Filter and a per-item Code node become a map body', async () => {
    const { out, output } = await run('split-out', {
      orders: [
        { id: 1, paid: true, amount: 120 },
        { id: 2, paid: false, amount: 50 },
        { id: 3, paid: true, amount: 240 },
      ],
    });
    expect(out.status).toBe('succeeded');
    expect(output('Aggregate')).toEqual({
      paid: [
        { id: 1, net: 100 },
        { id: 3, net: 200 },
      ],
    });
  });

  it('merge-wait-subworkflow: Merge waits for both, Wait delays, Execute Workflow runs the child, Wait-for-webhook asks for approval', async () => {
    const workflows = new MemoryWorkflowSource();
    workflows.save('child-report', {
      schemaVersion: 1,
      name: 'child',
      nodes: [
        { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
        {
          id: 'out',
          type: 'output',
          position: { x: 0, y: 0 },
          config: { value: { keys: '{{ Object.keys(input).sort() }}' } },
        },
      ],
      edges: [{ id: 'e', source: 'start', target: 'out' }],
    });
    const { out, output } = await run('merge-wait-subworkflow', {}, workflows);
    expect(out.status).toBe('waiting');
    expect(output('Merge')).toEqual({
      Users: { status: 200, headers: expect.any(Object), body: [{ id: 1 }, { id: 2 }] },
      Plans: { status: 200, headers: expect.any(Object), body: { plans: ['free', 'pro'] } },
    });
    expect(output('Report')).toEqual({ keys: ['Plans', 'Users'] });
  });
});
