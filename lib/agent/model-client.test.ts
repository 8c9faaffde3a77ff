import { describe, expect, it } from 'vitest';
import { createOpenAI, MAX_CACHED_CLIENTS } from './model-client';

describe('createOpenAI', () => {
  it(`reuses one client per endpoint and key, keeping at most MAX_CACHED_CLIENTS (${MAX_CACHED_CLIENTS})`, () => {
    const cfg = (i: number) => ({
      baseURL: `http://127.0.0.1:${40000 + i}/v1`,
      apiKey: 'k',
      defaultModel: 'm',
    });
    const first = createOpenAI(cfg(0));
    expect(createOpenAI(cfg(0))).toBe(first);
    expect(createOpenAI({ ...cfg(0), apiKey: 'other' })).not.toBe(first);
    for (let i = 1; i <= MAX_CACHED_CLIENTS; i++) createOpenAI(cfg(i));
    // The oldest entries were dropped to stay within the bound.
    expect(createOpenAI(cfg(0))).not.toBe(first);
  });
});
