import { CostLedger } from '@/lib/agent/ledger';
import { toSerializedError } from '@/lib/workflow/errors';
import { diffPaths } from './diff';
import type { RecordedCall } from './replay';
import { score, type ScorerDeps } from './scorers';
import type { BacktestCaseResult, ScorerSpec } from './spec';

// The backtest loop, pure of storage: cases in, scored results out through onCase, with bounded
// concurrency, a spending budget and cancellation. The candidate is whatever answers a case —
// the agent (agent-candidate.ts) or a proposed deterministic step (graduation) — so one runner
// serves both.

/** One recorded step to replay. */
export interface BacktestCase {
  seq: number;
  runId: string;
  stepId: string;
  runVersion: number | null;
  input: unknown;
  /** The deterministic output (or branch) recorded in the same run. */
  expected: unknown;
  deterministicMs: number | null;
  deterministicCost: number | null;
  recorded: RecordedCall[];
}

interface Spend {
  tokens: number;
  cost: number;
  /** Time spent waiting for the model. */
  modelMs: number;
  /** Model calls. */
  turns: number;
  refusedCalls: number;
}

export type CandidateResult =
  | ({ outcome: 'ok'; output: unknown } & Spend)
  | ({ outcome: 'fallback'; reason: string; message: string } & Spend);

export type Candidate = (c: BacktestCase, signal: AbortSignal) => Promise<CandidateResult>;

export const BUDGET_REFUSAL = 'backtest budget';

/**
 * The backtest's ledger: the agent loop reserves every model call here, so concurrent cases
 * cannot overspend; a refusal says so in words the runner recognises (a step's own maxTokens
 * `budget` fallback is a result, the backtest's budget is a stop).
 */
export class BacktestBudget extends CostLedger {
  exhausted = false;
  refusal(amountUsd: number): string {
    this.exhausted = true;
    return `${BUDGET_REFUSAL} of ${this.capUsd} USD reached (spent ${this.spentUsd.toFixed(6)}, this call needs up to ${amountUsd.toFixed(6)})`;
  }
}

export interface RunBacktestArgs {
  cases: BacktestCase[];
  candidate: Candidate;
  scorer: ScorerSpec;
  passScore: number;
  deps: ScorerDeps;
  concurrency: number;
  budget: BacktestBudget;
  signal: AbortSignal;
  /** Each finished case, in completion order (store it; a throw stops the backtest). */
  onCase(result: BacktestCaseResult): void | Promise<void>;
}

export type BacktestEnd = 'succeeded' | 'cancelled' | 'budget_exceeded';

/** The failure type of a case: by fallback reason, by error code, or by the paths that differ. */
export function failureTypeOf(
  r: Pick<BacktestCaseResult, 'outcome' | 'agreed' | 'fallbackReason' | 'diffPaths' | 'error'>,
): string | null {
  if (r.agreed) return null;
  if (r.outcome === 'fallback') return `fallback:${r.fallbackReason}`;
  if (r.outcome === 'error') return `error:${r.error?.code ?? 'internal_error'}`;
  return `diff:${r.diffPaths.join(',') || '(score)'}`;
}

async function runCase(c: BacktestCase, a: RunBacktestArgs): Promise<BacktestCaseResult | 'budget'> {
  const t0 = performance.now();
  const base = {
    seq: c.seq,
    runId: c.runId,
    stepId: c.stepId,
    runVersion: c.runVersion,
    input: c.input,
    expected: c.expected,
    deterministicMs: c.deterministicMs,
    deterministicCost: c.deterministicCost,
  };
  let res: CandidateResult;
  try {
    res = await a.candidate(c, a.signal);
  } catch (err) {
    if (a.signal.aborted) throw err;
    const e = toSerializedError(err);
    const r = {
      ...base,
      actual: null,
      outcome: 'error' as const,
      score: 0,
      agreed: false,
      fallbackReason: null,
      diffPaths: [],
      tokens: 0,
      cost: 0,
      modelMs: 0,
      turns: 0,
      refusedCalls: 0,
      error: { code: String(e.code), message: e.message },
      latencyMs: Math.round(performance.now() - t0),
    };
    return { ...r, failureType: failureTypeOf(r) };
  }
  if (res.outcome === 'fallback' && res.reason === 'budget' && res.message.startsWith(BUDGET_REFUSAL))
    return 'budget';
  let s = 0;
  let tokens = res.tokens;
  let cost = res.cost;
  let error: BacktestCaseResult['error'] = null;
  if (res.outcome === 'ok') {
    try {
      const sc = await score(a.scorer, c.expected, res.output, c.input, a.deps, a.signal);
      s = sc.score;
      tokens += sc.tokens ?? 0;
      cost += sc.cost ?? 0;
      if (sc.cost) a.budget.spentUsd += sc.cost;
    } catch (err) {
      if (a.signal.aborted) throw err;
      const e = toSerializedError(err);
      error = { code: String(e.code), message: e.message };
    }
  }
  const agreed = res.outcome === 'ok' && !error && s >= a.passScore;
  const r = {
    ...base,
    actual: res.outcome === 'ok' ? res.output : null,
    outcome: error ? ('error' as const) : res.outcome,
    score: s,
    agreed,
    fallbackReason: res.outcome === 'fallback' ? res.reason : null,
    diffPaths: res.outcome === 'ok' && !agreed ? diffPaths(c.expected, res.output) : [],
    tokens,
    cost,
    modelMs: res.modelMs,
    turns: res.turns,
    refusedCalls: res.refusedCalls,
    error,
    latencyMs: Math.round(performance.now() - t0),
  };
  return { ...r, failureType: failureTypeOf(r) };
}

/** Replay every case (at most `concurrency` at once) until done, cancelled or over budget. */
export async function runBacktest(a: RunBacktestArgs): Promise<BacktestEnd> {
  let next = 0;
  let stop: BacktestEnd | null = null;
  const worker = async () => {
    while (!stop && next < a.cases.length) {
      if (a.signal.aborted) {
        stop = 'cancelled';
        return;
      }
      if (a.budget.exhausted || a.budget.spentUsd >= a.budget.capUsd) {
        stop = 'budget_exceeded';
        return;
      }
      const c = a.cases[next++];
      let r: BacktestCaseResult | 'budget';
      try {
        r = await runCase(c, a);
      } catch (err) {
        if (a.signal.aborted) {
          stop = 'cancelled';
          return;
        }
        throw err;
      }
      if (r === 'budget') {
        stop = 'budget_exceeded';
        return;
      }
      // A case that finished as the backtest was cancelled is still a result: keep it.
      await a.onCase(r);
    }
  };
  const n = Math.max(1, Math.min(a.concurrency, a.cases.length));
  await Promise.all(Array.from({ length: n }, worker));
  return stop ?? (a.signal.aborted ? 'cancelled' : 'succeeded');
}
