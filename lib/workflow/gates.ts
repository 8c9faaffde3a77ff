import type { RolloutGates, WorkflowNode } from './definition';
import { nextStage, rollbackTarget, stageLabel, stageOf, type Stage, type StageState } from './rollout';
import { percentile } from './stats';

// The rollout gates of one step over a sliding window (issue 16 §3–4). Pure: the server feeds it
// the newest finished steps of the step's current stage and agent revision (lib/server/rollout),
// and acts on `rolloutDecision` (advance, roll back, or nothing). The UI shows the same verdict.

/** One finished step of an agent-capable node, as the gates read it. */
export interface GateSample {
  /** The mode the step row recorded: agent / fallback (the agent's arm), shadow (deterministic arm). */
  mode: 'workflow' | 'agent' | 'fallback' | 'shadow';
  /** Shadow cases where both answered: whether the answers agree; null when nothing was compared. */
  agreed: boolean | null;
  /** The agent gave up (the step fell back, or shadow's agent failed); null reason: it answered. */
  fallbackReason: string | null;
  /** The agent's own time, null when it never reached a model (no_model_configured). */
  agentMs: number | null;
  agentCostUsd: number | null;
}

export type GateName = 'minSample' | 'agreement' | 'fallbackRate' | 'p95LatencyMs' | 'costPerRunUsd';

export interface GateResult {
  gate: GateName;
  /** `min` gates pass at or above the threshold, `max` gates at or below. */
  kind: 'min' | 'max';
  threshold: number;
  value: number | null;
  /** Cases the value was computed over. */
  over: number;
  status: 'pass' | 'fail' | 'no_data';
}

export interface GateVerdict {
  /** Finished steps in the window. */
  sample: number;
  window: number;
  /** insufficient: fewer than minSample steps; no gate decides yet. */
  status: 'insufficient' | 'pass' | 'fail' | 'no_data';
  gates: GateResult[];
}

export const DEFAULT_GATES: RolloutGates = { minSample: 20, window: 50 };

function gate(
  name: GateName,
  kind: 'min' | 'max',
  threshold: number | undefined,
  value: number | null,
  over: number,
): GateResult | null {
  if (threshold === undefined) return null;
  const status =
    value === null ? 'no_data' : (kind === 'min' ? value >= threshold : value <= threshold) ? 'pass' : 'fail';
  return { gate: name, kind, threshold, value, over, status };
}

