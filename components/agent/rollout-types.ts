// Shapes of the rollout API (docs/api.md, "Rollout"); components talk to it over HTTP only. The
// stage and gate types come from lib/workflow, the one source the server also reads.
import type { RolloutGates } from '@/lib/workflow/definition';
import type { GateVerdict, RolloutDecision } from '@/lib/workflow/gates';
import type { StageState } from '@/lib/workflow/rollout';

export interface StepRollout {
  nodeId: string;
  nodeName: string | null;
  nodeType: string;
  stage: StageState;
  label: string;
  next: StageState | null;
  gates: RolloutGates;
  autoAdvance: boolean;
  revision: string;
  verdict: GateVerdict;
  decision: RolloutDecision;
  evidence: { stage: number; revision: number; total: number };
  served: { agent: number; fallback: number; shadow: number };
}

export interface RolloutEvent {
  id: string;
  kind: 'stage' | 'gates' | 'rollback' | 'advance' | 'kill_switch' | 'graduation';
  nodeId: string | null;
  fromStage: string | null;
  toStage: string | null;
  version: number;
  reason: string;
  actor: string;
  createdAt: string;
}
