import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpressionScope } from '@/lib/nodes/define-node';
import { RunCancelled } from '@/lib/workflow/errors';
import { ExpressionError, ExpressionSyntaxError } from './errors';
import {
  createSandboxServices,
  evaluateExpression,
  renderTemplate,
  runCode,
  shutdownSandbox,
  warmSandbox,
} from './index';

const scope: ExpressionScope = {
  input: { a: 2, b: 3, name: 'Ada', list: [1, 2, 3], nested: { deep: [{ c: 'x' }] }, when: new Date(0) },
  steps: {
    fetch: { output: { status: 200, body: { text: 'hello', priority: 'high' } } },
    'odd-id': { output: 7 },
  },
  item: { id: 9 },
  index: 4,
  env: { REGION: 'eu' },
  secrets: { token: 's3cret' },
};

beforeAll(() => warmSandbox());
afterAll(() => shutdownSandbox());

describe('evaluateExpression', () => {
  it('reads every scope root', async () => {
    expect(await evaluateExpression('input.a + input.b * 2', scope)).toBe(8);
    expect(await evaluateExpression("steps.fetch.output.body.priority === 'high'", scope)).toBe(true);
    expect(await evaluateExpression('item.id * index', scope)).toBe(36);
    expect(await evaluateExpression('env.REGION.toUpperCase()', scope)).toBe('EU');
    expect(await evaluateExpression('secrets.token.length', scope)).toBe(6);
    expect(await evaluateExpression("steps['odd-id'].output + 1", scope)).toBe(8);
  });

  it('returns raw JSON values', async () => {
    expect(await evaluateExpression('({ n: input.list.map((x) => x * 2) })', scope)).toEqual({
      n: [2, 4, 6],
    });
    expect(await evaluateExpression('null', scope)).toBeNull();
    expect(await evaluateExpression('undefined', scope)).toBeUndefined();
    expect(await evaluateExpression('() => 1', scope)).toBeUndefined();
    expect(await evaluateExpression('input.when', scope)).toBe('1970-01-01T00:00:00.000Z');
  });

  it('reports errors with the message from inside', async () => {
    await expect(evaluateExpression('nope.x', scope)).rejects.toThrow(/nope/);
    await expect(evaluateExpression('input.missing.x', scope)).rejects.toBeInstanceOf(ExpressionError);
    await expect(evaluateExpression("(() => { throw new RangeError('too far') })()", scope)).rejects.toThrow(
      'RangeError: too far',
    );
    const err = await evaluateExpression('(() => { const o = {}; o.o = o; return o; })()', scope).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExpressionError);
    expect((err as ExpressionError).code).toBe('expression_error');
  });

  it('rejects bad syntax, and statements posing as expressions, with a location', async () => {
    const err = await evaluateExpression('input.a +', scope).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExpressionSyntaxError);
    expect((err as ExpressionSyntaxError).code).toBe('expression_syntax_error');
    expect((err as ExpressionSyntaxError).location).toEqual({ line: 1, column: 9 });
    await expect(evaluateExpression('1); while (true) {} (1', scope)).rejects.toBeInstanceOf(
      ExpressionSyntaxError,
    );
    await expect(evaluateExpression('a), (b', scope)).rejects.toBeInstanceOf(ExpressionSyntaxError);
  });

  it('gives the fast path and the sandbox the same answers', async () => {
    const references = [
      'input.a',
      'input.name',
      'input.name.length',
      'input.list',
      'input.list[1]',
      'input.list[7]',
      'input.list.length',
      "input['nested'].deep[0].c",
      'input.nested.deep[0]',
      'input.when',
      'steps.fetch.output.body',
      "steps['odd-id'].output",
      'steps.nothing',
      'item',
      'index',
      'env.REGION',
      'input.a.b',
      'input.name.toUpperCase',
    ];
    for (const ref of references) {
      const fast = await evaluateExpression(ref, scope);
      const sandboxed = await evaluateExpression(`(${ref})`, scope);
      expect(fast, ref).toEqual(sandboxed);
    }
    for (const ref of ['input.missing.x', 'steps.nothing.output']) {
      await expect(evaluateExpression(ref, scope), ref).rejects.toBeInstanceOf(ExpressionError);
      await expect(evaluateExpression(`(${ref})`, scope), ref).rejects.toBeInstanceOf(ExpressionError);
    }
  });

  it('hands back copies: changing a result never changes the scope', async () => {
    const list = (await evaluateExpression('input.list', scope)) as number[];
    list.push(4);
    expect((scope.input as { list: number[] }).list).toEqual([1, 2, 3]);
  });

  it('sends only the scope it names, so an unserializable unrelated step is harmless', async () => {
    const odd = { ...scope, steps: { ...scope.steps, big: { output: 10n } } };
    expect(await evaluateExpression('steps.fetch.output.status + 1', odd)).toBe(201);
    expect(await evaluateExpression('typeof secrets', { ...scope, secrets: { a: 'b' } })).toBe('object');
    await expect(evaluateExpression('Object.keys(steps)', odd)).rejects.toThrow(/JSON/);
  });

  it('stops at an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(evaluateExpression('1 + 1', scope, { signal: ac.signal })).rejects.toBeInstanceOf(
      RunCancelled,
    );
    const running = new AbortController();
    const p = runCode('while (true) {}', scope, { signal: running.signal, timeoutMs: 5_000 });
    setTimeout(() => running.abort(), 50);
    await expect(p).rejects.toBeInstanceOf(RunCancelled);
    await warmSandbox();
    expect(await evaluateExpression('input.a * 5', scope)).toBe(10);
  });
});

