import { describe, expect, it } from 'vitest';
import { percentile, percentileOf } from './stats';

describe('percentile', () => {
  it('is nearest-rank over an ascending list', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('p95 of 20 with 2 slow is slow (the top 10% reaches past the 95th)', () => {
    const xs = [...Array.from({ length: 18 }, () => 10), 900, 1000];
    expect(percentile(xs, 95)).toBe(900);
  });

  it('percentileOf sorts a copy first', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentileOf(xs, 50)).toBe(3);
    expect(percentileOf(xs, 100)).toBe(5);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
    expect(percentileOf([], 99)).toBeNull();
  });
});
