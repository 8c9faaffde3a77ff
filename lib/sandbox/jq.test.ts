import { afterAll, describe, expect, it } from 'vitest';
import { jqAll, jqOne, shutdownJq } from './jq';

// jq runs in its own worker thread with a heap limit and an outside deadline, like the JavaScript
// sandbox: a hostile filter costs one thread, never the process.

afterAll(() => shutdownJq());

describe('jq sandbox', () => {
  it('evaluates with $variables and returns every output', async () => {
    expect(await jqOne({ a: 1 }, '$context.x + .a', { context: { x: 41 } })).toBe(42);
    expect(await jqAll({ a: [1, 2] }, '.a[]')).toEqual([1, 2]);
    expect(await jqOne({ a: [1, 2] }, '.a')).toEqual([1, 2]);
    expect(await jqOne(null, 'empty')).toBeNull();
    expect(await jqOne('text', '. + "!"')).toBe('text!');
  });

  it('reports a syntax error as an expression error', async () => {
    await expect(jqOne({}, '.a |||')).rejects.toMatchObject({
      code: 'expression_error',
      message: expect.stringMatching(/syntax error/),
    });
  });

  it('stops a filter that never ends at its deadline and keeps serving', async () => {
    await expect(jqOne({}, 'def f: f; f', {}, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'expression_timeout',
    });
    expect(await jqOne({ a: 2 }, '.a * 3')).toBe(6);
  });

  it('survives a filter that exhausts its heap', async () => {
    await expect(
      jqOne(null, '[range(0; 100000000)] | length', {}, { timeoutMs: 3_000 }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/expression_error|expression_timeout/),
    });
    expect(await jqOne({ a: 1 }, '.a')).toBe(1);
  });

  it('rejects at once when the run is cancelled', async () => {
    const c = new AbortController();
    c.abort(new Error('gone'));
    await expect(jqOne({}, '.', {}, { signal: c.signal })).rejects.toBeDefined();
  });
});
