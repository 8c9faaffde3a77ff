import type { SerializedError } from '@/lib/workflow/errors';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { AgentTurn, ArtifactInfo } from '@/lib/workflow/trace';
import type { ArtifactInput } from '@/lib/nodes/define-node';

// The engine's only view of storage. lib/db implements it on Prisma (PGlite or Postgres);
// memory-trace-store.ts implements it for unit tests. One contract suite runs against all.

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'waiting' | 'cancelled';
/** `healed`: a step whose own replay failed and whose interface agent finished it (browser). */
export type StepMode = 'workflow' | 'agent' | 'fallback' | 'shadow' | 'healed';
export const TERMINAL_RUN_STATUSES: RunStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface RunRecord {
  id: string;
  workflowId: string | null;
  workflowVersionId: string | null;
  version: number | null;
  status: RunStatus;
  input: unknown;
  output?: unknown;
  error?: SerializedError | null;
  trigger: string;
  /** The trigger node that started the run; only its branch runs (see plan.ts selectRoots). */
  triggerNodeId?: string | null;
  parentRunId?: string | null;
  parentStepId?: string | null;
  /** W3C traceparent the run's spans continue (see tracing.ts); null when none was recorded. */
  traceContext?: string | null;
  createdAt: Date;
  startedAt?: Date | null;
  finishedAt?: Date | null;
}

export interface StepStart {
  runId: string;
  nodeId: string;
  nodeType: string;
  attempt: number;
  mode: StepMode;
  input: unknown;
  itemIndex?: number | null;
  /** Map body steps carry the map node id so item steps do not collide with top-level ones. */
  parentNodeId?: string | null;
  startedAt: Date;
}

export interface StepResult {
  status: Exclude<StepStatus, 'running'>;
  /** The trace copy (secrets masked by the engine). Capped by the store. */
  output?: unknown;
  /**
   * The exact output downstream steps ran on. Kept only when the trace copy is not it (capped or
   * masked), so a resumed run or a rerun reuses the real value: see executableOutputOf.
   */
  executableOutput?: unknown;
  error?: SerializedError | null;
  handle?: string | null;
  mode?: StepMode;
  /** Why agent mode fell back (no_model_configured, invalid_output, max_steps, ...). */
  fallbackReason?: string | null;
  shadowOutput?: unknown;
  tokens?: number;
  cost?: number;
  finishedAt: Date;
}

export interface StepRecord extends StepStart {
  id: string;
  status: StepStatus;
  /** The trace copy: capped, masked. */
  output?: unknown;
  /** Present only when the exact output differs from `output` (StepResult.executableOutput). */
  executableOutput?: unknown;
  error?: SerializedError | null;
  handle?: string | null;
  fallbackReason?: string | null;
  shadowOutput?: unknown;
  tokens?: number;
  cost?: number;
  finishedAt?: Date | null;
  durationMs?: number | null;
}

/** What a recorded step's successors run on: its exact output when kept, else its trace copy. */
export const executableOutputOf = (s: Pick<StepRecord, 'output' | 'executableOutput'>): unknown =>
  'executableOutput' in s ? s.executableOutput : s.output;

// Agent turns are produced by lib/agent and recorded here; the type sits below both.
export type { AgentTurn, ArtifactInfo, ArtifactInput };

export interface CreateRun {
  workflowId: string | null;
  workflowVersionId: string | null;
  version: number | null;
  definition: WorkflowDefinition;
  /** What the run executes, kept exactly (never capped or masked): see runInput. */
  input: unknown;
  /** The input as the trace shows it (secrets masked by the engine); default `input`. Capped. */
  traceInput?: unknown;
  trigger: string;
  triggerNodeId?: string | null;
  parentRunId?: string | null;
  parentStepId?: string | null;
  /** An incoming traceparent (API or webhook header), or the parent step's span for child runs. */
  traceContext?: string | null;
}

export interface TraceStore {
  createRun(run: CreateRun): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord | null>;
  /** The exact definition version the run was started with. */
  runDefinition(runId: string): Promise<WorkflowDefinition>;
  /**
   * The exact input the run was created with, whatever its size or content; RunRecord.input is
   * only its trace copy (capped, masked). Durable with createRun, so any worker resumes on it.
   */
  runInput(runId: string): Promise<unknown>;
  /** Compare-and-set: only moves from one of `from`; a finished run is never overwritten. */
  transitionRun(
    runId: string,
    from: RunStatus[],
    to: RunStatus,
    patch?: { output?: unknown; error?: SerializedError | null },
  ): Promise<boolean>;
  startStep(step: StepStart): Promise<string>;
  finishStep(stepId: string, result: StepResult): Promise<void>;
  /**
   * Compare-and-set for a decision from outside the run (an approval): finishes the step only if
   * it is still `waiting`, durably before returning; false when someone decided it first.
   */
  decideStep(stepId: string, result: StepResult): Promise<boolean>;
  /** Every step of the run, in start order; `status` narrows it (a cancel looks for waiting ones). */
  listSteps(runId: string, filter?: { status?: StepStatus }): Promise<StepRecord[]>;
  appendAgentTurns(stepId: string, turns: AgentTurn[]): Promise<void>;
  /** The agent turns of one step, in order (a rerun copies those of the steps it reuses). */
  listAgentTurns(stepId: string): Promise<AgentTurn[]>;
  /**
   * Record the span a run's later drives continue (tracing.ts), so a run resumed by another
   * process stays in the same trace. Optional: stores without it start a new trace on resume.
   */
  setTraceContext?(runId: string, traceparent: string): Promise<void>;
  /**
   * Store a file with a step (browser screenshots); refuses one over MAX_ARTIFACT_BYTES. Optional:
   * a store without it keeps no artifacts and nodes skip them.
   */
  saveArtifact?(stepId: string, artifact: ArtifactInput): Promise<string>;
  /** The step's artifacts without their bytes, oldest first. */
  listArtifacts?(stepId: string): Promise<ArtifactInfo[]>;
  /** One artifact with its bytes; null when unknown. */
  getArtifact?(artifactId: string): Promise<(ArtifactInfo & { bytes: Uint8Array }) | null>;
  /** Make every buffered write durable (batched writers flush here). */
  flush(): Promise<void>;
}
