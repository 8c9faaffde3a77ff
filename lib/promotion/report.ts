import { valueAt } from './diff';
import type { BacktestCaseResult } from './spec';
import { percentileOf } from '@/lib/workflow/stats';

// The backtest report and failure explorer (issue 16 §2), pure over stored case results:
// agreement, score distribution, latency and cost against the deterministic step, fallbacks by
// reason, and disagreements grouped into failure types with links to their cases.

/** Case links listed per failure type (the count is always the full one). */
export const MAX_CASES_PER_FAILURE_TYPE = 20;
/** Value transitions (expected → actual at the differing path) listed per failure type. */
export const MAX_TRANSITIONS_PER_FAILURE_TYPE = 10;
export const SCORE_BUCKETS = 10;

export type ReportCase = Pick<
  BacktestCaseResult,
  | 'seq'
  | 'runId'
  | 'stepId'
  | 'expected'
  | 'actual'
  | 'outcome'
  | 'score'
  | 'agreed'
  | 'fallbackReason'
  | 'diffPaths'
  | 'failureType'
  | 'tokens'
  | 'cost'
  | 'latencyMs'
  | 'modelMs'
  | 'deterministicMs'
  | 'deterministicCost'
  | 'refusedCalls'
>;

export interface FailureType {
  key: string;
  kind: 'diff' | 'fallback' | 'error';
  /** diff: the differing JSON pointers; fallback: the reason; error: the code. */
  paths?: string[];
  reason?: string;
  count: number;
  /** For one differing path: which expected value became which actual value, most frequent first. */
  transitions?: { path: string; expected: unknown; actual: unknown; count: number }[];
  /** The first cases of this type: open one, or its source run. */
  cases: { seq: number; runId: string; stepId: string }[];
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
}

export interface BacktestReport {
  cases: number;
  agreed: number;
  /** agreed / cases (fallbacks and errors count as disagreements). */
  agreement: number | null;
  scores: { mean: number | null; histogram: { from: number; to: number; count: number }[] };
  latencyMs: { agent: Percentiles; deterministic: Percentiles; model: Percentiles };
  costUsd: {
    total: number;
    perCase: Percentiles;
    mean: number | null;
    /** The deterministic step's recorded cost per case, where known. */
    deterministic: Percentiles & { mean: number | null };
  };
  tokens: number;
  fallback: { rate: number | null; byReason: Record<string, number> };
  refusedToolCalls: number;
  failureTypes: FailureType[];
}

