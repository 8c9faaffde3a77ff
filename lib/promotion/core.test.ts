import { afterAll, describe, expect, it } from 'vitest';
import { createSandboxServices, shutdownSandbox } from '@/lib/sandbox';
import { getNode } from '@/lib/nodes/registry';
import type { WorkflowNode } from '@/lib/workflow/definition';
import { diffPaths, MAX_DIFF_PATHS, valueAt } from './diff';
import { numericEqual, score } from './scorers';
import { createReplay, NOT_RECORDED, recordedCalls } from './replay';
import { buildReport, compareBacktests, MAX_CASES_PER_FAILURE_TYPE, type ReportCase } from './report';
import {
  backtestRequestSchema,
  MAX_BACKTEST_CASES,
  MAX_BACKTEST_CONCURRENCY,
  MAX_SCORER_FIELDS,
} from './spec';
import { BacktestBudget, runBacktest, type BacktestCase, type Candidate } from './runner';

const signal = new AbortController().signal;
afterAll(() => shutdownSandbox());

describe('diffPaths', () => {
  it('names leaf paths, sorted, and the root when kinds differ', () => {
    expect(diffPaths({ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 2, d: 4 } })).toEqual(['/b/d']);
    expect(diffPaths({ a: 1 }, { b: 1 })).toEqual(['/a', '/b']);
    expect(diffPaths([1, 2], [1, 3])).toEqual(['/1']);
    expect(diffPaths([1, 2], [1])).toEqual(['']);
    expect(diffPaths('x', { a: 1 })).toEqual(['']);
    expect(diffPaths({ 'a/b': 1 }, { 'a/b': 2 })).toEqual(['/a~1b']);
    expect(valueAt({ 'a/b': [5] }, '/a~1b/0')).toBe(5);
  });
  it(`reports at most MAX_DIFF_PATHS (${MAX_DIFF_PATHS}) paths`, () => {
    const a = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, -i - 1]));
    expect(diffPaths(a, b)).toHaveLength(MAX_DIFF_PATHS);
  });
});

describe('scorers', () => {
  const deps = { runCode: createSandboxServices().runCode };
  it('exact, fields, numeric', async () => {
    expect((await score({ kind: 'exact' }, { a: 1, b: 2 }, { b: 2, a: 1 }, null, deps, signal)).score).toBe(
      1,
    );
    expect((await score({ kind: 'exact' }, { a: 1 }, { a: 2 }, null, deps, signal)).score).toBe(0);
    const fields = await score(
      { kind: 'fields', fields: ['/a', '/b/c'] },
      { a: 1, b: { c: 2 } },
      { a: 1, b: { c: 3 } },
      null,
      deps,
      signal,
    );
    expect(fields.score).toBe(0.5);
    expect(numericEqual({ x: 10, y: 'a' }, { x: 10.4, y: 'a' }, 0.5, false)).toBe(true);
    expect(numericEqual({ x: 10 }, { x: 10.6 }, 0.5, false)).toBe(false);
    expect(numericEqual(100, 104, 0.05, true)).toBe(true);
    expect(numericEqual(100, 106, 0.05, true)).toBe(false);
  });
  it('code scorer runs in the sandbox with expected, actual, input', async () => {
    const s = await score(
      { kind: 'code', code: 'return expected.n === actual.n && input.k === "x" ? 1 : 0.25;' },
      { n: 1 },
      { n: 1 },
      { k: 'x' },
      deps,
      signal,
    );
    expect(s.score).toBe(1);
    await expect(score({ kind: 'code', code: 'return 7;' }, 1, 1, 1, deps, signal)).rejects.toThrow(/0 to 1/);
    // The sandbox, not the host: process is not reachable.
    await expect(
      score({ kind: 'code', code: 'return process.exit(1);' }, 1, 1, 1, deps, signal),
    ).rejects.toThrow();
  });
  it('llm_judge needs a model and parses its score', async () => {
    await expect(score({ kind: 'llm_judge' }, 1, 1, 1, {}, signal)).rejects.toThrow(/needs a model/);
    const judged = await score(
      { kind: 'llm_judge' },
      1,
      1,
      1,
      { judge: async () => ({ text: '{"score": 0.75}', cost: 0.01 }) },
      signal,
    );
    expect(judged).toEqual({ score: 0.75, tokens: undefined, cost: 0.01 });
  });
});

