import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isRememberedJson,
  jsonText,
  parseRemembered,
  REMEMBERED_JSON_MIN_CHARS,
  toTraceJson,
  TRACE_PREVIEW_CHARS,
} from '@/lib/payload';

// A large value parsed from JSON keeps its text: the trace, the exact copy and the next sandbox
// scope splice it rather than serialize the value again (lib/sandbox, lib/db).

/** JSON text of exactly `chars` characters: an array of one string. */
const textOf = (chars: number) => JSON.stringify(['x'.repeat(chars - 4)]);

afterEach(() => vi.restoreAllMocks());

describe('parseRemembered', () => {
  it(`remembers a text of REMEMBERED_JSON_MIN_CHARS (${REMEMBERED_JSON_MIN_CHARS}) characters, not one shorter`, () => {
    const long = textOf(REMEMBERED_JSON_MIN_CHARS);
    expect(long).toHaveLength(REMEMBERED_JSON_MIN_CHARS);
    expect(isRememberedJson(parseRemembered(long))).toBe(true);
    expect(isRememberedJson(parseRemembered(textOf(REMEMBERED_JSON_MIN_CHARS - 1)))).toBe(false);
  });

  it('hands back the text without serializing the value again', () => {
    const text = JSON.stringify({
      items: Array.from({ length: 2_000 }, (_, i) => ({ i, name: `item ${i}` })),
    });
    const value = parseRemembered(text);
    const stringify = vi.spyOn(JSON, 'stringify');
    expect(jsonText(value)).toBe(text);
    expect(stringify).not.toHaveBeenCalled();
  });

  it('freezes the value all the way down, so it cannot come to differ from its text', () => {
    const text = JSON.stringify({ list: Array.from({ length: 2_000 }, (_, i) => ({ i, tags: ['a'] })) });
    const value = parseRemembered(text) as { list: { i: number; tags: string[] }[] };
    expect(() => {
      value.list[1999].tags.push('b');
    }).toThrow(TypeError);
    expect(() => {
      value.list[0].i = 5;
    }).toThrow(TypeError);
    expect(jsonText(value)).toBe(JSON.stringify(JSON.parse(text)));
  });

  it('gives the trace copy the same text and cap as the plain value', () => {
    const text = JSON.stringify(Array.from({ length: 30_000 }, (_, i) => ({ i, s: `é ${i}` })));
    const plain = JSON.parse(text);
    const remembered = parseRemembered(text);
    expect(toTraceJson(remembered)).toBe(toTraceJson(plain));
    expect(JSON.parse(toTraceJson(remembered)!).preview).toHaveLength(TRACE_PREVIEW_CHARS);
    expect(toTraceJson(remembered, { maxBytes: text.length * 3 })).toBe(text);
  });
});
