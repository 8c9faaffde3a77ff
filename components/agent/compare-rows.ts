import type { BacktestReport } from '@/lib/promotion/report';
import { ms, percent, signedMs, usd } from './format';

// The side-by-side table of two backtests (issue 16 §2), kept pure so the deltas and their
// direction are unit-tested without a browser. B is the newer backtest: Δ is B − A, i.e. what the
// change between them (instructions, model, scorer) did.

/** Whether a higher value is the better one; null when neither is (a count). */
type Better = 'higher' | 'lower' | null;

export interface CompareRow {
  label: string;
  a: string;
  b: string;
  delta: string;
  /** How the change reads: improved, regressed, unchanged, or not comparable (a missing side). */
  tone: 'better' | 'worse' | 'same' | 'none';
}

function tone(a: number | null, b: number | null, better: Better): CompareRow['tone'] {
  if (a === null || b === null) return 'none';
  if (a === b || better === null) return 'same';
  return b > a === (better === 'higher') ? 'better' : 'worse';
}

/** Percentage points between two rates, e.g. "+12.5 pp". */
export function signedPoints(a: number | null, b: number | null): string {
  if (a === null || b === null) return '—';
  const d = Math.round((b - a) * 1000) / 10;
  return `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d)} pp`;
}

const signedCount = (a: number, b: number) => `${b > a ? '+' : b < a ? '−' : '±'}${Math.abs(b - a)}`;

function rateRow(label: string, a: number | null, b: number | null, better: Better): CompareRow {
  return { label, a: percent(a), b: percent(b), delta: signedPoints(a, b), tone: tone(a, b, better) };
}

function msRow(label: string, a: number | null, b: number | null): CompareRow {
  return {
    label,
    a: ms(a),
    b: ms(b),
    delta: a === null || b === null ? '—' : signedMs(b - a),
    tone: tone(a, b, 'lower'),
  };
}

function usdRow(label: string, a: number | null, b: number | null): CompareRow {
  return {
    label,
    a: usd(a),
    b: usd(b),
    delta: a === null || b === null ? '—' : usd(b - a, true),
    tone: tone(a, b, 'lower'),
  };
}

/** The metric rows: agreement, scores, latency and cost per case, fallback rate and its reasons. */
export function compareRows(a: BacktestReport, b: BacktestReport): CompareRow[] {
  const reasons = [
    ...new Set([...Object.keys(a.fallback.byReason), ...Object.keys(b.fallback.byReason)]),
  ].sort();
  const rateOf = (r: BacktestReport, reason: string) =>
    r.cases ? (r.fallback.byReason[reason] ?? 0) / r.cases : null;
  return [
    {
      label: 'Cases',
      a: String(a.cases),
      b: String(b.cases),
      delta: signedCount(a.cases, b.cases),
      tone: 'none',
    },
    rateRow('Agreement', a.agreement, b.agreement, 'higher'),
    {
      label: 'Mean score',
      a: a.scores.mean === null ? '—' : a.scores.mean.toFixed(3),
      b: b.scores.mean === null ? '—' : b.scores.mean.toFixed(3),
      delta:
        a.scores.mean === null || b.scores.mean === null
          ? '—'
          : `${b.scores.mean >= a.scores.mean ? '+' : '−'}${Math.abs(b.scores.mean - a.scores.mean).toFixed(3)}`,
      tone: tone(a.scores.mean, b.scores.mean, 'higher'),
    },
    msRow('Latency p50', a.latencyMs.agent.p50, b.latencyMs.agent.p50),
    msRow('Latency p95', a.latencyMs.agent.p95, b.latencyMs.agent.p95),
    usdRow('Cost p50', a.costUsd.perCase.p50, b.costUsd.perCase.p50),
    usdRow('Cost p95', a.costUsd.perCase.p95, b.costUsd.perCase.p95),
    usdRow('Cost mean', a.costUsd.mean, b.costUsd.mean),
    rateRow('Fallback rate', a.fallback.rate, b.fallback.rate, 'lower'),
    ...reasons.map((r) => rateRow(`Fallback: ${r}`, rateOf(a, r), rateOf(b, r), 'lower')),
  ];
}

/** Failure types of either side with both counts, most frequent first (fewer is better). */
export function failureRows(a: BacktestReport, b: BacktestReport): CompareRow[] {
  const count = (r: BacktestReport, key: string) => r.failureTypes.find((f) => f.key === key)?.count ?? 0;
  const keys = [...new Set([...a.failureTypes, ...b.failureTypes].map((f) => f.key))];
  return keys
    .map((key) => ({ key, ca: count(a, key), cb: count(b, key) }))
    .sort((x, y) => y.ca + y.cb - (x.ca + x.cb) || x.key.localeCompare(y.key))
    .map(({ key, ca, cb }) => ({
      label: key,
      a: String(ca),
      b: String(cb),
      delta: signedCount(ca, cb),
      tone: tone(ca, cb, 'lower'),
    }));
}

/** Each side's score histogram as shares of its cases (bars of equal scale on both sides). */
export function scoreShares(r: BacktestReport): { from: number; to: number; share: number }[] {
  return r.scores.histogram.map((h) => ({ from: h.from, to: h.to, share: r.cases ? h.count / r.cases : 0 }));
}
