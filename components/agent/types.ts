// Shapes of the promotion API (docs/api.md, "Promotion report"); components talk to it over HTTP
// only, so these mirror lib/server/promotion.ts rather than import it.

export type PromotionAction = 'promote' | 'demote' | 'shadow';
export type Recommendation = PromotionAction | 'collect_more' | 'keep';

export interface StepReport {
  nodeId: string;
  nodeName: string | null;
  nodeType: string;
  current: { mode: 'workflow' | 'agent'; shadow: boolean };
  count: number;
  byMode: { agent: number; shadow: number; fallback: number };
  agreement: { compared: number; exactMatchRate: number | null; fields: Record<string, number> };
  fallback: { rate: number | null; byReason: Record<string, number> };
  latency: { agentMs: number | null; deterministicMs: number | null; deltaMs: number | null };
  cost: { agentUsd: number | null; deterministicUsd: number | null; deltaUsd: number | null };
  recommendation: { action: Recommendation; reason: string };
}

export interface PromotionReport {
  workflowId: string;
  version: number;
  limit: number;
  steps: StepReport[];
}

/** The last agent turn of every agent-mode step (lib/engine/agent-step.ts). */
export interface AgentStepSummary {
  mode: 'agent' | 'fallback' | 'shadow' | 'workflow';
  outcome: 'ok' | 'fallback';
  reason?: string;
  agentMs: number;
  deterministicMs?: number;
  agentTokens: number;
  agentCost: number;
  modelCalls: number;
}