describe('request schema', () => {
  it('defaults and limits, each refused with a JSON pointer', () => {
    const r = backtestRequestSchema.parse({ nodeId: 'n' });
    expect(r).toMatchObject({
      scorer: { kind: 'exact' },
      tools: 'refuse',
      passScore: 1,
      runs: { limit: 100 },
    });
    const bad = (v: unknown) => backtestRequestSchema.safeParse(v).error!.issues.map((i) => i.path.join('/'));
    expect(bad({ nodeId: 'n', runs: { limit: MAX_BACKTEST_CASES + 1 } })).toEqual(['runs/limit']);
    expect(bad({ nodeId: 'n', concurrency: MAX_BACKTEST_CONCURRENCY + 1 })).toEqual(['concurrency']);
    expect(
      bad({ nodeId: 'n', scorer: { kind: 'fields', fields: Array(MAX_SCORER_FIELDS + 1).fill('/a') } }),
    ).toEqual(['scorer/fields']);
    expect(bad({ nodeId: 'n', scorer: { kind: 'fields', fields: ['label'] } })).toEqual(['scorer/fields/0']);
    expect(bad({ nodeId: 'n', runs: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } })).toEqual([
      'runs/to',
    ]);
  });
});

describe('replay', () => {
  const def = getNode('transform')!;
  const node = {
    id: 't',
    type: 'transform',
    position: { x: 0, y: 0 },
    config: { value: '{{ input.a }}' },
  } as WorkflowNode;
  it('answers self with the recorded config from the deterministic output, and recorded agent tool calls', () => {
    const rec = recordedCalls({
      def,
      node,
      output: 42,
      handle: null,
      turns: [
        { kind: 'tool_call', payload: { id: 'c1', name: 'http', arguments: '{"url":"http://x.test/a"}' } },
        { kind: 'tool_result', payload: { id: 'c1', name: 'http', result: { status: 200, body: 'A' } } },
        {
          kind: 'tool_call',
          payload: { id: 'c2', name: 'http', arguments: '{"url":"http://x.test/b","method":"POST"}' },
        },
        {
          kind: 'tool_result',
          payload: { id: 'c2', name: 'http', target: 'tool_args', error: 'shadow mode forbids' },
        },
      ],
    });
    const refused: string[] = [];
    const replay = createReplay(rec, 'refuse', (c) => refused.push(c.name));
    expect(replay({ tool: 'self', name: 'self', args: { value: '{{ input.a }}' }, readOnly: true })).toEqual({
      kind: 'recorded',
      result: 42,
    });
    expect(replay({ tool: 'http', name: 'http', args: { url: 'http://x.test/a' }, readOnly: true })).toEqual({
      kind: 'recorded',
      result: { status: 200, body: 'A' },
    });
    // A refusal was never an answer: not replayed.
    const no = replay({
      tool: 'http',
      name: 'http',
      args: { url: 'http://x.test/b', method: 'POST' },
      readOnly: false,
    });
    expect(no).toMatchObject({ kind: 'refused', reason: NOT_RECORDED });
    expect(replay({ tool: 'self', name: 'self', args: { value: 'other' }, readOnly: true }).kind).toBe(
      'refused',
    );
    expect(refused).toEqual(['http', 'self']);
    expect(
      createReplay(rec, 'read_only')({ tool: 'self', name: 'self', args: { value: 'x' }, readOnly: true }),
    ).toEqual({ kind: 'run' });
    expect(
      createReplay(
        rec,
        'read_only',
      )({ tool: 'http', name: 'http', args: { url: 'http://y' }, readOnly: false }).kind,
    ).toBe('refused');
  });
});

const mkCase = (seq: number, expected: unknown): BacktestCase => ({
  seq,
  runId: `r${seq}`,
  stepId: `s${seq}`,
  runVersion: 1,
  input: { seq },
  expected,
  deterministicMs: 2,
  deterministicCost: 0,
  recorded: [],
});

