import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { createChatClient } from '@/lib/agent/model-client';
import { createEngine } from '@/lib/engine/engine';
import { MemoryWorkflowSource } from '@/lib/engine/workflow-source';
import {
  FakeClock,
  ProbeLog,
  engineStores,
  nodesWithProbe,
  wf,
  type StoreHandle,
} from '@/lib/engine/testing/harness';
import { incomingTraceparent } from '@/lib/server/runs';
import { telemetryConfigFromEnv, type Telemetry } from '@/lib/telemetry';
import { createTelemetry } from '@/lib/telemetry/otel-tracer';
import { DEFAULT_MAX_QUEUE_SIZE, parseKeyValues } from './config';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './testing/otlp-receiver';
import { createSandboxServices } from '@/lib/sandbox';

// OpenTelemetry export end to end: the real SDK and OTLP/HTTP exporter send to a receiver on
// 127.0.0.1; the engine runs on every store (memory, PGlite, Postgres when DATABASE_URL is set)
// with the real openai SDK against the scripted model server. Asserted: the span tree, names and
// GenAI attributes, content capture and secret masking, trace continuity across a resume by a
// second engine, and that a dead collector or a full queue never fails a run.

const SECRET = 'sk-otel-canary-7731-secret';
const INCOMING = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

let mock: MockLlmServer;
let receiver: OtlpReceiver;

beforeAll(async () => {
  mock = await startMockLlmServer();
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await Promise.all([mock?.close(), receiver?.close()]);
});

function telemetry(url: string, env: Record<string, string> = {}): Telemetry {
  const config = telemetryConfigFromEnv({ TRELLIS_OTEL_ENDPOINT: url, ...env })!;
  return createTelemetry({ ...config, scheduledDelayMillis: 20 }, { serviceVersion: 'test' });
}

/** A closed port: connections are refused, like a collector that is down. */
async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

const CHILD = wf(
  [
    { id: 'cstart', type: 'trigger.manual' },
    { id: 'cwork', type: 'transform', config: { value: { child: '{{ input.n }}' } } },
  ],
  [['cstart', 'cwork']],
  'Child flow',
);

/** A branch (one side skipped), a retried step, a map, a subworkflow and an agent step with a tool call. */
function mainFlow(): WorkflowDefinition {
  return wf(
    [
      { id: 'start', type: 'trigger.manual' },
      { id: 'check', type: 'condition', config: { expression: 'input.go === true' } },
      { id: 'never', type: 'transform', config: { value: 'not taken' } },
      {
        id: 'flaky',
        type: 'test.probe',
        config: { failTimes: 1 },
        retry: { maxAttempts: 3, backoffMs: 5, factor: 1 },
      },
      {
        id: 'each',
        type: 'map',
        config: {
          items: 'input.items',
          concurrency: 1,
          body: { nodes: [{ id: 'double', type: 'transform', config: { value: '{{ item * 2 }}' } }] },
        },
      },
      { id: 'child', type: 'subworkflow', config: { workflowId: 'child', input: { n: 7 } } },
      {
        id: 'prep',
        type: 'transform',
        config: { value: { text: 'invoice billing problem', key: '{{ secrets.apiKey }}' } },
      },
      {
        id: 'classify',
        type: 'llm',
        config: {
          model: 'scenario:echo',
          prompt: 'Classify: {{ input.text }} {{ input.key }}',
          outputSchema: {
            type: 'object',
            properties: { label: { enum: ['billing', 'bug', 'other'] } },
            required: ['label'],
          },
        },
        mode: 'agent',
        agent: {
          instructions: 'Label the ticket.',
          tools: ['self'],
          model: 'scenario:tool-then-answer',
          maxSteps: 6,
          maxTokens: 100_000,
          timeoutMs: 10_000,
          fallback: 'deterministic',
          shadow: false,
        },
      },
      { id: 'out', type: 'output', config: { value: '{{ steps.classify.output }}' } },
    ],
    [
      ['start', 'check'],
      ['check', 'flaky', 'true'],
      ['check', 'never', 'false'],
      ['flaky', 'each'],
      ['each', 'child'],
      ['child', 'prep'],
      ['prep', 'classify'],
      ['classify', 'out'],
    ],
    'Traced flow',
  );
}

