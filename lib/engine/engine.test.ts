import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shutdownSandbox } from '@/lib/sandbox';
import { createEngine, type EngineOptions } from './engine';
import type { EngineEvent } from './events';
import { CANCEL_POLL_MS, MAX_CONCURRENT_STEPS_PER_RUN, MAX_RUN_DEPTH } from './limits';
import { MemoryWorkflowSource } from './workflow-source';
import {
  FakeClock,
  ProbeLog,
  engineStores,
  nodesWithProbe,
  okRun,
  wf,
  type StoreHandle,
} from './testing/harness';
import type { StepRecord, TraceStore } from './trace-store';
import { createSandboxServices } from '@/lib/sandbox';

// Every semantic of the scheduler, on the in-memory store and on SqlTraceStore (PGlite, and
// Postgres when DATABASE_URL is set).
// Real nodes from the registry with the real sandbox; the probe node is the one test-only type.

afterAll(() => shutdownSandbox());

const top = (steps: StepRecord[]) => steps.filter((s) => s.parentNodeId == null);
const byNode = (steps: StepRecord[], nodeId: string) => top(steps).filter((s) => s.nodeId === nodeId);
const statusOf = (steps: StepRecord[], nodeId: string) => byNode(steps, nodeId).at(-1)?.status;
/** Saved workflows holding 'child': trigger → output `value`, for subworkflow steps to call. */
function childWorkflows(value: unknown): MemoryWorkflowSource {
  const workflows = new MemoryWorkflowSource({ recordIds: false });
  workflows.save(
    'child',
    wf(
      [
        { id: 'ct', type: 'trigger.manual' },
        { id: 'co', type: 'output', config: { value } },
      ],
      [['ct', 'co']],
    ),
  );
  return workflows;
}