describe('runBacktest', () => {
  const spend = { tokens: 10, cost: 0.001, modelMs: 1, turns: 1, refusedCalls: 0 };
  it('scores, groups failures, respects concurrency', async () => {
    let active = 0;
    let peak = 0;
    const candidate: Candidate = async (c) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 2));
      active--;
      const seq = c.seq;
      if (seq % 10 === 0) return { outcome: 'fallback', reason: 'invalid_output', message: 'x', ...spend };
      return { outcome: 'ok', output: { label: seq % 5 === 0 ? 'bug' : 'billing' }, ...spend };
    };
    const results: ReportCase[] = [];
    const end = await runBacktest({
      cases: Array.from({ length: 40 }, (_, i) => mkCase(i + 1, { label: 'billing' })),
      candidate,
      scorer: { kind: 'exact' },
      passScore: 1,
      deps: {},
      concurrency: 3,
      budget: new BacktestBudget(100),
      signal,
      onCase: (r) => void results.push(r),
    });
    expect(end).toBe('succeeded');
    expect(peak).toBe(3);
    const report = buildReport(results);
    expect(report.cases).toBe(40);
    expect(report.agreed).toBe(32);
    expect(report.failureTypes.map((f) => [f.key, f.count])).toEqual([
      ['diff:/label', 4],
      ['fallback:invalid_output', 4],
    ]);
    expect(report.failureTypes[0].transitions).toEqual([
      { path: '/label', expected: 'billing', actual: 'bug', count: 4 },
    ]);
    expect(report.fallback).toEqual({ rate: 0.1, byReason: { invalid_output: 4 } });
  });

  it('stops at the budget: a refused reservation is a stop, not a case', async () => {
    const budget = new BacktestBudget(0.0035);
    const candidate: Candidate = async () => {
      const r = budget.reserve(0.001);
      if (!r)
        return { outcome: 'fallback', reason: 'budget', message: budget.refusal(0.001), ...spend, cost: 0 };
      budget.settle(r, 0.001);
      return { outcome: 'ok', output: 1, ...spend };
    };
    const results: unknown[] = [];
    const end = await runBacktest({
      cases: Array.from({ length: 10 }, (_, i) => mkCase(i, 1)),
      candidate,
      scorer: { kind: 'exact' },
      passScore: 1,
      deps: {},
      concurrency: 1,
      budget,
      signal,
      onCase: (r) => void results.push(r),
    });
    expect(end).toBe('budget_exceeded');
    expect(results).toHaveLength(3);
    expect(budget.spentUsd).toBeLessThanOrEqual(0.0035);
  });

  it("a step's own maxTokens budget fallback is a result, not a stop", async () => {
    const results: ReportCase[] = [];
    const end = await runBacktest({
      cases: [mkCase(1, 1), mkCase(2, 1)],
      candidate: async () => ({
        outcome: 'fallback',
        reason: 'budget',
        message: 'used 9000 tokens, over maxTokens 8000',
        ...spend,
      }),
      scorer: { kind: 'exact' },
      passScore: 1,
      deps: {},
      concurrency: 1,
      budget: new BacktestBudget(1),
      signal,
      onCase: (r) => void results.push(r),
    });
    expect(end).toBe('succeeded');
    expect(results.map((r) => r.failureType)).toEqual(['fallback:budget', 'fallback:budget']);
  });

  it('cancel stops before the next case', async () => {
    const ac = new AbortController();
    const results: unknown[] = [];
    const end = await runBacktest({
      cases: Array.from({ length: 10 }, (_, i) => mkCase(i, 1)),
      candidate: async (c) => {
        if (c.seq === 2) ac.abort();
        return { outcome: 'ok', output: 1, ...spend };
      },
      scorer: { kind: 'exact' },
      passScore: 1,
      deps: {},
      concurrency: 1,
      budget: new BacktestBudget(1),
      signal: ac.signal,
      onCase: (r) => void results.push(r),
    });
    expect(end).toBe('cancelled');
    expect(results).toHaveLength(3);
  });
});

