import { describe, expect, it } from 'vitest';
import { buildReport, type ReportCase } from '@/lib/promotion/report';
import { compareRows, failureRows, scoreShares, signedPoints } from './compare-rows';

// Two backtests side by side: deltas are B − A and their tone says whether the change helped.

const kase = (seq: number, over: Partial<ReportCase>): ReportCase => ({
  seq,
  runId: `r${seq}`,
  stepId: `s${seq}`,
  expected: { label: 'billing' },
  actual: { label: 'billing' },
  outcome: 'ok',
  score: 1,
  agreed: true,
  fallbackReason: null,
  diffPaths: [],
  failureType: null,
  tokens: 10,
  cost: 0.001,
  latencyMs: 100,
  modelMs: 80,
  deterministicMs: 1,
  deterministicCost: 0,
  refusedCalls: 0,
  ...over,
});
const miss = (seq: number) =>
  kase(seq, {
    actual: { label: 'bug' },
    score: 0,
    agreed: false,
    diffPaths: ['/label'],
    failureType: 'diff:/label',
  });
const fellBack = (seq: number) =>
  kase(seq, {
    outcome: 'fallback',
    fallbackReason: 'timeout',
    score: 0,
    agreed: false,
    failureType: 'fallback:timeout',
    latencyMs: 900,
  });

describe('backtest comparison rows', () => {
  const a = buildReport([kase(0, {}), miss(1), miss(2), fellBack(3)]);
  const b = buildReport([kase(0, { cost: 0.002 }), kase(1, {}), miss(2), kase(3, { latencyMs: 50 })]);

  it('agreement, latency, cost and fallbacks with signed deltas and their direction', () => {
    const rows = Object.fromEntries(compareRows(a, b).map((r) => [r.label, r]));
    expect(rows['Agreement']).toMatchObject({ a: '25%', b: '75%', delta: '+50 pp', tone: 'better' });
    expect(rows['Mean score']).toMatchObject({ a: '0.250', b: '0.750', delta: '+0.500', tone: 'better' });
    // p95 latency: A's timeout took 900 ms; B answered everything in ≤ 100 ms.
    expect(rows['Latency p95']).toMatchObject({ a: '900 ms', b: '100 ms', delta: '−800 ms', tone: 'better' });
    expect(rows['Latency p50']).toMatchObject({ delta: '±0 ms', tone: 'same' });
    // B costs more per case: worse.
    expect(rows['Cost p95']).toMatchObject({ tone: 'worse' });
    expect(rows['Cost mean'].delta).toBe('+$0.00025');
    expect(rows['Fallback rate']).toMatchObject({ a: '25%', b: '0%', delta: '−25 pp', tone: 'better' });
    // A reason on one side only still gets a row, at 0% on the other.
    expect(rows['Fallback: timeout']).toMatchObject({ a: '25%', b: '0%', tone: 'better' });
    expect(rows['Cases']).toMatchObject({ a: '4', b: '4', delta: '±0', tone: 'none' });
  });

  it('failure types of either side, both counts, most frequent first', () => {
    expect(failureRows(a, b)).toEqual([
      { label: 'diff:/label', a: '2', b: '1', delta: '−1', tone: 'better' },
      { label: 'fallback:timeout', a: '1', b: '0', delta: '−1', tone: 'better' },
    ]);
    expect(failureRows(b, a)[0]).toMatchObject({ delta: '+1', tone: 'worse' });
  });

  it('an empty side compares as "—", never as a number', () => {
    const empty = buildReport([]);
    const rows = Object.fromEntries(compareRows(empty, b).map((r) => [r.label, r]));
    expect(rows['Agreement']).toMatchObject({ a: '—', delta: '—', tone: 'none' });
    expect(rows['Latency p95']).toMatchObject({ a: '—', delta: '—', tone: 'none' });
    expect(signedPoints(null, 0.5)).toBe('—');
    expect(scoreShares(empty).every((h) => h.share === 0)).toBe(true);
  });

  it('score distributions as shares of each side, summing to 1', () => {
    const shares = scoreShares(a);
    expect(shares).toHaveLength(10);
    expect(shares[0].share).toBe(0.75);
    expect(shares[9].share).toBe(0.25);
    expect(shares.reduce((s, h) => s + h.share, 0)).toBe(1);
  });
});