function tree(spans: ReceivedSpan[]) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const parentOf = (s: ReceivedSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
  const children = (s: ReceivedSpan) => spans.filter((c) => c.parentSpanId === s.spanId);
  const one = (pred: (s: ReceivedSpan) => boolean, what: string) => {
    const found = spans.filter(pred);
    expect(found, what).toHaveLength(1);
    return found[0];
  };
  return { byId, parentOf, children, one };
}

async function waitFor(pred: () => boolean, what: string, ms = 10_000) {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const factory of engineStores) {
  describe(`OpenTelemetry export (${factory.name})`, () => {
    let h: StoreHandle;
    const workflows = new MemoryWorkflowSource({ recordIds: false });
    workflows.save('child', CHILD);
    beforeAll(async () => {
      h = await factory.open();
    });
    afterAll(() => h?.close());

    function engineWith(t: Telemetry | undefined, clock = new FakeClock()) {
      return createEngine({
        store: h.store,
        workflows,
        nodes: nodesWithProbe(new ProbeLog()),
        clock,
        tracer: t?.tracer,
        secrets: () => ({ apiKey: SECRET }),
        services: {
          ...createSandboxServices(),
          chat: createChatClient({ env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'mock' } }),
        },
        agent: { model: { baseURL: mock.baseURL, apiKey: 'mock', defaultModel: 'scenario:echo' } },
      });
    }

    it('a run with a branch, a retry, a map, a subworkflow and an agent tool call exports one span tree', async () => {
      const t = telemetry(receiver.url);
      const engine = engineWith(t);
      // A caller's context of its own per store, so this store's spans are told apart.
      const incoming = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
      const runId = await engine.startRun({
        definition: mainFlow(),
        input: { go: true, items: [1, 2, 3] },
        traceContext: incoming,
      });
      const out = await engine.executeRun(runId);
      expect(out.status).toBe('succeeded');
      expect(out.output).toEqual({ label: 'billing' });
      await t.flush();
      const spans = receiver.spans.filter((s) => s.traceId === incoming.split('-')[1]);
      const { one, parentOf, children } = tree(spans);

      // Root: continues the caller's traceparent.
      const root = one(
        (s) => s.name === 'invoke_workflow Traced flow' && s.attributes['trellis.run.id'] === runId,
        'root',
      );
      expect(root.parentSpanId).toBe(incoming.split('-')[2]);
      expect(root.attributes).toMatchObject({
        'gen_ai.operation.name': 'invoke_workflow',
        'gen_ai.workflow.name': 'Traced flow',
        'trellis.run.trigger': 'manual',
        'trellis.run.status': 'succeeded',
        'trellis.run.resumed': false,
      });
      expect(root.resource['service.name']).toBe('trellis');

      // One span per step attempt, under the root; the untaken branch is a skipped step.
      const steps = (id: string) =>
        spans.filter((s) => s.name === `step ${id}`).sort((a, b) => Number(a.startNs - b.startNs));
      for (const id of ['start', 'check', 'never', 'flaky', 'each', 'child', 'prep', 'classify', 'out']) {
        expect(steps(id).length, id).toBeGreaterThan(0);
        for (const s of steps(id)) expect(parentOf(s)?.spanId, id).toBe(root.spanId);
      }
      expect(steps('never')[0].attributes['trellis.step.status']).toBe('skipped');
      expect(steps('check')[0].attributes).toMatchObject({
        'trellis.node.type': 'condition',
        'trellis.step.handle': 'true',
        'trellis.step.status': 'succeeded',
      });

      // The retry: two attempts, the first failed with error.type, a backoff span between them.
      const [a1, a2] = steps('flaky');
      expect(steps('flaky')).toHaveLength(2);
      expect(a1.attributes).toMatchObject({
        'trellis.step.attempt': 1,
        'trellis.step.status': 'failed',
        'error.type': 'http_error',
      });
      expect(a1.status.code).toBe(2);
      expect(a2.attributes).toMatchObject({ 'trellis.step.attempt': 2, 'trellis.step.status': 'succeeded' });
      expect(a2.attributes['error.type']).toBeUndefined();
      const backoff = one((s) => s.name === 'backoff flaky', 'backoff');
      expect(parentOf(backoff)?.spanId).toBe(root.spanId);
      expect(backoff.attributes['trellis.step.attempt']).toBe(1);
      // Between the attempts (span start times have millisecond resolution, so ties are allowed).
      expect(backoff.startNs >= a1.startNs && backoff.startNs <= a2.startNs).toBe(true);

      // The map: item steps nest under the map step's span, with their index.
      const mapSpan = steps('each')[0];
      const items = children(mapSpan).filter((s) => s.name === 'step double');
      expect(items.map((s) => s.attributes['trellis.step.item_index']).sort()).toEqual([0, 1, 2]);
      expect(items.every((s) => s.attributes['trellis.step.parent_node_id'] === 'each')).toBe(true);

      // The subworkflow: the child run's root nests under the parent step's span.
      const childStep = steps('child')[0];
      const childRoot = one((s) => s.name === 'invoke_workflow Child flow', 'child root');
      expect(childRoot.parentSpanId).toBe(childStep.spanId);
      expect(childRoot.attributes['trellis.run.trigger']).toBe('subworkflow');
      expect(
        children(childRoot)
          .map((s) => s.name)
          .sort(),
      ).toEqual(['step cstart', 'step cwork']);

      // The agent step: invoke_agent → chat per model call, execute_tool for the tool call.
      const agentStep = steps('classify')[0];
      expect(agentStep.attributes).toMatchObject({ 'trellis.step.mode': 'agent' });
      const agent = one((s) => s.name === 'invoke_agent classify', 'invoke_agent');
      expect(parentOf(agent)?.spanId).toBe(agentStep.spanId);
      expect(agent.attributes).toMatchObject({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'classify',
        'gen_ai.provider.name': 'openai',
      });
      const chats = children(agent).filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
      expect(chats).toHaveLength(2);
      for (const c of chats) {
        expect(c.name).toBe('chat scenario:tool-then-answer');
        expect(c.attributes).toMatchObject({
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'scenario:tool-then-answer',
        });
        expect(typeof c.attributes['gen_ai.response.model']).toBe('string');
        expect(c.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
        expect(c.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
        expect(Array.isArray(c.attributes['gen_ai.response.finish_reasons'])).toBe(true);
      }
      expect(
        chats.map((c) => (c.attributes['gen_ai.response.finish_reasons'] as string[])[0]).sort(),
      ).toEqual(['stop', 'tool_calls']);
      const tool = one((s) => s.name === 'execute_tool self', 'execute_tool');
      expect(parentOf(tool)?.spanId).toBe(agent.spanId);
      expect(tool.attributes).toMatchObject({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'self',
      });
      expect(String(tool.attributes['gen_ai.tool.call.id'])).not.toBe('');

      // Content is off by default: no messages, no tool arguments; and no secret anywhere.
      const wire = JSON.stringify(spans, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
      expect(wire).not.toContain('gen_ai.input.messages');
      expect(wire).not.toContain('gen_ai.tool.call.arguments');
      expect(wire).not.toContain(SECRET);
      expect(t.stats()).toMatchObject({ enabled: true, dropped: 0, failed: 0 });
      expect(t.stats().exported).toBeGreaterThanOrEqual(spans.length);
      await t.shutdown();
    });

    it('TRELLIS_OTEL_CAPTURE_CONTENT=true exports messages and tool calls, with secrets masked', async () => {
      const t = telemetry(receiver.url, { TRELLIS_OTEL_CAPTURE_CONTENT: 'true' });
      const out = await engineWith(t).runToCompletion({
        definition: mainFlow(),
        input: { go: true, items: [1] },
      });
      expect(out.status).toBe('succeeded');
      await t.flush();
      const runRoot = receiver.spans.find((s) => s.attributes['trellis.run.id'] === out.runId)!;
      const spans = receiver.spans.filter((s) => s.traceId === runRoot.traceId);
      const chat = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'chat')!;
      const input = String(chat.attributes['gen_ai.input.messages']);
      expect(JSON.parse(input)[0]).toMatchObject({ role: 'system' });
      expect(input).toContain('invoice billing problem');
      expect(spans.some((s) => 'gen_ai.output.messages' in s.attributes)).toBe(true);
      const tool = spans.find((s) => s.name === 'execute_tool self')!;
      expect(tool.attributes['gen_ai.tool.call.arguments']).toBeDefined();
      expect(tool.attributes['gen_ai.tool.call.result']).toBeDefined();
      // The secret reached the prompt (prep puts it in the step input) but never the wire.
      const wire = receiver.server.requests.map((r) => r.body).join('\n');
      expect(wire).toContain('gen_ai.input.messages');
      expect(wire).not.toContain(SECRET);
      await t.shutdown();
    });

    it('a shadow agent step emits a gen_ai.evaluation.result event on its invoke_agent span', async () => {
      const def = mainFlow();
      const classify = def.nodes.find((n) => n.id === 'classify')!;
      classify.agent = { ...classify.agent!, shadow: true, tools: [], model: 'scenario:echo' };
      def.name = 'Shadow flow';
      const t = telemetry(receiver.url);
      const out = await engineWith(t).runToCompletion({ definition: def, input: { go: true, items: [1] } });
      expect(out.status).toBe('succeeded');
      await t.flush();
      const root = receiver.spans.find((s) => s.attributes['trellis.run.id'] === out.runId)!;
      const agent = receiver.spans.find(
        (s) => s.traceId === root.traceId && s.name === 'invoke_agent classify',
      )!;
      expect(agent.attributes['trellis.step.mode']).toBe('shadow');
      const ev = agent.events.find((e) => e.name === 'gen_ai.evaluation.result');
      expect(ev?.attributes).toMatchObject({
        'gen_ai.evaluation.name': 'shadow_agreement',
        'gen_ai.evaluation.score.value': 1,
        'gen_ai.evaluation.score.label': 'match',
      });
      await t.shutdown();
    });

    it('a run resumed by another engine (another worker) continues the same trace', async () => {
      const def = wf(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'ok', type: 'approval', config: {} },
          { id: 'after', type: 'transform', config: { value: 'done' } },
        ],
        [
          ['start', 'ok'],
          ['ok', 'after', 'approved'],
        ],
        'Approval flow',
      );
      const t1 = telemetry(receiver.url);
      const first = engineWith(t1);
      const runId = await first.startRun({ definition: def, input: {} });
      expect((await first.executeRun(runId)).status).toBe('waiting');
      await first.decideApproval(runId, 'ok', { approved: true });
      // A second engine with its own exporter shares nothing with the first but the store.
      const t2 = telemetry(receiver.url);
      const out = await engineWith(t2).resumeRun(runId);
      expect(out.status).toBe('succeeded');
      await Promise.all([t1.flush(), t2.flush()]);
      const drives = receiver.spans.filter((s) => s.attributes['trellis.run.id'] === runId);
      expect(drives).toHaveLength(2);
      const [firstDrive, resumed] = [
        drives.find((s) => s.attributes['trellis.run.resumed'] === false)!,
        drives.find((s) => s.attributes['trellis.run.resumed'] === true)!,
      ];
      expect(resumed.traceId).toBe(firstDrive.traceId);
      expect(resumed.parentSpanId).toBe(firstDrive.spanId);
      expect(firstDrive.attributes['trellis.run.status']).toBe('waiting');
      const after = receiver.spans.find((s) => s.name === 'step after' && s.parentSpanId === resumed.spanId);
      expect(after?.traceId).toBe(firstDrive.traceId);
      const stored = await h.store.getRun(runId);
      expect(stored?.traceContext).toContain(firstDrive.traceId);
      await Promise.all([t1.shutdown(), t2.shutdown()]);
    });

    it('with the collector down the run still succeeds; the failed export is counted', async () => {
      const t = telemetry(await deadUrl(), { OTEL_EXPORTER_OTLP_TIMEOUT: '2000' });
      const out = await engineWith(t).runToCompletion({
        definition: mainFlow(),
        input: { go: true, items: [1, 2] },
      });
      expect(out.status).toBe('succeeded');
      expect(out.output).toEqual({ label: 'billing' });
      await t.flush();
      await waitFor(() => t.stats().failed > 0, 'the failed export to be counted');
      expect(t.stats().exported).toBe(0);
      await t.shutdown();
    });

    it('a full export queue drops spans (counted) and the run is unaffected', async () => {
      const config = telemetryConfigFromEnv({
        TRELLIS_OTEL_ENDPOINT: receiver.url,
        OTEL_BSP_MAX_QUEUE_SIZE: '2',
      })!;
      // A long delay keeps the queue from draining during the run.
      const t = createTelemetry({ ...config, scheduledDelayMillis: 60_000 });
      const out = await engineWith(t).runToCompletion({
        definition: mainFlow(),
        input: { go: true, items: [1, 2, 3, 4] },
      });
      expect(out.status).toBe('succeeded');
      expect(t.stats().dropped).toBeGreaterThan(0);
      await t.shutdown();
    });
  });
}