describe.each(engineStores)('engine on $name store', (factory) => {
  let h: StoreHandle;
  let store: TraceStore;
  beforeAll(async () => {
    h = await factory.open();
    store = h.store;
  });
  afterAll(() => h?.close());

  const make = (log = new ProbeLog(), extra: Partial<EngineOptions> = {}) => ({
    log,
    engine: createEngine({
      store,
      nodes: nodesWithProbe(log),
      workflows: new MemoryWorkflowSource({ recordIds: false }),
      services: createSandboxServices(),
      ...extra,
    }),
  });

  it('runs a chain from the trigger, passing outputs on, and sets the run output', async () => {
    const { engine } = make();
    const events: EngineEvent[] = [];
    engine.subscribe((e) => events.push(e));
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 'start', type: 'trigger.manual' },
          { id: 'double', type: 'transform', config: { value: { n: '{{ input.n * 2 }}' } } },
          { id: 'code', type: 'code', config: { code: 'return steps.double.output.n + 1' } },
          { id: 'result', type: 'output', config: { value: { result: '{{ steps.code.output }}' } } },
        ],
        [
          ['start', 'double'],
          ['double', 'code'],
          ['code', 'result'],
        ],
      ),
      input: { n: 20 },
    });
    expect(out).toMatchObject({ status: 'succeeded', output: { result: 41 } });
    const run = await store.getRun(out.runId);
    expect(run).toMatchObject({ status: 'succeeded', output: { result: 41 } });
    const steps = await store.listSteps(out.runId);
    // Rows are ordered by start time at ms resolution, so compare per node, then check the order.
    expect(Object.fromEntries(steps.map((s) => [s.nodeId, s.status]))).toEqual({
      start: 'succeeded',
      double: 'succeeded',
      code: 'succeeded',
      result: 'succeeded',
    });
    const at = (id: string) => byNode(steps, id)[0].startedAt.getTime();
    expect(at('start') <= at('double') && at('double') <= at('code') && at('code') <= at('result')).toBe(
      true,
    );
    expect(byNode(steps, 'code')[0].input).toEqual({ n: 40 });
    expect(events.filter((e) => e.type === 'step.started')).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
  });

  it('condition activates one branch and skips the other up to the merge (all)', async () => {
    const { engine } = make();
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'c', type: 'condition', config: { expression: 'input.vip === true' } },
          { id: 'vip', type: 'transform', config: { value: 'VIP' } },
          { id: 'std', type: 'transform', config: { value: 'standard' } },
          { id: 'std2', type: 'transform', config: { value: '{{ steps.std.output }}!' } },
          { id: 'm', type: 'merge', config: { mode: 'all' } },
          { id: 'o', type: 'output', config: { value: '{{ steps.m.output }}' } },
        ],
        [
          ['t', 'c'],
          ['c', 'vip', 'true'],
          ['c', 'std', 'false'],
          ['std', 'std2'],
          ['vip', 'm'],
          ['std2', 'm'],
          ['m', 'o'],
        ],
      ),
      input: { vip: false },
    });
    expect(out).toMatchObject({ status: 'succeeded', output: { std2: 'standard!' } });
    const steps = await store.listSteps(out.runId);
    expect(statusOf(steps, 'vip')).toBe('skipped');
    expect(statusOf(steps, 'std2')).toBe('succeeded');
    expect(byNode(steps, 'c')[0].handle).toBe('false');
  });

  it('merge (any) passes on the first branch to arrive', async () => {
    const { engine } = make();
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'slow', type: 'test.probe', config: { sleepMs: 150, value: 'slow' } },
          { id: 'fast', type: 'test.probe', config: { value: 'fast' } },
          { id: 'm', type: 'merge', config: { mode: 'any' } },
          { id: 'o', type: 'output', config: { value: '{{ steps.m.output }}' } },
        ],
        [
          ['t', 'slow'],
          ['t', 'fast'],
          ['slow', 'm'],
          ['fast', 'm'],
          ['m', 'o'],
        ],
      ),
    });
    expect(out).toMatchObject({ status: 'succeeded', output: 'fast' });
    const steps = await store.listSteps(out.runId);
    expect(statusOf(steps, 'slow')).toBe('succeeded');
    expect(byNode(steps, 'm')).toHaveLength(1);
  });

  it('switch takes the first true case, else default', async () => {
    const { engine } = make();
    const definition = wf(
      [
        { id: 't', type: 'trigger.manual' },
        {
          id: 's',
          type: 'switch',
          config: {
            cases: [
              { id: 'small', expression: 'input.n < 10' },
              { id: 'mid', expression: 'input.n < 100' },
            ],
          },
        },
        { id: 'a', type: 'output', config: { value: 'small' } },
        { id: 'b', type: 'output', config: { value: 'mid' } },
        { id: 'c', type: 'output', config: { value: 'big' } },
      ],
      [
        ['t', 's'],
        ['s', 'a', 'small'],
        ['s', 'b', 'mid'],
        ['s', 'c', 'default'],
      ],
    );
    const outs = await Promise.all(
      [5, 50, 500].map((n) => engine.runToCompletion({ definition, input: { n } })),
    );
    expect(outs.map((o) => o.output)).toEqual(['small', 'mid', 'big']);
    const steps = await store.listSteps(outs[1].runId);
    expect([statusOf(steps, 'a'), statusOf(steps, 'b'), statusOf(steps, 'c')]).toEqual([
      'skipped',
      'succeeded',
      'skipped',
    ]);
  });

  it('map runs its inline body per item with bounded concurrency, results in item order', async () => {
    const { engine, log } = make();
    const items = [5, 60, 10, 40, 1, 30, 20, 2];
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          {
            id: 'm',
            type: 'map',
            config: {
              items: 'input.items',
              concurrency: 3,
              body: {
                nodes: [
                  { id: 'wait', type: 'code', config: { code: 'return item' } },
                  { id: 'p', type: 'test.probe', config: { sleepMs: 20 } },
                  {
                    id: 'r',
                    type: 'transform',
                    config: { value: { i: '{{ index }}', v: '{{ steps.p.output * 10 }}' } },
                  },
                ],
                edges: [
                  { id: 'b1', source: 'wait', target: 'p' },
                  { id: 'b2', source: 'p', target: 'r' },
                ],
              },
            },
          },
          { id: 'o', type: 'output', config: { value: '{{ steps.m.output }}' } },
        ],
        [
          ['t', 'm'],
          ['m', 'o'],
        ],
      ),
      input: { items },
    });
    expect(out.status).toBe('succeeded');
    expect(out.output).toEqual(items.map((v, i) => ({ i, v: v * 10 })));
    expect(log.maxRunning).toBeLessThanOrEqual(3);
    expect(log.maxRunning).toBeGreaterThan(1);
    const steps = await store.listSteps(out.runId);
    const itemSteps = steps.filter((s) => s.parentNodeId === 'm');
    expect(itemSteps).toHaveLength(items.length * 3);
    expect(new Set(itemSteps.map((s) => s.itemIndex))).toEqual(new Set(items.map((_, i) => i)));
    expect(itemSteps.find((s) => s.nodeId === 'p' && s.itemIndex === 3)?.output).toBe(40);
  });

  it('subworkflow runs a saved workflow as a child run linked to the parent step', async () => {
    const workflows = childWorkflows({ greeting: 'hello {{ input.name }}' });
    const { engine } = make(new ProbeLog(), { workflows });
    const events: EngineEvent[] = [];
    engine.subscribe((e) => events.push(e));
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          {
            id: 'sub',
            type: 'subworkflow',
            config: { workflowId: 'child', input: { name: '{{ input.who }}' } },
          },
          { id: 'o', type: 'output', config: { value: '{{ steps.sub.output.greeting }}' } },
        ],
        [
          ['t', 'sub'],
          ['sub', 'o'],
        ],
      ),
      input: { who: 'Ada' },
    });
    expect(out).toMatchObject({ status: 'succeeded', output: 'hello Ada' });
    const subStep = byNode(await store.listSteps(out.runId), 'sub')[0];
    // The child run is a run of its own, pointing at the parent run and step.
    const started = events.find((e) => e.type === 'run.started' && e.parentRunId === out.runId);
    const child = await store.getRun(started?.runId ?? '');
    expect(child).toMatchObject({
      parentRunId: out.runId,
      parentStepId: subStep.id,
      status: 'succeeded',
      trigger: 'subworkflow',
    });
    expect(child?.output).toEqual({ greeting: 'hello Ada' });
  });

  it('a child run whose secrets cannot be read ends failed with the step that started it, not left running', async () => {
    const workflows = childWorkflows({ ok: true });
    let reads = 0;
    const { engine } = make(new ProbeLog(), {
      workflows,
      secrets: () => {
        // The parent's drive reads first; the child's read is the one that fails.
        if (++reads === 2) throw new Error('terminating connection due to administrator command');
        return {};
      },
    });
    const events: EngineEvent[] = [];
    engine.subscribe((e) => events.push(e));
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'sub', type: 'subworkflow', config: { workflowId: 'child', input: {} } },
        ],
        [['t', 'sub']],
      ),
    });
    expect(out.status).toBe('failed');
    expect(statusOf(await store.listSteps(out.runId), 'sub')).toBe('failed');
    const started = events.find((e) => e.type === 'run.started' && e.parentRunId === out.runId);
    const child = await store.getRun(started?.runId ?? '');
    expect(child).toMatchObject({ parentRunId: out.runId, status: 'failed' });
    expect(child?.error?.message).toMatch(/administrator command/);
  });

  it(`a workflow that calls itself stops at MAX_RUN_DEPTH (${MAX_RUN_DEPTH})`, async () => {
    const workflows = new MemoryWorkflowSource({ recordIds: false });
    const self = wf(
      [
        { id: 't', type: 'trigger.manual' },
        { id: 'again', type: 'subworkflow', config: { workflowId: 'self', input: {} } },
      ],
      [['t', 'again']],
    );
    workflows.save('self', self);
    const { engine } = make(new ProbeLog(), { workflows });
    const out = await engine.runToCompletion({ definition: self });
    expect(out.status).toBe('failed');
    expect(JSON.stringify(out.error)).toContain(`deeper than ${MAX_RUN_DEPTH}`);
  });

  it('masks secret values in the errors of attempts that are retried, as in final ones', async () => {
    // The probe's error message names its node; here that name is also a secret's value.
    const { engine } = make(new ProbeLog(), { secrets: () => ({ token: 'sekrit42' }) });
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          {
            id: 'sekrit42',
            type: 'test.probe',
            config: { failTimes: 2 },
            retry: { maxAttempts: 2, backoffMs: 1, factor: 1 },
          },
        ],
        [['t', 'sekrit42']],
      ),
    });
    expect(out.status).toBe('failed');
    // Attempts 1 ms apart may share a start instant, so the store's order between them is not fixed.
    const rows = byNode(await store.listSteps(out.runId), 'sekrit42').sort((a, b) => a.attempt - b.attempt);
    expect(rows.map((r) => r.attempt)).toEqual([1, 2]);
    for (const r of rows) {
      expect(r.error?.message).toMatch(/failed attempt/);
      expect(r.error?.message).not.toContain('sekrit42');
    }
  });

  it('leaves a run for its host to retry when its secrets cannot be read, instead of failing it', async () => {
    // What a dropped database connection under the secrets read looks like to the engine (seen as
    // 1 run of 100 ending `failed` in the durable crash test before this).
    let reads = 0;
    const { engine } = make(new ProbeLog(), {
      secrets: () => {
        if (++reads === 1) throw new Error('terminating connection due to administrator command');
        return { token: 'sekrit42' };
      },
    });
    const definition = okRun();
    const runId = await engine.startRun({ definition });
    await expect(engine.executeRun(runId)).rejects.toThrow(/administrator command/);
    await store.flush();
    const after = await store.getRun(runId);
    expect(after?.status).not.toBe('failed');
    expect(after?.error ?? null).toBeNull();
    expect(await store.listSteps(runId)).toEqual([]);
    // The host's retry (a worker resumes a run it finds running) finishes it.
    const drive = after?.status === 'queued' ? engine.executeRun(runId) : engine.resumeRun(runId);
    await expect(drive).resolves.toMatchObject({ status: 'succeeded', output: { ok: true } });
    expect(reads).toBe(2);
  });

  it('retries retryable errors with exponential backoff, one step row per attempt', async () => {
    const { engine, log } = make(new ProbeLog(), { random: () => 1 });
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          {
            id: 'flaky',
            type: 'test.probe',
            config: { failTimes: 2, value: 'ok' },
            retry: { maxAttempts: 4, backoffMs: 60, factor: 2 },
          },
          {
            id: 'fatal',
            type: 'test.probe',
            config: { failTimes: 1, fatal: true },
            retry: { maxAttempts: 4, backoffMs: 1, factor: 1 },
            onError: 'continue',
          },
        ],
        [
          ['t', 'flaky'],
          ['t', 'fatal'],
        ],
      ),
    });
    expect(out.status).toBe('succeeded');
    const steps = await store.listSteps(out.runId);
    const rows = byNode(steps, 'flaky');
    expect(rows.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'succeeded'],
    ]);
    const starts = log.calls.filter((c) => c.nodeId === 'flaky').map((c) => c.startedAt);
    // random() pinned to 1: waits of exactly 60 then 120 ms (timers may run late, never early).
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(58);
    expect(starts[1] - starts[0]).toBeLessThan(60 + 250);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(118);
    expect(starts[2] - starts[1]).toBeLessThan(120 + 250);
    // Not retryable: one attempt, whatever maxAttempts says.
    expect(byNode(steps, 'fatal')).toHaveLength(1);
    expect(log.count('fatal')).toBe(1);
  });

  it('gives up after maxAttempts and fails the run', async () => {
    const { engine } = make(new ProbeLog(), { clock: new FakeClock() });
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          {
            id: 'x',
            type: 'test.probe',
            config: { failTimes: 10 },
            retry: { maxAttempts: 3, backoffMs: 10_000, factor: 2 },
          },
          { id: 'after', type: 'test.probe' },
        ],
        [
          ['t', 'x'],
          ['x', 'after'],
        ],
      ),
    });
    expect(out.status).toBe('failed');
    expect(out.error).toMatchObject({ code: 'http_error' });
    const steps = await store.listSteps(out.runId);
    expect(byNode(steps, 'x').map((s) => s.status)).toEqual(['failed', 'failed', 'failed']);
    expect(byNode(steps, 'after')).toHaveLength(0);
  });

  it('timeoutMs aborts the underlying HTTP request (the server sees the socket close)', async () => {
    let closed: () => void = () => {};
    const socketClosed = new Promise<void>((r) => (closed = r));
    const server = http.createServer((req) => {
      // Never answer; only notice when the client goes away.
      req.socket.on('close', () => closed());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const { engine } = make();
      const t0 = Date.now();
      const out = await engine.runToCompletion({
        definition: wf(
          [
            { id: 't', type: 'trigger.manual' },
            {
              id: 'call',
              type: 'http.request',
              config: {
                method: 'GET',
                url: `http://127.0.0.1:${port}/slow`,
                allowHosts: [`127.0.0.1:${port}`],
              },
              timeoutMs: 300,
            },
          ],
          [['t', 'call']],
        ),
      });
      expect(out.status).toBe('failed');
      expect(out.error).toMatchObject({ code: 'node_timeout' });
      await socketClosed;
      expect(Date.now() - t0).toBeLessThan(5_000);
      const steps = await store.listSteps(out.runId);
      expect(byNode(steps, 'call')[0].error).toMatchObject({ code: 'node_timeout' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('timeoutMs aborts the signal of a node and is retried as a retryable error', async () => {
    const { engine, log } = make(new ProbeLog(), { random: () => 0 });
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          {
            id: 'h',
            type: 'test.probe',
            config: { hang: true },
            timeoutMs: 50,
            retry: { maxAttempts: 2, backoffMs: 0, factor: 1 },
          },
        ],
        [['t', 'h']],
      ),
    });
    expect(out.status).toBe('failed');
    expect(log.calls.map((c) => (c.aborted as { code?: string })?.code)).toEqual([
      'node_timeout',
      'node_timeout',
    ]);
  });

  it('onError continue passes the error on as output; branch takes the error handle', async () => {
    const { engine } = make();
    const out = await engine.runToCompletion({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'c1', type: 'test.probe', config: { failTimes: 1, fatal: true }, onError: 'continue' },
          { id: 'afterC', type: 'output', config: { value: '{{ steps.c1.output.code }}' } },
          { id: 'b1', type: 'test.probe', config: { failTimes: 1, fatal: true }, onError: 'branch' },
          { id: 'ok', type: 'output', config: { value: 'fine' } },
          { id: 'bad', type: 'output', config: { value: '{{ steps.b1.output.message }}' } },
        ],
        [
          ['t', 'c1'],
          ['c1', 'afterC'],
          ['t', 'b1'],
          ['b1', 'ok'],
          ['b1', 'bad', 'error'],
        ],
      ),
    });
    expect(out).toMatchObject({
      status: 'succeeded',
      output: { afterC: 'http_error', bad: 'probe b1 failed attempt 1' },
    });
    const steps = await store.listSteps(out.runId);
    expect(statusOf(steps, 'ok')).toBe('skipped');
    expect(byNode(steps, 'b1')[0]).toMatchObject({ status: 'failed', handle: 'error' });
  });

  it('cancelRun aborts running steps and stops scheduling', async () => {
    const { engine, log } = make();
    const runId = await engine.startRun({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'h', type: 'test.probe', config: { hang: true } },
          { id: 'next', type: 'test.probe' },
        ],
        [
          ['t', 'h'],
          ['h', 'next'],
        ],
      ),
    });
    const running = engine.executeRun(runId);
    await until(() => log.count('h') === 1);
    expect(await engine.cancelRun(runId)).toBe(true);
    const out = await running;
    expect(out.status).toBe('cancelled');
    expect((log.calls[0].aborted as { code?: string }).code).toBe('run_cancelled');
    const steps = await store.listSteps(runId);
    expect(statusOf(steps, 'h')).toBe('cancelled');
    expect(log.count('next')).toBe(0);
    expect(await engine.cancelRun(runId)).toBe(false);
  });

  it(`a cancel from another engine instance is noticed within CANCEL_POLL_MS (${CANCEL_POLL_MS} ms)`, async () => {
    const { engine, log } = make();
    const other = make().engine;
    const runId = await engine.startRun({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'h', type: 'test.probe', config: { hang: true } },
        ],
        [['t', 'h']],
      ),
    });
    const running = engine.executeRun(runId);
    await until(() => log.count('h') === 1);
    const t0 = Date.now();
    await other.cancelRun(runId);
    expect((await running).status).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(CANCEL_POLL_MS * 3);
  });

  it('approval parks the run as waiting; decideApproval + resumeRun continue on the chosen handle', async () => {
    const { engine } = make();
    const runId = await engine.startRun({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'ask', type: 'approval', config: { message: 'Refund {{ input.amount }}?' } },
          { id: 'yes', type: 'output', config: { value: 'refunded by {{ steps.ask.output.by }}' } },
          { id: 'no', type: 'output', config: { value: 'declined' } },
        ],
        [
          ['t', 'ask'],
          ['ask', 'yes', 'approved'],
          ['ask', 'no', 'rejected'],
        ],
      ),
      input: { amount: 30 },
    });
    const first = await engine.executeRun(runId);
    expect(first.status).toBe('waiting');
    expect((await store.getRun(runId))?.status).toBe('waiting');
    expect(statusOf(await store.listSteps(runId), 'ask')).toBe('waiting');
    await expect(engine.decideApproval(runId, 'nope', { approved: true })).rejects.toThrow(/not found/);
    await engine.decideApproval(runId, 'ask', { approved: true, comment: 'ok', by: 'ana' });
    const out = await engine.resumeRun(runId);
    expect(out).toMatchObject({ status: 'succeeded', output: 'refunded by ana' });
    const steps = await store.listSteps(runId);
    expect(byNode(steps, 'ask')).toHaveLength(1);
    expect(byNode(steps, 'ask')[0]).toMatchObject({
      handle: 'approved',
      output: { approved: true, comment: 'ok', by: 'ana' },
    });
    expect(statusOf(steps, 'no')).toBe('skipped');
  });

  it('a long delay parks the run; resumeRun before it is due keeps waiting, after it continues', async () => {
    const clock = new FakeClock();
    const { engine, log } = make(new ProbeLog(), { clock });
    const runId = await engine.startRun({
      definition: wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'd', type: 'delay', config: { ms: 60 * 60 * 1000 } },
          { id: 'after', type: 'test.probe' },
          { id: 'o', type: 'output', config: { value: '{{ steps.d.output.x }}' } },
        ],
        [
          ['t', 'd'],
          ['d', 'after'],
          ['after', 'o'],
        ],
      ),
      input: { x: 7 },
    });
    const first = await engine.executeRun(runId);
    expect(first).toMatchObject({ status: 'waiting', wakeAt: clock.now() + 3_600_000 });
    clock.advance(60_000);
    expect((await engine.resumeRun(runId)).status).toBe('waiting');
    expect(log.count('after')).toBe(0);
    clock.advance(3_600_000);
    const out = await engine.resumeRun(runId);
    expect(out).toMatchObject({ status: 'succeeded', output: 7 });
    expect(byNode(await store.listSteps(runId), 'd').map((s) => s.status)).toEqual(['succeeded']);
  });

  it('resumes after a simulated crash without re-running any succeeded step', async () => {
    const log1 = new ProbeLog();
    const crashed = make(log1).engine;
    const definition = wf(
      [
        { id: 't', type: 'trigger.manual' },
        { id: 'a', type: 'test.probe', config: { value: 'A' } },
        { id: 'b', type: 'test.probe', config: { value: 'B' } },
        // Ignores its signal and never answers: the worker "dies" while it runs.
        { id: 'stuck', type: 'test.probe', config: { hang: true, hangAttempts: 1, ignoreSignal: true } },
        { id: 'o', type: 'output', config: { value: '{{ steps.a.output }}{{ steps.b.output }}' } },
      ],
      [
        ['t', 'a'],
        ['t', 'b'],
        ['a', 'stuck'],
        ['stuck', 'o'],
        ['b', 'o'],
      ],
    );
    const runId = await crashed.startRun({ definition });
    void crashed.executeRun(runId);
    await until(() => log1.count('stuck') === 1);
    await store.flush();
    // A new process: new engine, same store. The probe hangs on attempt 1 only, so the retry
    // (attempt 2) of the step found running answers.
    const log2 = new ProbeLog();
    const fresh = createEngine({ store, nodes: nodesWithProbe(log2), services: createSandboxServices() });
    const out = await fresh.resumeRun(runId);
    expect(out).toMatchObject({ status: 'succeeded', output: 'AB' });
    expect(log2.count('a') + log2.count('b') + log2.count('t')).toBe(0);
    expect(log2.count('stuck')).toBe(1);
    const steps = await store.listSteps(runId);
    expect(byNode(steps, 'a')).toHaveLength(1);
    expect(byNode(steps, 'b')).toHaveLength(1);
    expect(byNode(steps, 'stuck').map((s) => [s.attempt, s.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
  });

  it('rerunFromNode reuses upstream outputs and re-runs the node and everything downstream', async () => {
    const { engine, log } = make();
    const definition = wf(
      [
        { id: 't', type: 'trigger.manual' },
        { id: 'up', type: 'test.probe', config: { value: 'U' } },
        { id: 'side', type: 'test.probe', config: { value: 'S' } },
        { id: 'mid', type: 'test.probe' },
        { id: 'o', type: 'output', config: { value: '{{ steps.mid.output }}-{{ steps.side.output }}' } },
      ],
      [
        ['t', 'up'],
        ['t', 'side'],
        ['up', 'mid'],
        ['mid', 'o'],
        ['side', 'o'],
      ],
    );
    const first = await engine.runToCompletion({ definition });
    expect(first).toMatchObject({ status: 'succeeded', output: 'U-S' });
    const rerunId = await engine.rerunFromNode(first.runId, 'mid');
    const out = await engine.executeRun(rerunId);
    expect(out).toMatchObject({ status: 'succeeded', output: 'U-S' });
    expect([log.count('up'), log.count('side'), log.count('mid')]).toEqual([1, 1, 2]);
    const steps = await store.listSteps(rerunId);
    expect(
      top(steps)
        .map((s) => s.nodeId)
        .sort(),
    ).toEqual(['mid', 'o', 'side', 't', 'up']);
    expect((await store.getRun(rerunId))?.trigger).toBe(`rerun:${first.runId}`);
  });

  it('rerunFromNode copies the whole reused trace: map item steps and agent turns of reused steps', async () => {
    const { engine, log } = make();
    const definition = wf(
      [
        { id: 't', type: 'trigger.manual' },
        {
          id: 'm',
          type: 'map',
          config: {
            items: '[1, 2, 3]',
            body: {
              nodes: [
                {
                  id: 'dbl',
                  type: 'transform',
                  position: { x: 0, y: 0 },
                  config: { value: '{{ item * 2 }}' },
                },
                {
                  id: 'r',
                  type: 'output',
                  position: { x: 0, y: 0 },
                  config: { value: '{{ steps.dbl.output }}' },
                },
              ],
              edges: [{ id: 'be', source: 'dbl', target: 'r' }],
            },
          },
        },
        { id: 'ask', type: 'test.probe', config: { value: 'A' } },
        { id: 'mid', type: 'test.probe' },
      ],
      [
        ['t', 'm'],
        ['t', 'ask'],
        ['m', 'mid'],
        ['ask', 'mid'],
      ],
    );
    const first = await engine.runToCompletion({ definition });
    expect(first.status).toBe('succeeded');
    const original = await store.listSteps(first.runId);
    // Agent turns as an agent-mode step records them, on a step the rerun reuses.
    const ask = byNode(original, 'ask')[0];
    const turns = [
      { seq: 0, kind: 'request' as const, payload: { q: 1 } },
      { seq: 1, kind: 'response' as const, payload: { a: 2 }, tokens: 5 },
    ];
    await store.appendAgentTurns(ask.id, turns);
    await store.flush();

    const rerunId = await engine.rerunFromNode(first.runId, 'mid');
    const copied = await store.listSteps(rerunId);
    const body = (xs: StepRecord[]) =>
      xs
        .filter((s) => s.parentNodeId === 'm')
        .map((s) => [s.nodeId, s.itemIndex, s.status, s.output])
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    expect(body(copied)).toEqual(body(original));
    expect(body(copied)).toHaveLength(6);
    const copiedAsk = byNode(copied, 'ask')[0];
    expect(copiedAsk.id).not.toBe(ask.id);
    expect((await store.listAgentTurns(copiedAsk.id)).map((x) => [x.seq, x.kind, x.payload])).toEqual(
      turns.map((x) => [x.seq, x.kind, x.payload]),
    );
    const out = await engine.executeRun(rerunId);
    expect(out.status).toBe('succeeded');
    expect(log.count('ask')).toBe(1);
    expect(log.count('mid')).toBe(2);
  });

  it(`runs independent branches concurrently, at most MAX_CONCURRENT_STEPS_PER_RUN (${MAX_CONCURRENT_STEPS_PER_RUN}) at once`, async () => {
    const { engine, log } = make();
    const n = MAX_CONCURRENT_STEPS_PER_RUN + 8;
    const nodes = [
      { id: 't', type: 'trigger.manual' },
      ...Array.from({ length: n }, (_, i) => ({ id: `p${i}`, type: 'test.probe', config: { sleepMs: 30 } })),
    ];
    const out = await engine.runToCompletion({
      definition: wf(
        nodes,
        nodes.slice(1).map((x) => ['t', x.id] as [string, string]),
      ),
    });
    expect(out.status).toBe('succeeded');
    expect(log.maxRunning).toBe(MAX_CONCURRENT_STEPS_PER_RUN);
  });
});

async function until(cond: () => boolean, timeoutMs = 5_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
