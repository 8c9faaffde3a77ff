import { randomUUID } from 'node:crypto';
import { NotFoundError } from '@/lib/workflow/errors';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { assertArtifactSize } from '@/lib/workflow/trace';
import { toTraceValue, type Redactor } from '@/lib/payload';
import {
  TERMINAL_RUN_STATUSES,
  type AgentTurn,
  type ArtifactInfo,
  type ArtifactInput,
  type CreateRun,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type StepResult,
  type StepStart,
  type StepStatus,
  type TraceStore,
} from './trace-store';

// In-memory TraceStore for unit tests, benches and the contract suite. Payloads are cloned on
// the way in and out so callers cannot mutate stored traces (as with a real database).

const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

export interface MemoryTraceStoreOptions {
  /** Applied to every payload before it is kept (as SqlTraceStore's option). */
  redact?: Redactor;
  maxPayloadBytes?: number;
  /** Run ids (default random UUIDs): a seeded source makes id-dependent behaviour replayable. */
  runId?: () => string;
}

export class MemoryTraceStore implements TraceStore {
  private runs = new Map<string, RunRecord>();
  private definitions = new Map<string, WorkflowDefinition>();
  private inputs = new Map<string, unknown>();
  private steps = new Map<string, StepRecord>();
  private stepsByRun = new Map<string, string[]>();
  private turns = new Map<string, AgentTurn[]>();
  private artifacts = new Map<string, ArtifactInfo & { bytes: Uint8Array }>();

  constructor(private readonly opts: MemoryTraceStoreOptions = {}) {}

  /** Payloads as a database would keep them (the same JSON text): redacted, capped, detached. */
  private keep<T>(v: T): T {
    return toTraceValue(v, { redact: this.opts.redact, maxBytes: this.opts.maxPayloadBytes }) as T;
  }

  async createRun(run: CreateRun): Promise<RunRecord> {
    const rec: RunRecord = {
      id: this.opts.runId?.() ?? randomUUID(),
      workflowId: run.workflowId,
      workflowVersionId: run.workflowVersionId,
      version: run.version,
      status: 'queued',
      input: this.keep('traceInput' in run ? run.traceInput : run.input),
      output: null,
      error: null,
      trigger: run.trigger,
      parentRunId: run.parentRunId ?? null,
      parentStepId: run.parentStepId ?? null,
      triggerNodeId: run.triggerNodeId ?? null,
      traceContext: run.traceContext ?? null,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
    };
    this.runs.set(rec.id, rec);
    this.definitions.set(rec.id, clone(run.definition));
    // What a database would hand back: the JSON of the input, whole.
    this.inputs.set(rec.id, run.input === undefined ? null : JSON.parse(JSON.stringify(run.input)));
    this.stepsByRun.set(rec.id, []);
    return clone(rec);
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const r = this.runs.get(runId);
    return r ? clone(r) : null;
  }

  async runDefinition(runId: string): Promise<WorkflowDefinition> {
    const d = this.definitions.get(runId);
    if (!d) throw new NotFoundError(`Run ${runId}`);
    return clone(d);
  }

  async runInput(runId: string): Promise<unknown> {
    if (!this.inputs.has(runId)) throw new NotFoundError(`Run ${runId}`);
    return clone(this.inputs.get(runId));
  }

  async transitionRun(
    runId: string,
    from: RunStatus[],
    to: RunStatus,
    patch?: { output?: unknown; error?: unknown },
  ): Promise<boolean> {
    const r = this.runs.get(runId);
    if (!r) return false;
    // A finished run is never overwritten, whatever `from` says.
    if (TERMINAL_RUN_STATUSES.includes(r.status) || !from.includes(r.status)) return false;
    r.status = to;
    const now = new Date();
    if (to === 'running' && !r.startedAt) r.startedAt = now;
    if (TERMINAL_RUN_STATUSES.includes(to)) r.finishedAt = now;
    if (patch && 'output' in patch) r.output = this.keep(patch.output);
    if (patch && 'error' in patch) r.error = this.keep(patch.error) as RunRecord['error'];
    return true;
  }

  async setTraceContext(runId: string, traceparent: string): Promise<void> {
    const r = this.runs.get(runId);
    if (r) r.traceContext = traceparent;
  }