describe('telemetry configuration', () => {
  it('is off unless an OTLP endpoint is set, and honours the standard variables', () => {
    expect(telemetryConfigFromEnv({})).toBeNull();
    expect(
      telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeNull();
    expect(
      telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBeNull();
    const c = telemetryConfigFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D,x-team=obs',
      OTEL_SERVICE_NAME: 'trellis-prod',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    })!;
    expect(c.url).toBe('http://collector:4318/v1/traces');
    expect(c.headers).toEqual({ 'x-api-key': 'abc==', 'x-team': 'obs' });
    expect(c.serviceName).toBe('trellis-prod');
    expect(c.resourceAttributes).toEqual({ 'deployment.environment': 'prod' });
    expect(c.sampler).toEqual({ kind: 'parentbased', root: 'traceidratio', ratio: 0.25 });
    expect(c.captureContent).toBe(false);
    expect(c.maxQueueSize).toBe(DEFAULT_MAX_QUEUE_SIZE);
    expect(telemetryConfigFromEnv({ TRELLIS_OTEL_ENDPOINT: 'http://x:4318' })!.url).toBe(
      'http://x:4318/v1/traces',
    );
    expect(
      telemetryConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom/traces',
      })!.url,
    ).toBe('http://b:4318/custom/traces');
    expect(parseKeyValues('a=1,broken,=x, b = 2 ')).toEqual({ a: '1', b: '2' });
  });

  it('sends the OTEL_EXPORTER_OTLP_HEADERS and obeys OTEL_TRACES_SAMPLER=always_off', async () => {
    const on = telemetry(receiver.url, { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20team-token' });
    on.tracer
      .run({
        runId: 'r-h',
        workflowId: null,
        workflowName: 'h',
        version: null,
        trigger: 'manual',
        parent: null,
        resumed: false,
      })
      .end({ status: 'succeeded' });
    await on.flush();
    const req = receiver.server.requests.find((r) => r.body.includes('r-h'));
    expect(req?.headers.authorization).toBe('Bearer team-token');
    const off = telemetry(receiver.url, { OTEL_TRACES_SAMPLER: 'always_off' });
    const span = off.tracer.run({
      runId: 'r-off',
      workflowId: null,
      workflowName: 'o',
      version: null,
      trigger: 'manual',
      parent: null,
      resumed: false,
    });
    // Not sampled: the context still propagates (flag 00), nothing is exported.
    expect(span.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    span.end({ status: 'succeeded' });
    await off.flush();
    expect(receiver.spans.some((s) => s.attributes['trellis.run.id'] === 'r-off')).toBe(false);
    await Promise.all([on.shutdown(), off.shutdown()]);
  });

  it('an incoming traceparent header is kept only when it is valid W3C', () => {
    const req = (v?: string) => new Request('http://x/', { headers: v ? { traceparent: v } : {} });
    expect(incomingTraceparent(req(INCOMING))).toBe(INCOMING);
    expect(incomingTraceparent(req(INCOMING.toUpperCase()))).toBe(INCOMING);
    expect(incomingTraceparent(req())).toBeNull();
    expect(incomingTraceparent(req('garbage'))).toBeNull();
    expect(incomingTraceparent(req('00-00000000000000000000000000000000-b7ad6b7169203331-01'))).toBeNull();
    expect(incomingTraceparent(req('ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'))).toBeNull();
  });
});