function pcts(xs: number[]): Percentiles {
  return { p50: percentileOf(xs, 50), p95: percentileOf(xs, 95) };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const round = (x: number | null, d = 4) => (x === null ? null : Number(x.toFixed(d)));

export function buildReport(cases: ReportCase[]): BacktestReport {
  const n = cases.length;
  const agreed = cases.filter((c) => c.agreed).length;
  const histogram = Array.from({ length: SCORE_BUCKETS }, (_, i) => ({
    from: i / SCORE_BUCKETS,
    to: (i + 1) / SCORE_BUCKETS,
    count: 0,
  }));
  let scoreSum = 0;
  const byReason: Record<string, number> = {};
  let fellBack = 0;
  let refused = 0;
  let tokens = 0;
  let cost = 0;
  const groups = new Map<
    string,
    FailureType & { tr: Map<string, { path: string; expected: unknown; actual: unknown; count: number }> }
  >();
  for (const c of cases) {
    scoreSum += c.score;
    histogram[Math.min(SCORE_BUCKETS - 1, Math.floor(c.score * SCORE_BUCKETS))].count++;
    tokens += c.tokens;
    cost += c.cost;
    refused += c.refusedCalls;
    if (c.outcome === 'fallback' && c.fallbackReason) {
      fellBack++;
      byReason[c.fallbackReason] = (byReason[c.fallbackReason] ?? 0) + 1;
    }
    if (!c.failureType) continue;
    let g = groups.get(c.failureType);
    if (!g) {
      const kind = c.outcome === 'ok' ? 'diff' : c.outcome;
      g = {
        key: c.failureType,
        kind,
        ...(kind === 'diff' ? { paths: c.diffPaths } : {}),
        ...(kind !== 'diff' ? { reason: c.failureType.slice(c.failureType.indexOf(':') + 1) } : {}),
        count: 0,
        cases: [],
        tr: new Map(),
      };
      groups.set(c.failureType, g);
    }
    g.count++;
    if (g.cases.length < MAX_CASES_PER_FAILURE_TYPE)
      g.cases.push({ seq: c.seq, runId: c.runId, stepId: c.stepId });
    if (g.kind === 'diff' && c.diffPaths.length === 1) {
      const path = c.diffPaths[0];
      const expected = valueAt(c.expected, path);
      const actual = valueAt(c.actual, path);
      const k = JSON.stringify([expected ?? null, actual ?? null]);
      const t = g.tr.get(k) ?? { path, expected: expected ?? null, actual: actual ?? null, count: 0 };
      t.count++;
      g.tr.set(k, t);
    }
  }
  const failureTypes: FailureType[] = [...groups.values()]
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .map(({ tr, ...g }) => {
      const transitions = [...tr.values()]
        .sort((a, b) => b.count - a.count)
        .slice(0, MAX_TRANSITIONS_PER_FAILURE_TYPE);
      return transitions.length ? { ...g, transitions } : g;
    });
  const detCosts = cases.flatMap((c) => (c.deterministicCost === null ? [] : [c.deterministicCost]));
  return {
    cases: n,
    agreed,
    agreement: n ? round(agreed / n) : null,
    scores: { mean: n ? round(scoreSum / n) : null, histogram },
    latencyMs: {
      agent: pcts(cases.map((c) => c.latencyMs)),
      deterministic: pcts(cases.flatMap((c) => (c.deterministicMs === null ? [] : [c.deterministicMs]))),
      model: pcts(cases.map((c) => c.modelMs)),
    },
    costUsd: {
      total: round(cost, 6)!,
      perCase: pcts(cases.map((c) => c.cost)),
      mean: n ? round(cost / n, 6) : null,
      deterministic: {
        ...pcts(detCosts),
        mean: detCosts.length ? round(sum(detCosts) / detCosts.length, 6) : null,
      },
    },
    tokens,
    fallback: { rate: n ? round(fellBack / n) : null, byReason },
    refusedToolCalls: refused,
    failureTypes,
  };
}

export interface BacktestComparison {
  /** Cases present in both (matched by recorded step). */
  matched: number;
  agreement: { a: number | null; b: number | null; delta: number | null };
  latencyP95Ms: { a: number | null; b: number | null };
  costPerCaseUsd: { a: number | null; b: number | null };
  fallbackRate: { a: number | null; b: number | null };
  /** Matched cases that disagreed in a and agree in b (fixed), and the reverse (regressed). */
  fixedCount: number;
  regressedCount: number;
  /** The first of them, to open side by side. */
  fixed: { stepId: string; runId: string; a: number; b: number }[];
  regressed: { stepId: string; runId: string; a: number; b: number }[];
  failureTypes: { key: string; a: number; b: number }[];
}

/** Two backtests side by side (e.g. two instruction versions or two models over the same history). */
export function compareBacktests(
  a: { report: BacktestReport; cases: ReportCase[] },
  b: { report: BacktestReport; cases: ReportCase[] },
  maxListed = MAX_CASES_PER_FAILURE_TYPE,
): BacktestComparison {
  const bByStep = new Map(b.cases.map((c) => [c.stepId, c]));
  let matched = 0;
  let fixedCount = 0;
  let regressedCount = 0;
  const fixed: BacktestComparison['fixed'] = [];
  const regressed: BacktestComparison['regressed'] = [];
  for (const ca of a.cases) {
    const cb = bByStep.get(ca.stepId);
    if (!cb) continue;
    matched++;
    const row = { stepId: ca.stepId, runId: ca.runId, a: ca.seq, b: cb.seq };
    if (!ca.agreed && cb.agreed && fixedCount++ < maxListed) fixed.push(row);
    if (ca.agreed && !cb.agreed && regressedCount++ < maxListed) regressed.push(row);
  }
  const keys = new Set([...a.report.failureTypes, ...b.report.failureTypes].map((f) => f.key));
  const countIn = (r: BacktestReport, k: string) => r.failureTypes.find((f) => f.key === k)?.count ?? 0;
  const ag = (r: BacktestReport) => r.agreement;
  return {
    matched,
    agreement: {
      a: ag(a.report),
      b: ag(b.report),
      delta: ag(a.report) === null || ag(b.report) === null ? null : round(ag(b.report)! - ag(a.report)!),
    },
    latencyP95Ms: { a: a.report.latencyMs.agent.p95, b: b.report.latencyMs.agent.p95 },
    costPerCaseUsd: { a: a.report.costUsd.mean, b: b.report.costUsd.mean },
    fallbackRate: { a: a.report.fallback.rate, b: b.report.fallback.rate },
    fixedCount,
    regressedCount,
    fixed,
    regressed,
    failureTypes: [...keys]
      .map((key) => ({ key, a: countIn(a.report, key), b: countIn(b.report, key) }))
      .sort((x, y) => y.a + y.b - (x.a + x.b)),
  };
}