describe('runCode', () => {
  it('runs a function body with the scope and returns its value', async () => {
    const body = `
      const out = [];
      for (const n of input.list) out.push(n * index);
      return { out, text: steps.fetch.output.body.text, item };
    `;
    expect(await runCode(body, scope)).toEqual({ out: [4, 8, 12], text: 'hello', item: { id: 9 } });
  });

  it('allows await and reports throws and syntax errors', async () => {
    expect(await runCode('const x = await Promise.resolve(20); return x + input.a;', scope)).toBe(22);
    await expect(runCode("throw new Error('bad input')", scope)).rejects.toThrow('Error: bad input');
    await expect(runCode('return {', scope)).rejects.toBeInstanceOf(ExpressionSyntaxError);
    // A body cannot close the wrapper function it runs in.
    await expect(runCode('}); (function () {', scope)).rejects.toBeInstanceOf(ExpressionSyntaxError);
    await expect(runCode('undeclared = 1; return 1', scope)).rejects.toThrow(/undeclared/);
  });

  it('returns undefined without a return', async () => {
    expect(await runCode('const a = 1;', scope)).toBeUndefined();
  });
});

describe('renderTemplate', () => {
  it('keeps raw values for a whole {{ }} and strings otherwise', async () => {
    const out = await renderTemplate(
      {
        url: 'https://t.example/{{ input.name }}/{{ input.a * 10 }}',
        raw: '{{ input.list }}',
        obj: 'list={{ input.list }} none={{ input.missing }}',
        nested: ['{{ steps.fetch.output.status }}', { deep: '{{ item.id }}' }],
        literal: 'no braces',
        n: 5,
        nil: null,
      },
      scope,
    );
    expect(out).toEqual({
      url: 'https://t.example/Ada/20',
      raw: [1, 2, 3],
      obj: 'list=[1,2,3] none=',
      nested: [200, { deep: 9 }],
      literal: 'no braces',
      n: 5,
      nil: null,
    });
  });

  it('fails with the first failing expression', async () => {
    await expect(renderTemplate({ a: '{{ nope }}' }, scope)).rejects.toThrow(/nope/);
    await expect(renderTemplate('x {{ 1 + }}', scope)).rejects.toBeInstanceOf(ExpressionSyntaxError);
  });
});

describe('createSandboxServices', () => {
  it('exposes evaluate, runCode and render shaped like NodeServices', async () => {
    const services = createSandboxServices();
    expect(await services.evaluate('input.a', scope)).toBe(2);
    expect(await services.runCode('return input.b', scope)).toBe(3);
    expect(await services.render('{{ input.a }}!', scope)).toBe('2!');
  });
});

describe('shutdownSandbox', () => {
  it('stops the workers; the next evaluation starts them again', async () => {
    await shutdownSandbox();
    expect(await evaluateExpression('input.a + 1', scope)).toBe(3);
  });
});