describe('report helpers', () => {
  it(`lists at most MAX_CASES_PER_FAILURE_TYPE (${MAX_CASES_PER_FAILURE_TYPE}) cases per type, with the full count`, () => {
    const cases: ReportCase[] = Array.from({ length: 30 }, (_, i) => ({
      seq: i,
      runId: `r${i}`,
      stepId: `s${i}`,
      expected: 1,
      actual: 2,
      outcome: 'ok',
      score: 0,
      agreed: false,
      fallbackReason: null,
      diffPaths: [''],
      failureType: 'diff:',
      tokens: 0,
      cost: 0,
      latencyMs: 1,
      modelMs: 1,
      deterministicMs: null,
      deterministicCost: null,
      refusedCalls: 0,
    }));
    const r = buildReport(cases);
    expect(r.failureTypes[0].count).toBe(30);
    expect(r.failureTypes[0].cases).toHaveLength(MAX_CASES_PER_FAILURE_TYPE);
  });
  it('compare matches cases by recorded step', () => {
    const mk = (agreed: boolean[]): ReportCase[] =>
      agreed.map((a, i) => ({
        seq: i,
        runId: `r${i}`,
        stepId: `s${i}`,
        expected: 1,
        actual: a ? 1 : 2,
        outcome: 'ok',
        score: a ? 1 : 0,
        agreed: a,
        fallbackReason: null,
        diffPaths: a ? [] : [''],
        failureType: a ? null : 'diff:',
        tokens: 0,
        cost: 0,
        latencyMs: 1,
        modelMs: 1,
        deterministicMs: null,
        deterministicCost: null,
        refusedCalls: 0,
      }));
    const a = mk([true, false, false, true]);
    const b = mk([true, true, false, false]);
    const c = compareBacktests({ report: buildReport(a), cases: a }, { report: buildReport(b), cases: b });
    expect(c.matched).toBe(4);
    expect(c.fixed.map((x) => x.stepId)).toEqual(['s1']);
    expect(c.regressed.map((x) => x.stepId)).toEqual(['s3']);
    expect(c.agreement).toEqual({ a: 0.5, b: 0.5, delta: 0 });
  });
});

describe('stepCandidate (graduation: a proposed deterministic step against the same history)', () => {
  it('runs a transform on each recorded input in the sandbox and is scored like the agent', async () => {
    const { stepCandidate } = await import('./step-candidate');
    const sandbox = createSandboxServices();
    const proposed = {
      id: 'label',
      type: 'transform',
      position: { x: 0, y: 0 },
      // Forgets refunds: the backtest must find that class.
      config: { value: { label: "{{ /invoice/i.test(input.text) ? 'billing' : 'other' }}" } },
    } as WorkflowNode;
    const candidate = stepCandidate({ def: getNode('transform')!, node: proposed, sandbox });
    const texts = ['my invoice', 'refund me', 'hello', 'refund again'];
    const expected = ['billing', 'billing', 'other', 'billing'];
    const results: ReportCase[] = [];
    const end = await runBacktest({
      cases: texts.map((text, i) => ({ ...mkCase(i, { label: expected[i] }), input: { text } })),
      candidate,
      scorer: { kind: 'exact' },
      passScore: 1,
      deps: {},
      concurrency: 2,
      budget: new BacktestBudget(1),
      signal,
      onCase: (r) => void results.push(r),
    });
    expect(end).toBe('succeeded');
    const report = buildReport(results);
    expect(report.agreed).toBe(2);
    expect(report.failureTypes[0]).toMatchObject({
      key: 'diff:/label',
      count: 2,
      transitions: [{ expected: 'billing', actual: 'other', count: 2 }],
    });
  });

  it('a branching step answers with its branch; an http step cannot reach out', async () => {
    const { stepCandidate } = await import('./step-candidate');
    const sandbox = createSandboxServices();
    const cond = {
      id: 'c',
      type: 'condition',
      position: { x: 0, y: 0 },
      config: { expression: 'input.n > 1' },
    } as WorkflowNode;
    const answer = await stepCandidate({ def: getNode('condition')!, node: cond, sandbox })(
      mkCase(0, null),
      signal,
    );
    expect(answer).toMatchObject({ outcome: 'ok', output: { branch: 'false' } });
    const http = {
      id: 'h',
      type: 'http.request',
      position: { x: 0, y: 0 },
      config: { method: 'GET', url: 'http://127.0.0.1:9/x' },
    } as WorkflowNode;
    await expect(
      stepCandidate({ def: getNode('http.request')!, node: http, sandbox })(mkCase(0, null), signal),
    ).rejects.toThrow(/not_recorded/);
  });
});