  async startStep(step: StepStart): Promise<string> {
    const ids = this.stepsByRun.get(step.runId);
    if (!ids) throw new NotFoundError(`Run ${step.runId}`);
    const id = randomUUID();
    this.steps.set(id, {
      ...step,
      input: this.keep(step.input),
      itemIndex: step.itemIndex ?? null,
      parentNodeId: step.parentNodeId ?? null,
      id,
      status: 'running',
      output: null,
      error: null,
      handle: null,
      finishedAt: null,
      durationMs: null,
    });
    ids.push(id);
    return id;
  }

  async finishStep(stepId: string, result: StepResult): Promise<void> {
    const s = this.steps.get(stepId);
    if (!s) throw new NotFoundError(`Step ${stepId}`);
    s.status = result.status;
    if ('output' in result) s.output = this.keep(result.output);
    delete s.executableOutput;
    // As SqlTraceStore: the exact value only when the trace copy is not it (and it can be kept).
    if (result.executableOutput !== undefined) {
      try {
        const exact = clone(result.executableOutput);
        if (JSON.stringify(exact) !== JSON.stringify(s.output)) s.executableOutput = exact;
      } catch {
        // not cloneable: the trace copy is what a database could keep too
      }
    }
    if ('error' in result) s.error = this.keep(result.error) ?? null;
    if (result.handle !== undefined) s.handle = result.handle;
    if (result.mode) s.mode = result.mode;
    if (result.fallbackReason !== undefined) s.fallbackReason = result.fallbackReason;
    if (result.shadowOutput !== undefined) s.shadowOutput = this.keep(result.shadowOutput);
    if (result.tokens !== undefined) s.tokens = result.tokens;
    if (result.cost !== undefined) s.cost = result.cost;
    s.finishedAt = result.finishedAt;
    s.durationMs = result.finishedAt.getTime() - s.startedAt.getTime();
  }

  async decideStep(stepId: string, result: StepResult): Promise<boolean> {
    if (this.steps.get(stepId)?.status !== 'waiting') return false;
    await this.finishStep(stepId, result);
    return true;
  }

  async listSteps(runId: string, filter?: { status?: StepStatus }): Promise<StepRecord[]> {
    return (this.stepsByRun.get(runId) ?? [])
      .map((id) => this.steps.get(id)!)
      .filter((s) => !filter?.status || s.status === filter.status)
      .map((s) => clone(s));
  }

  async appendAgentTurns(stepId: string, turns: AgentTurn[]): Promise<void> {
    if (!this.steps.has(stepId)) throw new NotFoundError(`Step ${stepId}`);
    const list = this.turns.get(stepId) ?? [];
    list.push(...turns.map((t) => ({ ...t, payload: this.keep(t.payload) })));
    this.turns.set(stepId, list);
  }

  async listAgentTurns(stepId: string): Promise<AgentTurn[]> {
    return clone(this.turns.get(stepId) ?? []);
  }

  async saveArtifact(stepId: string, a: ArtifactInput): Promise<string> {
    if (!this.steps.has(stepId)) throw new NotFoundError(`Step ${stepId}`);
    assertArtifactSize(a.bytes.byteLength);
    const id = randomUUID();
    this.artifacts.set(id, {
      id,
      stepId,
      kind: a.kind,
      mime: a.mime,
      size: a.bytes.byteLength,
      meta: a.meta ? this.keep(a.meta) : null,
      createdAt: new Date(),
      bytes: new Uint8Array(a.bytes),
    });
    return id;
  }

  async listArtifacts(stepId: string): Promise<ArtifactInfo[]> {
    return [...this.artifacts.values()]
      .filter((a) => a.stepId === stepId)
      .map(({ bytes: _b, ...info }) => clone(info));
  }

  async getArtifact(id: string): Promise<(ArtifactInfo & { bytes: Uint8Array }) | null> {
    const a = this.artifacts.get(id);
    return a ? { ...clone(a), bytes: new Uint8Array(a.bytes) } : null;
  }

  /** Not part of TraceStore: runs whose parent is `runId` (subworkflow tests). */
  async listChildRuns(runId: string): Promise<RunRecord[]> {
    return [...this.runs.values()].filter((r) => r.parentRunId === runId).map(clone);
  }

  async flush(): Promise<void> {}
}
