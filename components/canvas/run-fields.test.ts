import { describe, expect, it } from 'vitest';
import { childPath, fieldRefs, MAX_FIELD_DEPTH, MAX_FIELDS_PER_VALUE } from './run-fields';

describe('fieldRefs', () => {
  it('lists the value and its fields with the paths an expression needs', () => {
    const refs = fieldRefs('steps.fetch.output', {
      status: 200,
      body: { priority: 'high', items: [{ id: 7 }] },
    });
    expect(refs.map((r) => [r.path, r.label, r.preview])).toEqual([
      ['steps.fetch.output', '(whole value)', 'object'],
      ['steps.fetch.output.status', 'status', '200'],
      ['steps.fetch.output.body', 'body', 'object'],
      ['steps.fetch.output.body.priority', 'body.priority', '"high"'],
      ['steps.fetch.output.body.items', 'body.items', 'array(1)'],
      ['steps.fetch.output.body.items[0]', 'body.items[0]', 'object'],
      ['steps.fetch.output.body.items[0].id', 'body.items[0].id', '7'],
    ]);
  });

  it('brackets keys and node ids that are not identifiers', () => {
    expect(childPath('steps', 'fetch-ticket')).toBe('steps["fetch-ticket"]');
    expect(fieldRefs('input', { 'content-type': 'x', 'a"b': 1 }).map((r) => r.path)).toEqual([
      'input',
      'input["content-type"]',
      'input["a\\"b"]',
    ]);
  });

  it('stops at the depth and row limits', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_FIELD_DEPTH + 3; i++) deep = { a: deep };
    expect(fieldRefs('x', deep).length).toBe(MAX_FIELD_DEPTH + 1);
    const wide = Object.fromEntries(Array.from({ length: MAX_FIELDS_PER_VALUE * 2 }, (_, i) => [`k${i}`, i]));
    expect(fieldRefs('x', wide).length).toBe(MAX_FIELDS_PER_VALUE);
  });
});
