import { describe, expect, it } from 'vitest';
import { orderedId } from './ordered-id';

describe('orderedId', () => {
  it('is a version-7 UUID', () => {
    expect(orderedId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sorts as text in creation order, also within one millisecond and past the counter', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 5_000 }, () => orderedId(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The random bits are drawn many ids at a time; no two ids share them.
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
  });

  it('does not go back when the clock does', () => {
    const a = orderedId(Date.now() + 120_000);
    const b = orderedId(Date.now());
    expect(b > a).toBe(true);
  });
});
