import type { WorkflowNode } from './definition';
import { DEFAULT_CANARY_PERCENT } from './limits';
import { stableJson } from './same-value';

// A step's rollout stage (issue 16): workflow → shadow → canary n% → agent. The stage is read from
// the fields a definition already had (mode, agent.shadow) plus agent.canaryPercent, so every
// definition saved before stages existed keeps its meaning and storage needs no migration:
//   mode "workflow" (or absent)                     → workflow
//   mode "agent", agent.shadow true                  → shadow (wins over canaryPercent: the safe reading)
//   mode "agent", agent.canaryPercent n              → canary n%
//   mode "agent" otherwise                           → agent
// `withStage` is the only writer, so a node moved by the API never holds a contradictory pair.

export const STAGES = ['workflow', 'shadow', 'canary', 'agent'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * Kinds of rows in a workflow's rollout activity log (the RolloutEvent table, whose `kind` column
 * is plain text): the repository, the API and the Promotion tab all read this list.
 */
export const ROLLOUT_EVENT_KINDS = [
  'stage',
  'gates',
  'rollback',
  'advance',
  'kill_switch',
  'graduation',
] as const;
export type RolloutEventKind = (typeof ROLLOUT_EVENT_KINDS)[number];

/** Stages where the deterministic step's output serves every run: where a rollback lands. */
export const SAFE_STAGES: readonly Stage[] = ['workflow', 'shadow'];

export interface StageState {
  stage: Stage;
  /** Set for canary only. */
  canaryPercent?: number;
}

type RolloutNode = Pick<WorkflowNode, 'mode' | 'agent'>;

export function stageOf(node: RolloutNode): StageState {
  if (node.mode !== 'agent') return { stage: 'workflow' };
  if (node.agent?.shadow) return { stage: 'shadow' };
  const pct = node.agent?.canaryPercent;
  if (pct !== undefined) return { stage: 'canary', canaryPercent: pct };
  return { stage: 'agent' };
}

export function stageLabel(s: StageState): string {
  return s.stage === 'canary' ? `canary ${s.canaryPercent}%` : s.stage;
}

/**
 * The node moved to a stage; agent settings (instructions, tools, gates) are kept as written. A step
 * that never had agent settings gets the `self` tool when its type offers one (`hasSelfTool`).
 */
export function withStage<N extends RolloutNode>(node: N, target: StageState, hasSelfTool = false): N {
  // A new agent block is kept as small as the editor writes it; the schema's defaults fill the rest.
  const {
    canaryPercent: _c,
    rolledBack: _r,
    ...agent
  } = node.agent ?? ({ instructions: '', tools: hasSelfTool ? ['self'] : [] } as NonNullable<N['agent']>);
  if (target.stage === 'workflow') {
    return node.agent
      ? { ...node, mode: 'workflow', agent: { ...agent, shadow: false } }
      : { ...node, mode: 'workflow' };
  }
  const next = { ...agent, shadow: target.stage === 'shadow' } as NonNullable<N['agent']>;
  if (target.stage === 'canary') next.canaryPercent = target.canaryPercent ?? DEFAULT_CANARY_PERCENT;
  return { ...node, mode: 'agent', agent: next };
}

/**
 * The stages a node type may take. A type whose effects cannot happen twice in one run
 * (NodeTypeSpec.runsOnce: a browser step) has no stage where its agent runs beside the
 * deterministic step: shadow and canary would act on the outside twice, or never heal at all.
 */
export function stagesFor(runsOnce = false): readonly Stage[] {
  return runsOnce ? RUNS_ONCE_STAGES : STAGES;
}
const RUNS_ONCE_STAGES: readonly Stage[] = ['workflow', 'agent'];

/** The stage after this one (null at `agent`); shadow moves to canary at the default share. */
export function nextStage(node: RolloutNode, runsOnce = false): StageState | null {
  const { stage } = stageOf(node);
  if (runsOnce) return stage === 'agent' ? null : { stage: 'agent' };
  if (stage === 'workflow') return { stage: 'shadow' };
  if (stage === 'shadow') return { stage: 'canary', canaryPercent: DEFAULT_CANARY_PERCENT };
  if (stage === 'canary') return { stage: 'agent' };
  return null;
}

/**
 * Where an automatic rollback lands: shadow, so the agent keeps collecting evidence while the
 * deterministic step serves; workflow for a type that has no shadow stage.
 */
export function rollbackTarget(node: RolloutNode, runsOnce = false): StageState | null {
  const { stage } = stageOf(node);
  if (stage !== 'canary' && stage !== 'agent') return null;
  return { stage: runsOnce ? 'workflow' : 'shadow' };
}

/** 32-bit FNV-1a: small, pure and identical in the browser, the worker and the CLI. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The run's bucket 0..99: a pure function of the run id, so retries and resumes of one run agree. */
export const canaryBucket = (runId: string) => fnv1a(runId) % 100;

/** Whether the agent serves this run of a canary step (else the deterministic arm, in shadow). */
export const inCanary = (runId: string, percent: number) => canaryBucket(runId) < percent;

/**
 * What the agent of a step is, apart from its stage and gates: a change here (instructions, tools,
 * model, limits, the deterministic config it falls back to) starts new evidence.
 */
export function agentRevision(node: Pick<WorkflowNode, 'type' | 'config' | 'agent'>): string {
  const {
    shadow: _s,
    canaryPercent: _c,
    gates: _g,
    autoAdvance: _a,
    rolledBack: _r,
    ...agent
  } = node.agent ?? {};
  return fnv1a(stableJson({ type: node.type, config: node.config ?? {}, agent }))
    .toString(16)
    .padStart(8, '0');
}

/** Evidence belongs to one stage of one agent revision: a change to either starts a new window. */
export function rolloutKey(node: Pick<WorkflowNode, 'type' | 'config' | 'agent' | 'mode'>): string {
  return `${stageLabel(stageOf(node))}@${agentRevision(node)}`;
}
