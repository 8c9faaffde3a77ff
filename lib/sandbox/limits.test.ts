import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpressionScope } from '@/lib/nodes/define-node';
import { analysisCacheSize, analyzeExpression, analyzeExpressionCached } from './analyze';
import { ExpressionError, ExpressionTimeout } from './errors';
import { evaluateExpression, runCode, shutdownSandbox, warmSandbox } from './index';
import {
  clampTimeout,
  CODE_TIMEOUT_MS,
  COMPILED_CACHE_SIZE,
  CONTEXT_MAX_USES,
  DEFAULT_EXPRESSION_TIMEOUT_MS,
  EXPRESSION_CACHE_SIZE,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_RESULT_BYTES,
  MAX_SANDBOX_TIMEOUT_MS,
  SANDBOX_MEMORY_BYTES,
  SANDBOX_POOL_SIZE,
  SANDBOX_STACK_BYTES,
  SANDBOX_WORKER_STACK_MB,
  WATCHDOG_GRACE_MS,
} from './limits';

const scope: ExpressionScope = { input: {}, steps: {}, env: {}, secrets: {} };
const busy = (ms: number) =>
  `(() => { const end = Date.now() + ${ms}; while (Date.now() < end) {} return 'done'; })()`;

beforeAll(() => warmSandbox());
afterAll(() => shutdownSandbox());

