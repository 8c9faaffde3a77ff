import { describe, expect, it } from 'vitest';
import { applyInputDefaults } from './input-defaults';

describe('applyInputDefaults', () => {
  const schema = {
    type: 'object',
    properties: {
      ticketId: { type: 'string', default: 'T-1' },
      tags: { type: 'array', default: ['a'] },
      n: { type: 'number' },
    },
  };

  it('fills missing top-level properties from their defaults', () => {
    expect(applyInputDefaults(schema, {})).toEqual({ ticketId: 'T-1', tags: ['a'] });
    expect(applyInputDefaults(schema, undefined)).toEqual({ ticketId: 'T-1', tags: ['a'] });
  });

  it('never overrides a given value and copies defaults', () => {
    const out = applyInputDefaults(schema, { ticketId: 'X', n: 2 }) as { ticketId: string; tags: string[] };
    expect(out).toEqual({ ticketId: 'X', n: 2, tags: ['a'] });
    out.tags.push('b');
    expect(schema.properties.tags.default).toEqual(['a']);
  });

  it('leaves non-object input and schemas without properties alone', () => {
    expect(applyInputDefaults(schema, 5)).toBe(5);
    expect(applyInputDefaults(schema, [1])).toEqual([1]);
    expect(applyInputDefaults(undefined, { a: 1 })).toEqual({ a: 1 });
  });
});
