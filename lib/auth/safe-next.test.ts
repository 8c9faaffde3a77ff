import { describe, expect, it } from 'vitest';
import { DEFAULT_AFTER_SIGN_IN, safeNext } from './safe-next';

// Issue 14.6: `next` after sign-in never leaves the origin. Inputs as the login page receives
// them (already URL-decoded from ?next=…), resolved the way a browser resolves location.assign.

describe('safeNext', () => {
  it.each([
    ['/%09/evil.example', '/\t/evil.example'],
    ['/%0a/evil.example', '/\n/evil.example'],
    ['/%0d%0a/evil.example', '/\r\n/evil.example'],
    ['//evil.example', '//evil.example'],
    ['/\\evil.example', '/\\evil.example'],
    ['\\\\evil.example', '\\\\evil.example'],
    ['https:evil.example', 'https:evil.example'],
    ['https://evil.example/x', 'https://evil.example/x'],
    ['javascript:alert(1)', 'javascript:alert(1)'],
    ['\t//evil.example', '\t//evil.example'],
    [' //evil.example', ' //evil.example'],
    ['/\t\\evil.example', '/\t\\evil.example'],
  ])('%s stays home', (_label, next) => {
    const got = safeNext(next);
    expect(got).toBe(DEFAULT_AFTER_SIGN_IN);
    expect(new URL(got, 'http://127.0.0.1:3000').origin).toBe('http://127.0.0.1:3000');
  });

  it('same-origin paths pass with their query', () => {
    expect(safeNext('/runs/abc?x=1#s')).toBe('/runs/abc?x=1#s');
    expect(safeNext('/workflows/w1')).toBe('/workflows/w1');
    expect(safeNext(undefined)).toBe(DEFAULT_AFTER_SIGN_IN);
  });

  it('every answer resolves to the same origin for 2,000 generated inputs', () => {
    const parts = ['/', '\\', '\t', '\n', '\r', ' ', 'evil.example', ':', 'https', '%2f', '@', '.', '?', '#'];
    let seed = 14_6;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const n = 1 + Math.floor(rnd() * 6);
      const s = Array.from({ length: n }, () => parts[Math.floor(rnd() * parts.length)]).join('');
      const got = safeNext(s);
      // What a browser does with location.assign(got): drop tab/CR/LF, then resolve.
      const resolved = new URL(got.replace(/[\t\n\r]/g, ''), 'http://127.0.0.1:3000');
      expect(resolved.origin, JSON.stringify(s)).toBe('http://127.0.0.1:3000');
    }
  });
});
