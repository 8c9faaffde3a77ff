import { describe, expect, it } from 'vitest';
import type { ExpressionScope } from '@/lib/nodes/define-node';
import { analyzeCode, analyzeExpression, parseReference } from './analyze';
import { ExpressionError, ExpressionSyntaxError } from './errors';
import { NOT_PLAIN, readReference } from './reference';
import { splitTemplate, stringForm } from './template';

describe('parseReference', () => {
  it('accepts plain references only', () => {
    expect(parseReference('steps.a.output.b[0].c')).toEqual({
      root: 'steps',
      path: ['a', 'output', 'b', 0, 'c'],
    });
    expect(parseReference(" steps['x-y'].output ")).toEqual({ root: 'steps', path: ['x-y', 'output'] });
    expect(parseReference('item')).toEqual({ root: 'item', path: [] });
    for (const not of [
      'input.a + 1',
      'foo.bar',
      'input.a()',
      'input[x]',
      '(input)',
      'input.a.b`x`',
      'input[1e400]',
    ]) {
      expect(parseReference(not), not).toBeUndefined();
    }
  });
});

describe('readReference (own properties only)', () => {
  const scope = {
    input: {
      a: { b: [10, { c: 'x' }] },
      s: 'abc',
      n: 5,
      fn: () => 1,
      when: new Date(0),
      inst: new (class K {
        v = 1;
      })(),
    },
    steps: {},
    env: {},
    secrets: {},
  } as unknown as ExpressionScope;

  it('reads own properties and never walks prototypes', () => {
    expect(readReference(scope, 'input', ['a', 'b', 1, 'c'])).toBe('x');
    expect(readReference(scope, 'input', ['s', 'length'])).toBe(3);
    expect(readReference(scope, 'input', ['a', 'toString'])).toBeUndefined();
    expect(readReference(scope, 'input', ['a', '__proto__'])).toBeUndefined();
    expect(readReference(scope, 'input', ['a', 'constructor'])).toBeUndefined();
    expect(readReference(scope, 'input', ['n', 'toFixed'])).toBeUndefined();
    expect(readReference(scope, 'input', ['a', 'b', 'length'])).toBe(2);
  });

  it('answers with JSON values, never host objects', () => {
    expect(readReference(scope, 'input', ['fn'])).toBeUndefined();
    expect(readReference(scope, 'input', ['when'])).toBe('1970-01-01T00:00:00.000Z');
    const copy = readReference(scope, 'input', ['a']) as { b: unknown[] };
    expect(copy).toEqual({ b: [10, { c: 'x' }] });
    expect(copy).not.toBe((scope.input as { a: unknown }).a);
  });

  it('hands anything but plain data to the sandbox', () => {
    expect(readReference(scope, 'input', ['when', 'length'])).toBe(NOT_PLAIN);
    expect(readReference(scope, 'input', ['inst', 'v'])).toBe(NOT_PLAIN);
  });

  it('throws like the sandbox when reading through null or undefined', () => {
    expect(() => readReference(scope, 'input', ['missing', 'x'])).toThrow(ExpressionError);
    expect(() => readReference(scope, 'item', ['x'])).toThrow(/of undefined/);
  });
});

describe('analyze', () => {
  it('lists the scope roots and step ids an expression needs', () => {
    const a = analyzeExpression(
      "steps.fetch.output.x + steps['b'].output + input.y + ({ secrets: 1 }).secrets",
    );
    expect(a.kind).toBe('sandbox');
    if (a.kind !== 'sandbox') return;
    expect(a.needs.roots.sort()).toEqual(['input', 'steps']);
    expect(a.needs.stepIds?.sort()).toEqual(['b', 'fetch']);
    const all = analyzeCode('return Object.keys(steps)');
    expect(all.needs.stepIds).toBeUndefined();
  });

  it('rejects sources that would break out of the wrapper', () => {
    expect(() => analyzeExpression('1); (2')).toThrow(ExpressionSyntaxError);
    expect(() => analyzeCode('}); (function () {')).toThrow(ExpressionSyntaxError);
    expect(() => analyzeExpression('')).toThrow(ExpressionSyntaxError);
  });
});

describe('splitTemplate', () => {
  it('finds expressions, skipping braces and strings inside them', () => {
    expect(splitTemplate('a {{ x }} b')).toEqual([{ text: 'a ' }, { expr: 'x' }, { text: ' b' }]);
    expect(splitTemplate('{{ {a: {b: 1}} }}')).toEqual([{ expr: '{a: {b: 1}}' }]);
    expect(splitTemplate("{{ '}}' }}")).toEqual([{ expr: "'}}'" }]);
    expect(splitTemplate('no template')).toBeUndefined();
    expect(splitTemplate('unclosed {{ x')).toBeUndefined();
  });

  it('turns values into their string form', () => {
    expect(stringForm({ a: 1 })).toBe('{"a":1}');
    expect(stringForm(undefined)).toBe('');
    expect(stringForm(3)).toBe('3');
  });
});
