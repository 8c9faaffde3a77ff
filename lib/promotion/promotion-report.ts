// Shapes of the promotion report (GET /api/workflows/:id/promotion, docs/api.md "Promotion
// report"): written by lib/server/promotion.ts, read by the Promotion panel. Types only, so
// components/ import them without the server.

export type PromotionAction = 'promote' | 'demote' | 'shadow';
export type Recommendation = PromotionAction | 'collect_more' | 'keep';

export interface StepReport {
  nodeId: string;
  nodeName: string | null;
  nodeType: string;
  current: { mode: 'workflow' | 'agent'; shadow: boolean };
  count: number;
  byMode: { agent: number; shadow: number; fallback: number };
  agreement: {
    /** Shadow steps where the agent answered and the answers could be compared. */
    compared: number;
    exactMatchRate: number | null;
    /** For object outputs: the share of compared steps where each field of the deterministic output matched. */
    fields: Record<string, number>;
  };
  fallback: { rate: number | null; byReason: Record<string, number> };
  latency: { agentMs: number | null; deterministicMs: number | null; deltaMs: number | null };
  cost: { agentUsd: number | null; deterministicUsd: number | null; deltaUsd: number | null };
  recommendation: { action: Recommendation; reason: string };
  /** Interface-agent steps (browser): how often the deterministic replay held, and what healing cost. */
  replay?: ReplayReport;
}

export interface ReplayReport {
  runs: number;
  /** Finished by the deterministic replay alone. */
  replayed: number;
  healed: number;
  failed: number;
  replaySuccessRate: number | null;
  healRate: number | null;
  /** Model spend of the healed runs: in total and per healed run. */
  healCostUsd: { total: number; perHeal: number | null };
}

export interface PromotionReport {
  workflowId: string;
  version: number;
  limit: number;
  steps: StepReport[];
}
