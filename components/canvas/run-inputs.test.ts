import { beforeEach, describe, expect, it } from 'vitest';
import {
  inferSchema,
  recentInputs,
  rememberInput,
  RECENT_INPUT_MAX_CHARS,
  RECENT_INPUTS_MAX,
} from './run-inputs';

describe('inferSchema', () => {
  it('describes objects, arrays and scalars', () => {
    expect(inferSchema({ name: 'ada', age: 36, score: 1.5, ok: true, tags: ['x'], none: null })).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer' },
        score: { type: 'number' },
        ok: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } },
        none: {},
      },
    });
  });
});

describe('recent run inputs', () => {
  beforeEach(() => {
    const store = new Map<string, string>();
    (globalThis as { localStorage?: unknown }).localStorage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
  });

  it('keeps the newest first, without duplicates, at most RECENT_INPUTS_MAX', () => {
    for (let i = 0; i < RECENT_INPUTS_MAX + 2; i++) rememberInput('w', { i });
    rememberInput('w', { i: 3 });
    const r = recentInputs('w');
    expect(r).toHaveLength(RECENT_INPUTS_MAX);
    expect(r[0]).toEqual({ i: 3 });
    expect(r.filter((v) => JSON.stringify(v) === '{"i":3}')).toHaveLength(1);
    expect(recentInputs('other')).toEqual([]);
  });

  it('does not remember an input over RECENT_INPUT_MAX_CHARS', () => {
    rememberInput('w', { big: 'x'.repeat(RECENT_INPUT_MAX_CHARS) });
    expect(recentInputs('w')).toEqual([]);
  });
});
