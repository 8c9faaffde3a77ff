import { describe, expect, it } from 'vitest';
import { checkJsonSchema, parseModelJson } from '@/lib/workflow/json-schema-check';

describe('checkJsonSchema', () => {
  const schema = {
    type: 'object',
    properties: {
      label: { enum: ['billing', 'bug'] },
      score: { type: 'number', minimum: 0, maximum: 1 },
      name: { type: 'string', minLength: 2 },
      tags: { type: 'array', items: { type: 'string' } },
      'a/b': { type: 'integer' },
    },
    required: ['label', 'score'],
    additionalProperties: false,
  };

  it('accepts a valid value', () => {
    expect(checkJsonSchema(schema, { label: 'bug', score: 0.5, tags: ['x'], 'a/b': 3 })).toEqual([]);
  });

  it('reports every problem with a JSON pointer', () => {
    const errors = checkJsonSchema(schema, {
      label: 'nope',
      score: 2,
      name: 'x',
      tags: ['ok', 3],
      'a/b': 1.5,
      extra: 1,
    });
    expect(errors).toEqual([
      { path: '/label', message: 'must be one of "billing", "bug"' },
      { path: '/score', message: 'must be <= 1' },
      { path: '/name', message: 'must be at least 2 characters' },
      { path: '/tags/1', message: 'expected string, got integer' },
      { path: '/a~1b', message: 'expected integer, got number' },
      { path: '/extra', message: 'is not an allowed property' },
    ]);
    expect(checkJsonSchema(schema, {})).toEqual([
      { path: '/label', message: 'is required' },
      { path: '/score', message: 'is required' },
    ]);
    expect(checkJsonSchema(schema, 'text')).toEqual([{ path: '', message: 'expected object, got string' }]);
  });

  it('handles type unions, const, anyOf, additionalProperties schemas and booleans', () => {
    expect(checkJsonSchema({ type: ['string', 'null'] }, null)).toEqual([]);
    expect(checkJsonSchema({ const: 3 }, 4)).toHaveLength(1);
    expect(checkJsonSchema({ anyOf: [{ type: 'string' }, { type: 'number' }] }, true)).toHaveLength(1);
    expect(
      checkJsonSchema({ type: 'object', additionalProperties: { type: 'number' } }, { a: 'x' })[0].path,
    ).toBe('/a');
    expect(checkJsonSchema(true, 1)).toEqual([]);
    expect(checkJsonSchema(false, 1)).toHaveLength(1);
    expect(checkJsonSchema({ type: 'array', minItems: 1, maxItems: 2 }, [])).toHaveLength(1);
  });
});

describe('parseModelJson', () => {
  it('parses plain and fenced JSON and reports garbage', () => {
    expect(parseModelJson(' {"a":1} ')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseModelJson('```json\n{"a":1}\n```')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseModelJson('{"a":').ok).toBe(false);
  });
});
