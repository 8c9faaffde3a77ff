// Shapes of the rollout API (docs/api.md, "Rollout"); components talk to it over HTTP only. The
// stage and gate types come from lib/workflow, the one source the server also reads.
export type { StepRollout } from '@/lib/workflow/gates';
import type { RolloutEventKind } from '@/lib/workflow/rollout';

export interface RolloutEvent {
  id: string;
  kind: RolloutEventKind;
  nodeId: string | null;
  fromStage: string | null;
  toStage: string | null;
  version: number;
  reason: string;
  actor: string;
  createdAt: string;
}
