import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { ArtifactInfo } from '@/lib/workflow/trace';

// The traces UI's view of docs/api.md responses. Dates arrive as ISO strings. Optional fields are
// ones the list queries may omit; the UI renders "—" rather than guessing.

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'waiting' | 'cancelled';
export type StepMode = 'workflow' | 'agent' | 'fallback' | 'shadow' | 'healed';

export interface ApiError {
  code: string;
  message: string;
  details?: unknown;
}

export interface RunSummary {
  id: string;
  workflowId: string | null;
  version: number | null;
  status: RunStatus | string;
  trigger: string;
  parentRunId?: string | null;
  createdAt: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  durationMs?: number | null;
  stepCount?: number | null;
  tokens?: number | null;
  cost?: number | null;
  /** The repository nests the name; a flattened `workflowName` is accepted too. */
  workflow?: { name: string } | null;
  workflowName?: string | null;
  /** The version's note when the system wrote it (an automatic rollback, a kill switch). */
  workflowVersion?: { note: string | null } | null;
}

export interface RunDetail extends RunSummary {
  input?: unknown;
  output?: unknown;
  error?: ApiError | null;
}

export interface StepSummary {
  id: string;
  nodeId: string;
  nodeType: string;
  parentNodeId?: string | null;
  itemIndex?: number | null;
  attempt: number;
  mode: StepMode | string;
  status: StepStatus | string;
  handle?: string | null;
  fallbackReason?: string | null;
  startedAt: string;
  finishedAt?: string | null;
  durationMs?: number | null;
  tokens?: number | null;
  cost?: number | null;
}

export interface StepDetail extends StepSummary {
  input?: unknown;
  output?: unknown;
  error?: ApiError | null;
  shadowOutput?: unknown;
}

export type AgentTurnKind =
  'request' | 'response' | 'tool_call' | 'tool_result' | 'validation_error' | 'note';

export interface AgentTurn {
  id?: string;
  seq: number;
  kind: AgentTurnKind | string;
  payload: unknown;
  tokens?: number | null;
  latencyMs?: number | null;
  cost?: number | null;
  createdAt?: string;
}

export interface RunWithSteps {
  run: RunDetail;
  steps: StepSummary[];
}

/** A file stored with a step (a browser screenshot), without its bytes, as the run API lists it. */
export type ArtifactSummary = Omit<ArtifactInfo, 'createdAt'>;

export interface StepWithTurns {
  step: StepDetail;
  agentTurns: AgentTurn[];
  artifacts?: ArtifactSummary[];
}

export interface RunPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

export interface WorkflowOption {
  id: string;
  name: string;
  latestVersion?: number;
}

export interface VersionRecord {
  version: number;
  definition: WorkflowDefinition;
  createdAt: string;
}

export { isTruncated, type TruncatedMarker } from '@/lib/payload/marker';

export function workflowName(run: RunSummary): string {
  return run.workflowName ?? run.workflow?.name ?? (run.workflowId ? run.workflowId : 'Ad-hoc run');
}

export const ACTIVE_RUN_STATUSES = new Set(['queued', 'running', 'waiting']);
export const TERMINAL_RUN_STATUSES = new Set(['succeeded', 'failed', 'cancelled']);