describe('sandbox limits', () => {
  it('DEFAULT_EXPRESSION_TIMEOUT_MS stops an expression that runs past it', async () => {
    const err = await evaluateExpression(busy(DEFAULT_EXPRESSION_TIMEOUT_MS + 2_000), scope).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExpressionTimeout);
    expect((err as ExpressionTimeout).timeoutMs).toBe(DEFAULT_EXPRESSION_TIMEOUT_MS);
  });

  it('CODE_TIMEOUT_MS gives code bodies a longer deadline than expressions', async () => {
    expect(CODE_TIMEOUT_MS).toBeGreaterThan(DEFAULT_EXPRESSION_TIMEOUT_MS);
    await warmSandbox();
    expect(await runCode(`return ${busy(DEFAULT_EXPRESSION_TIMEOUT_MS + 200)}`, scope)).toBe('done');
  });

  it('SANDBOX_MEMORY_BYTES caps the heap', async () => {
    await warmSandbox();
    expect(await evaluateExpression(`'x'.repeat(${SANDBOX_MEMORY_BYTES / 8}).length`, scope)).toBe(
      SANDBOX_MEMORY_BYTES / 8,
    );
    await expect(evaluateExpression(`'x'.repeat(${SANDBOX_MEMORY_BYTES}).length`, scope)).rejects.toThrow(
      /out of memory/,
    );
  });

  it('SANDBOX_STACK_BYTES allows ordinary recursion and stops runaway recursion inside QuickJS', async () => {
    expect(SANDBOX_STACK_BYTES).toBeLessThan(SANDBOX_WORKER_STACK_MB * 1024 * 1024);
    expect(await evaluateExpression('(function f(n) { return n ? f(n - 1) + 1 : 0; })(1000)', scope)).toBe(
      1000,
    );
    await expect(evaluateExpression('(function f() { return f(); })()', scope)).rejects.toThrow(
      /stack overflow/,
    );
  });

  it('SANDBOX_WORKER_STACK_MB leaves room for deep native recursion (QuickJS reports, the worker survives)', async () => {
    // JSON.parse recurses natively in C; without the larger V8 stack the host would overflow first.
    const err = await evaluateExpression("JSON.parse('['.repeat(100000))", scope).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpressionError);
    expect((err as Error).message).toMatch(/stack overflow/);
    expect((err as Error).message).not.toMatch(/Sandbox failure/);
  });

  it('MAX_RESULT_BYTES caps what comes back', async () => {
    expect(((await evaluateExpression(`'x'.repeat(${MAX_RESULT_BYTES - 10})`, scope)) as string).length).toBe(
      MAX_RESULT_BYTES - 10,
    );
    await expect(evaluateExpression(`'x'.repeat(${MAX_RESULT_BYTES})`, scope)).rejects.toThrow(/larger than/);
  });

  it('MAX_ERROR_MESSAGE_LENGTH cuts long messages', async () => {
    const err = (await runCode(`throw new Error('e'.repeat(${MAX_ERROR_MESSAGE_LENGTH * 5}))`, scope).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH + 20);
    expect(err.message).toMatch(/truncated/);
  });

  it('WATCHDOG_GRACE_MS: a worker the interrupt cannot stop is terminated after deadline + grace', async () => {
    await warmSandbox();
    const timeoutMs = 100;
    const started = performance.now();
    const err = await evaluateExpression("'ab'.repeat(2e6).split('').sort().length", scope, {
      timeoutMs,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpressionTimeout);
    expect(performance.now() - started).toBeGreaterThanOrEqual(timeoutMs + WATCHDOG_GRACE_MS - 5);
  });

  it('MAX_SANDBOX_TIMEOUT_MS bounds a requested timeout', () => {
    expect(clampTimeout(10 * MAX_SANDBOX_TIMEOUT_MS)).toBe(MAX_SANDBOX_TIMEOUT_MS);
    expect(clampTimeout(Infinity)).toBe(MAX_SANDBOX_TIMEOUT_MS);
    expect(clampTimeout(0)).toBe(1);
    expect(clampTimeout(250.7)).toBe(250);
  });

  it('SANDBOX_POOL_SIZE: a runaway code body does not stall other expressions', async () => {
    expect(SANDBOX_POOL_SIZE).toBeGreaterThanOrEqual(2);
    await warmSandbox();
    const order: string[] = [];
    const runaway = runCode('while (true) {}', scope, { timeoutMs: 1_500 }).catch(() =>
      order.push('runaway'),
    );
    await new Promise((r) => setTimeout(r, 20));
    await evaluateExpression('1 + 1', scope).then(() => order.push('expression'));
    await runaway;
    expect(order).toEqual(['expression', 'runaway']);
  });

  it('CONTEXT_MAX_USES: evaluations keep working across a context replacement', async () => {
    await warmSandbox();
    let sum = 0;
    for (let i = 0; i < CONTEXT_MAX_USES + 5; i++)
      sum += (await evaluateExpression('index + 1', { ...scope, index: i })) as number;
    expect(sum).toBe(((CONTEXT_MAX_USES + 5) * (CONTEXT_MAX_USES + 6)) / 2);
  });

  it('COMPILED_CACHE_SIZE: past it the oldest wrapper is dropped and compiled again when needed', async () => {
    await warmSandbox();
    // One message per expression, more distinct sources than a worker keeps compiled.
    for (let i = 0; i < COMPILED_CACHE_SIZE + 10; i++)
      expect(await evaluateExpression(`index * 2 + ${i}`, { ...scope, index: 1 })).toBe(2 + i);
    // The first ones were evicted: they compile again, with the scope of this call.
    expect(await evaluateExpression('index * 2 + 0', { ...scope, index: 5 })).toBe(10);
    // A reused wrapper carries nothing from one evaluation to the next.
    const stateful = '(() => { const seen = typeof item.mark; item.mark = 1; return seen; })()';
    expect(await evaluateExpression(stateful, { ...scope, item: {} })).toBe('undefined');
    expect(await evaluateExpression(stateful, { ...scope, item: {} })).toBe('undefined');
  });

  it('EXPRESSION_CACHE_SIZE bounds the analysis cache', () => {
    for (let i = 0; i < EXPRESSION_CACHE_SIZE + 10; i++) analyzeExpressionCached(`input.a + ${i}`);
    expect(analysisCacheSize()).toBeLessThanOrEqual(EXPRESSION_CACHE_SIZE);
    expect(analyzeExpression('input.a + 1').kind).toBe('sandbox');
  });
});
