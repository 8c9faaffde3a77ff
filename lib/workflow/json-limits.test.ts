import { describe, expect, it } from 'vitest';
import { checkJsonLimits } from './json-limits';
import { MAX_DEFINITION_BYTES, MAX_NESTING_DEPTH, MAX_STRING_LENGTH } from './limits';

function nested(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('checkJsonLimits', () => {
  it('measures the compact JSON size of ordinary values exactly', () => {
    const values = [
      { a: 1, b: [true, false, null, 'x"y\\z', '\u0001', 'a\nb\tc'], c: { é: '日本語 🎉' } },
      [],
      {},
      'plain',
      12.5,
      [1, [2, [3]]],
    ];
    for (const v of values) {
      expect(checkJsonLimits(v).bytes).toBe(Buffer.byteLength(JSON.stringify(v)));
    }
  });

  it(`MAX_DEFINITION_BYTES (${MAX_DEFINITION_BYTES}) is the size limit`, () => {
    const fits = { s: 'x'.repeat(MAX_DEFINITION_BYTES - 10) };
    expect(
      checkJsonLimits(fits, { maxBytes: MAX_DEFINITION_BYTES, maxDepth: 64, maxStringLength: Infinity })
        .fatal,
    ).toBe(false);
    const over = { s: 'x'.repeat(MAX_DEFINITION_BYTES) };
    const r = checkJsonLimits(over);
    expect(r.fatal).toBe(true);
    expect(r.problems.map((p) => p.code)).toContain('too_large');
  });

  it(`MAX_NESTING_DEPTH (${MAX_NESTING_DEPTH}) is the depth limit`, () => {
    expect(checkJsonLimits(nested(MAX_NESTING_DEPTH - 1)).fatal).toBe(false);
    const r = checkJsonLimits(nested(MAX_NESTING_DEPTH));
    expect(r.fatal).toBe(true);
    expect(r.problems[0]).toMatchObject({ code: 'too_deep', path: '/0'.repeat(MAX_NESTING_DEPTH) });
  });

  it(`MAX_STRING_LENGTH (${MAX_STRING_LENGTH}) is the string limit, reported with its pointer`, () => {
    expect(checkJsonLimits({ a: ['x'.repeat(MAX_STRING_LENGTH)] }).problems).toEqual([]);
    const r = checkJsonLimits({ a: ['ok', 'x'.repeat(MAX_STRING_LENGTH + 1)] });
    expect(r.fatal).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'string_too_long', path: '/a/1' })]);
  });

  it('survives 100,000-deep arrays, a 50 MB string, a huge sparse array and a cyclic object', () => {
    expect(checkJsonLimits(nested(100_000)).problems[0].code).toBe('too_deep');
    expect(checkJsonLimits('x'.repeat(50 * 1024 * 1024)).problems[0].code).toBe('too_large');
    expect(checkJsonLimits(new Array(1e9)).problems[0].code).toBe('too_large');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(checkJsonLimits(cyclic).fatal).toBe(true);
    // Shared references are charged each time, so a small DAG cannot expand to an exponential tree.
    let shared: unknown[] = ['x'.repeat(1000)];
    for (let i = 0; i < 40; i++) shared = [shared, shared];
    expect(checkJsonLimits(shared).problems[0].code).toMatch(/too_large|too_deep/);
  });

  it('escapes pointer segments', () => {
    const r = checkJsonLimits({ 'a/b': { '~c': 'x'.repeat(MAX_STRING_LENGTH + 1) } });
    expect(r.problems[0].path).toBe('/a~1b/~0c');
  });
});
