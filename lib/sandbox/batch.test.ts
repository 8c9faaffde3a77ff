import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpressionScope, SandboxCall } from '@/lib/workflow/expression-scope';
import { RunCancelled } from '@/lib/workflow/errors';
import { ExpressionError, ExpressionTimeout } from './errors';
import {
  batchable,
  evaluateExpression,
  evaluateMany,
  renderTemplate,
  runCode,
  sandboxStats,
  shutdownSandbox,
  warmSandbox,
} from './index';
import {
  MAX_BATCH_RESULT_BYTES,
  MAX_BATCH_SCOPE_BYTES,
  MAX_SANDBOX_POOL_SIZE,
  SANDBOX_BATCH_BUDGET_MS,
  SANDBOX_BATCH_TASKS,
  SANDBOX_POOL_SIZE,
  SANDBOX_WARM_WORKERS,
} from './limits';
import { SandboxPool } from './pool';

// evaluateMany: one call against many scopes (a map's items) in few messages, each scope with its
// own deadline and exactly the answer the single call gives it.

const base: ExpressionScope = { input: { k: 3 }, steps: {}, env: {}, secrets: {} };
const itemScopes = (n: number, item: (i: number) => unknown = (i) => ({ v: i })): ExpressionScope[] =>
  Array.from({ length: n }, (_, i) => ({ ...base, item: item(i), index: i }));

/** Sandbox messages (and resends) while `fn` runs. */
async function counted<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; messages: number; tasks: number; resent: number }> {
  const before = sandboxStats();
  const value = await fn();
  const after = sandboxStats();
  return {
    value,
    messages: after.messages - before.messages,
    tasks: after.tasks - before.tasks,
    resent: after.resent - before.resent,
  };
}

beforeAll(() => warmSandbox());
afterAll(() => shutdownSandbox());