/** The gates over the newest `gates.window` samples (newest first). */
export function evaluateGates(
  samples: readonly GateSample[],
  gates: RolloutGates = DEFAULT_GATES,
): GateVerdict {
  const windowed = samples.slice(0, gates.window);
  const compared = windowed.filter((s) => s.agreed !== null);
  const tried = windowed.filter((s) => s.mode !== 'workflow');
  const ms = windowed.flatMap((s) => (s.agentMs === null ? [] : [s.agentMs])).sort((a, b) => a - b);
  const cost = windowed.flatMap((s) => (s.agentCostUsd === null ? [] : [s.agentCostUsd]));
  const ratio = (n: number, d: number) => (d ? n / d : null);
  const results = [
    gate('minSample', 'min', gates.minSample, windowed.length, windowed.length),
    gate(
      'agreement',
      'min',
      gates.minAgreement,
      ratio(compared.filter((s) => s.agreed).length, compared.length),
      compared.length,
    ),
    gate(
      'fallbackRate',
      'max',
      gates.maxFallbackRate,
      ratio(tried.filter((s) => s.fallbackReason).length, tried.length),
      tried.length,
    ),
    gate('p95LatencyMs', 'max', gates.maxP95LatencyMs, percentile(ms, 95), ms.length),
    gate(
      'costPerRunUsd',
      'max',
      gates.maxCostPerRunUsd,
      ratio(
        cost.reduce((a, b) => a + b, 0),
        cost.length,
      ),
      cost.length,
    ),
  ].filter((g): g is GateResult => g !== null);
  const status =
    windowed.length < gates.minSample
      ? 'insufficient'
      : results.some((g) => g.status === 'fail')
        ? 'fail'
        : results.some((g) => g.status === 'no_data')
          ? 'no_data'
          : 'pass';
  return { sample: windowed.length, window: gates.window, status, gates: results };
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

const GATE_WORDS: Record<GateName, string> = {
  minSample: 'sample',
  agreement: 'agreement',
  fallbackRate: 'fallback rate',
  p95LatencyMs: 'p95 latency',
  costPerRunUsd: 'cost per run',
};

/** A gate's value against its threshold, e.g. "45% > 10% (20 steps)"; "no data yet" without cases. */
export function gateComparison(g: GateResult): string {
  const fmt = (x: number) =>
    g.gate === 'agreement' || g.gate === 'fallbackRate'
      ? pct(x)
      : g.gate === 'costPerRunUsd'
        ? `$${x.toFixed(4)}`
        : g.gate === 'p95LatencyMs'
          ? `${Math.round(x)} ms`
          : String(x);
  if (g.value === null) return 'no data yet';
  const op = g.status === 'pass' ? (g.kind === 'min' ? '≥' : '≤') : g.kind === 'min' ? '<' : '>';
  return `${fmt(g.value)} ${op} ${fmt(g.threshold)} (${g.over} steps)`;
}

/** One gate in words, e.g. "fallback rate 45% > 10% (20 steps)". */
export function describeGate(g: GateResult): string {
  return g.value === null
    ? `${GATE_WORDS[g.gate]}: no data yet`
    : `${GATE_WORDS[g.gate]} ${gateComparison(g)}`;
}

export type RolloutDecision =
  | { action: 'rollback'; from: StageState; to: StageState; reason: string }
  | { action: 'advance'; from: StageState; to: StageState; reason: string }
  | { action: 'none'; reason: string };

/**
 * What the gates mean for a step now. A failing gate rolls back a stage where the agent serves
 * (canary, agent) at once; passing gates advance only when the owner allowed it (agent.autoAdvance).
 */
export function rolloutDecision(
  node: Pick<WorkflowNode, 'mode' | 'agent'>,
  verdict: GateVerdict,
  /** The node's type has no shadow or canary stage (NodeTypeSpec.runsOnce). */
  runsOnce = false,
): RolloutDecision {
  const from = stageOf(node);
  if (verdict.status === 'insufficient')
    return {
      action: 'none',
      reason: `${verdict.sample} of ${node.agent?.gates?.minSample ?? DEFAULT_GATES.minSample} steps`,
    };
  if (verdict.status === 'fail') {
    const to = rollbackTarget(node, runsOnce);
    const failing = verdict.gates.filter((g) => g.status === 'fail').map(describeGate);
    const reason = `Gate failed at ${stageLabel(from)}: ${failing.join('; ')}`;
    return to ? { action: 'rollback', from, to, reason } : { action: 'none', reason };
  }
  if (verdict.status === 'pass' && node.agent?.autoAdvance) {
    const to = nextStage(node, runsOnce);
    if (to && from.stage !== 'workflow')
      return {
        action: 'advance',
        from,
        to,
        reason: `Every gate passed at ${stageLabel(from)}: ${verdict.gates.map(describeGate).join('; ')}`,
      };
  }
  return {
    action: 'none',
    reason: verdict.status === 'pass' ? 'Every gate passes' : 'Some gates have no data yet',
  };
}

/** A step's rollout as the rollout API reports it (lib/server/rollout.ts; the Promotion tab reads it). */
export interface StepRollout {
  nodeId: string;
  nodeName: string | null;
  nodeType: string;
  stage: StageState;
  label: string;
  /** The stages this step's type may take (all four, or workflow and agent: stagesFor). */
  stages: readonly Stage[];
  next: StageState | null;
  gates: RolloutGates;
  autoAdvance: boolean;
  revision: string;
  verdict: GateVerdict;
  /** What the watcher does with this verdict (rollback / advance / none). */
  decision: RolloutDecision;
  /** Finished agent steps: of the current stage, since the agent config last changed, in all. */
  evidence: { stage: number; revision: number; total: number };
  /** Which arm served the steps in the gate window. */
  served: { agent: number; fallback: number; shadow: number };
}
