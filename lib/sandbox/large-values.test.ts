import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRememberedJson, jsonText, REMEMBERED_JSON_MIN_CHARS } from '@/lib/payload';
import type { ExpressionScope } from '@/lib/workflow/expression-scope';
import { evaluateExpression, runCode, shutdownSandbox, warmSandbox } from './index';

// Large values between `code` steps: a result keeps the JSON text it crossed back as (lib/payload
// json-text.ts), the next scope splices that text in, and the worker writes the scope into QuickJS
// with Buffer's encoder. What the sandbox sees and answers must stay exactly what it was.

beforeAll(() => warmSandbox());
afterAll(() => shutdownSandbox());

const scopeWith = (steps: Record<string, { output: unknown }>, input: unknown = {}): ExpressionScope => ({
  input,
  steps,
  item: undefined,
  index: undefined,
  env: {},
  secrets: {},
});

const padding = `'${'p'.repeat(REMEMBERED_JSON_MIN_CHARS)}'`;

describe('a large code result', () => {
  it("keeps QuickJS's JSON text, which is what JSON.stringify gives for the value it parses to", async () => {
    // Numbers at the edges of formatting, escapes, lone surrogates, key order of index-like keys.
    const out = await runCode(
      String.raw`return { pad: ${padding}, n: [1e21, 1e-7, -0, 0.1 + 0.2, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2, 1 / 3, -1e-7, 123456789012345680000],
        s: ['\u2028\u2029', '\ud800', '\udc00x', 'é€😀', '\u007f\u0080', '\x00\x1f\b\f\n\r\t"\\/'],
        k: { b: 1, 2: 2, 1: 3, 4294967295: 4, 4294967294: 5, '-1': 6, '01': 7 }, u: [undefined, () => 1, NaN, Infinity] };`,
      scopeWith({}),
    );
    expect(isRememberedJson(out)).toBe(true);
    const text = jsonText(out)!;
    expect(JSON.stringify(JSON.parse(text))).toBe(text);
  });

  it('crosses into the next step as the same scope JSON as a plain copy of it', async () => {
    const made = await runCode(
      `return Array.from({ length: 2000 }, (_, i) => ({ i, name: 'item ' + i, s: 'é€😀\\ud800' + i }));`,
      scopeWith({}),
    );
    expect(isRememberedJson(made)).toBe(true);
    const copy = JSON.parse(JSON.stringify(made));
    const input = { when: new Date(0), gone: undefined, list: [1, undefined] };
    const read = 'return JSON.stringify({ input, steps });';
    const seen = await runCode(read, scopeWith({ make: { output: made }, other: { output: 1 } }, input));
    const plain = await runCode(read, scopeWith({ make: { output: copy }, other: { output: 1 } }, input));
    expect(seen).toBe(plain);
    expect(JSON.parse(seen as string).steps.make.output).toEqual(copy);
  });

  it('answers a plain reference to it with the value itself, not a copy', async () => {
    const made = await runCode(`return { list: Array.from({ length: 5000 }, (_, i) => i) };`, scopeWith({}));
    expect(isRememberedJson(made)).toBe(true);
    expect(await evaluateExpression('steps.make.output', scopeWith({ make: { output: made } }))).toBe(made);
  });
});

describe('the scope written into QuickJS', () => {
  it('arrives exactly, multi-byte characters and escaped lone surrogates included', async () => {
    const output = Array.from({ length: 3000 }, (_, i) => ({
      i,
      s: `é€😀 ${i}`,
      lone: '\ud800',
      nul: '\u0000',
    }));
    expect(await runCode('return steps.a.output;', scopeWith({ a: { output } }))).toEqual(output);
    expect(
      await runCode(
        "return steps.a.output[2999].s + '|' + steps.a.output.length;",
        scopeWith({ a: { output } }),
      ),
    ).toBe('é€😀 2999|3000');
  });
});