describe('evaluateMany', () => {
  it(`sends at most ${SANDBOX_BATCH_TASKS} scopes per message, each answered as the single call would`, async () => {
    expect(SANDBOX_BATCH_TASKS).toBe(64);
    const n = 300;
    const scopes = itemScopes(n);
    const call: SandboxCall = {
      kind: 'render',
      template: { n: '{{ item.v * input.k }}', at: 'i{{ index }}' },
    };
    const { value, messages, tasks, resent } = await counted(() => evaluateMany(call, scopes));
    // Resends happen only when a worker ran past its budget (a loaded machine); counted apart.
    expect(messages - resent).toBe(Math.ceil(n / SANDBOX_BATCH_TASKS));
    expect(tasks).toBeGreaterThanOrEqual(n);
    const single = await Promise.all(scopes.map((s) => renderTemplate(call.template, s)));
    expect(value.map((o) => (o?.ok ? o.value : o))).toEqual(single);
    expect(single[7]).toEqual({ n: 21, at: 'i7' });
  });

  it('fails only the scope that throws, with the error the single call throws', async () => {
    const scopes = itemScopes(10, (i) => (i === 4 ? null : { v: i }));
    const call: SandboxCall = { kind: 'expression', expression: 'item.v + 1' };
    const out = await evaluateMany(call, scopes);
    const alone = await evaluateExpression('item.v + 1', scopes[4]).catch((e: unknown) => e);
    expect(alone).toBeInstanceOf(ExpressionError);
    expect(out[4]).toEqual({ ok: false, error: alone });
    expect(out.filter((o, i) => i !== 4).map((o) => (o?.ok ? o.value : 'failed'))).toEqual(
      [0, 1, 2, 3, 5, 6, 7, 8, 9].map((v) => v + 1),
    );
  });

  it('gives each scope its own deadline: one that runs away times out, the next ones still run', async () => {
    const scopes = itemScopes(6, (i) => ({ spin: i === 2, v: i }));
    const code = 'if (item.spin) { while (true) {} } return item.v * 2;';
    const {
      value: out,
      messages,
      resent,
    } = await counted(() => evaluateMany({ kind: 'code', code }, scopes, { timeoutMs: 150 }));
    // One message; the tasks after the runaway one are sent again (it used up the budget).
    expect(messages - resent).toBe(1);
    expect(out[2]).toMatchObject({ ok: false });
    expect((out[2] as { error: unknown }).error).toBeInstanceOf(ExpressionTimeout);
    expect(out.map((o) => (o?.ok ? o.value : 'timeout'))).toEqual([0, 2, 'timeout', 6, 8, 10]);
    // Same as the single call.
    await expect(runCode(code, scopes[2], { timeoutMs: 150 })).rejects.toBeInstanceOf(ExpressionTimeout);
  });

  it('a stuck native call in a batch: the watchdog stops the worker, the batch comes back unevaluated', async () => {
    const scopes = itemScopes(4, (i) => ({ stuck: i === 1, v: i }));
    const expr = "item.stuck ? 'ab'.repeat(2e6).split('').sort().length : item.v";
    const out = await evaluateMany({ kind: 'expression', expression: expr }, scopes, { timeoutMs: 100 });
    // Not evaluated: a caller (the map) evaluates each alone, and only the stuck one times out.
    expect(out).toEqual([undefined, undefined, undefined, undefined]);
    await expect(evaluateExpression(expr, scopes[1], { timeoutMs: 100 })).rejects.toBeInstanceOf(
      ExpressionTimeout,
    );
    expect(await evaluateExpression(expr, scopes[3])).toBe(3);
  });

  it(`SANDBOX_BATCH_BUDGET_MS: a worker starts no more tasks of a message after ${SANDBOX_BATCH_BUDGET_MS} ms; the rest is sent again`, async () => {
    expect(SANDBOX_BATCH_BUDGET_MS).toBe(50);
    const busy = `const end = Date.now() + ${SANDBOX_BATCH_BUDGET_MS}; while (Date.now() < end) {} return index;`;
    const {
      value: out,
      messages,
      resent,
    } = await counted(() => evaluateMany({ kind: 'code', code: busy }, itemScopes(4)));
    expect(out.map((o) => o?.ok && o.value)).toEqual([0, 1, 2, 3]);
    expect(resent).toBeGreaterThanOrEqual(1);
    expect(messages).toBeGreaterThanOrEqual(2);
  });

  it(`MAX_BATCH_SCOPE_BYTES: scopes beyond ${MAX_BATCH_SCOPE_BYTES} bytes go in another message`, async () => {
    expect(MAX_BATCH_SCOPE_BYTES).toBe(4 * 1024 * 1024);
    const big = 'x'.repeat(MAX_BATCH_SCOPE_BYTES / 2);
    const { value: out, messages } = await counted(() =>
      evaluateMany(
        { kind: 'expression', expression: 'item.length + index' },
        itemScopes(3, () => big),
      ),
    );
    expect(out.map((o) => o?.ok && o.value)).toEqual([big.length, big.length + 1, big.length + 2]);
    expect(messages).toBe(3);
  });

  it(`MAX_BATCH_RESULT_BYTES: a worker stops gathering results past ${MAX_BATCH_RESULT_BYTES} bytes; the rest is sent again`, async () => {
    expect(MAX_BATCH_RESULT_BYTES).toBe(16 * 1024 * 1024);
    // A pool without the time budget, so only the result limit can split the message.
    const pool = new SandboxPool(1, Infinity);
    try {
      const per = Math.ceil(MAX_BATCH_RESULT_BYTES / 3) + 1024; // each below MAX_RESULT_BYTES
      const sources = [`(function (input, steps, item, index) { return 'x'.repeat(${per}) + index; })`];
      const tasks = Array.from({ length: 4 }, (_, i) => ({
        scope: JSON.stringify({ index: i }),
        sources: [0],
      }));
      const results = await pool.run({ sources, tasks, timeoutMs: 5_000 });
      expect(results.map(([r]) => r.ok && (JSON.parse(r.json!) as string).slice(per))).toEqual([
        '0',
        '1',
        '2',
        '3',
      ]);
      // Three results pass the limit: the first message answers three, the fourth is sent again.
      expect(pool.stats).toMatchObject({ messages: 2, resent: 1 });
    } finally {
      await pool.shutdown();
    }
  });

  it('answers plain references on the host and sends only what needs the sandbox', async () => {
    const { value: out, tasks } = await counted(() =>
      evaluateMany({ kind: 'render', template: '{{ item.v }}' }, itemScopes(5)),
    );
    expect(out.map((o) => o?.ok && o.value)).toEqual([0, 1, 2, 3, 4]);
    expect(tasks).toBe(0);
  });

  it('a cancel rejects with the cancellation', async () => {
    const ctrl = new AbortController();
    const running = evaluateMany({ kind: 'code', code: 'while (true) {}' }, itemScopes(3), {
      signal: ctrl.signal,
      timeoutMs: 5_000,
    });
    setTimeout(() => ctrl.abort(new RunCancelled()), 20);
    await expect(running).rejects.toBeInstanceOf(RunCancelled);
    expect(await evaluateExpression('1 + 1', base)).toBe(2);
  });
});

