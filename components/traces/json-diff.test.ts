import { describe, expect, it } from 'vitest';
import { jsonDiff, jsonEqual, MAX_DIFF_ENTRIES } from './json-diff';

describe('jsonDiff', () => {
  it('finds nothing between equal values', () => {
    expect(jsonDiff({ a: [1, { b: 'x' }], c: null }, { c: null, a: [1, { b: 'x' }] }).entries).toEqual([]);
    expect(jsonEqual('s', 's')).toBe(true);
  });

  it('reports added, removed and changed keys with JSON pointers', () => {
    const { entries } = jsonDiff(
      { label: 'bug', score: 1, old: true },
      { label: 'billing', score: 1, extra: [1] },
    );
    expect(entries).toEqual([
      { path: '/label', kind: 'changed', before: 'bug', after: 'billing' },
      { path: '/old', kind: 'removed', before: true },
      { path: '/extra', kind: 'added', after: [1] },
    ]);
  });

  it('compares arrays by index and escapes pointer segments', () => {
    expect(jsonDiff([1, 2], [1, 3, 4]).entries).toEqual([
      { path: '/1', kind: 'changed', before: 2, after: 3 },
      { path: '/2', kind: 'added', after: 4 },
    ]);
    expect(jsonDiff({ 'a/b~c': 1 }, { 'a/b~c': 2 }).entries[0].path).toBe('/a~1b~0c');
  });

  it('treats a type change as one change, not a cascade', () => {
    expect(jsonDiff({ v: [1, 2, 3] }, { v: { 0: 1 } }).entries).toEqual([
      { path: '/v', kind: 'changed', before: [1, 2, 3], after: { 0: 1 } },
    ]);
    expect(jsonDiff(null, {}).entries).toHaveLength(1);
    expect(jsonDiff(undefined, 5).entries).toEqual([{ path: '', kind: 'added', after: 5 }]);
  });

  it(`stops at MAX_DIFF_ENTRIES (${MAX_DIFF_ENTRIES}) and says so`, () => {
    const a = Array.from({ length: MAX_DIFF_ENTRIES + 10 }, (_, i) => i);
    const b = a.map((v) => v + 1);
    const r = jsonDiff(a, b);
    expect(r.entries).toHaveLength(MAX_DIFF_ENTRIES);
    expect(r.truncated).toBe(true);
    expect(jsonDiff([1], [2]).truncated).toBe(false);
  });
});
