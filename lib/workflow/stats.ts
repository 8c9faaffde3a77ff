// Small statistics shared by rollout gates, backtest reports, the load tests and the benches, so
// that a "p95" means the same thing everywhere.

const ascending = (a: number, b: number) => a - b;

/**
 * Nearest-rank percentile of an ascending list, p from 0 to 100: the smallest value at or above p%
 * of the cases (no interpolation between two runs). null for an empty list.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** percentile() of a list in any order (the list is not changed). */
export function percentileOf(xs: readonly number[], p: number): number | null {
  return percentile([...xs].sort(ascending), p);
}