describe('batchable', () => {
  it('names what a call reads, and refuses calls not worth batching', () => {
    expect(
      batchable({ kind: 'render', template: { a: '{{ item.v * 2 }}', b: '{{ steps.s1.output }}' } }),
    ).toEqual({
      roots: ['item', 'steps'],
      stepIds: ['s1'],
    });
    expect(batchable({ kind: 'code', code: 'return secrets.k + env.E' })).toEqual({
      roots: ['secrets', 'env'],
      stepIds: [],
    });
    // Only plain references: the host answers them, nothing to batch.
    expect(batchable({ kind: 'render', template: '{{ item.v }}' })).toBeNull();
    // Any step may be read: the prefetched scope could not be checked.
    expect(batchable({ kind: 'expression', expression: 'steps[item.k].output' })).toBeNull();
    expect(batchable({ kind: 'expression', expression: 'item +' })).toBeNull();
  });
});

describe('pool size', () => {
  it(`SANDBOX_POOL_SIZE: one worker per core, at least 2, at most MAX_SANDBOX_POOL_SIZE (${MAX_SANDBOX_POOL_SIZE})`, () => {
    expect(MAX_SANDBOX_POOL_SIZE).toBe(8);
    expect(SANDBOX_POOL_SIZE).toBe(Math.min(MAX_SANDBOX_POOL_SIZE, Math.max(2, availableParallelism())));
  });

  it(`SANDBOX_WARM_WORKERS: warm() starts ${SANDBOX_WARM_WORKERS}; jobs queued with every worker busy start more, up to the pool's size`, async () => {
    expect(SANDBOX_WARM_WORKERS).toBe(1);
    const pool = new SandboxPool(3);
    try {
      await pool.warm();
      expect(pool.workerCount).toBe(1);
      // One job at a time never needs a second worker.
      const one = { sources: ['(function () { return 1; })'], tasks: [{ scope: '{}', sources: [0] }] };
      for (let i = 0; i < 3; i++) await pool.run({ ...one, timeoutMs: 1_000 });
      expect(pool.workerCount).toBe(1);
      // Busy jobs side by side: one worker each, never more than the size.
      const busy = {
        sources: ['(function () { const end = Date.now() + 100; while (Date.now() < end); return 2; })'],
        tasks: [{ scope: '{}', sources: [0] }],
        timeoutMs: 5_000,
      };
      const results = await Promise.all(Array.from({ length: 5 }, () => pool.run(busy)));
      expect(results.map(([[r]]) => r.ok && r.json)).toEqual(['2', '2', '2', '2', '2']);
      expect(pool.workerCount).toBe(3);
      expect(pool.stats.spawned).toBe(3);
    } finally {
      await pool.shutdown();
    }
  });
});
