// Shapes of the promotion API (docs/api.md, "Promotion report"); components talk to it over HTTP
// only. The report's types are the server's own (lib/promotion/promotion-report.ts, types only).

export type {
  PromotionAction,
  PromotionReport,
  Recommendation,
  StepReport,
} from '@/lib/promotion/promotion-report';

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
