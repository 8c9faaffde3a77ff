import type { SerializedError } from '@/lib/workflow/errors';
import type { AgentTurn, StepMode } from './trace-store';

// The engine's only view of distributed tracing, the way TraceStore is its view of storage: the
// engine says what happens (a run is driven, a step attempt starts, a retry backs off, an agent
// turn arrives) and lib/telemetry turns that into OpenTelemetry spans. The engine never imports
// the SDK; without a tracer (the default) none of this costs anything.

export interface RunSpanStart {
  runId: string;
  workflowId: string | null;
  workflowName: string;
  version: number | null;
  trigger: string;
  /**
   * W3C traceparent this drive continues: the caller's (API or webhook header), the parent step's
   * (child runs), or the run's own first span (a resumed run). null: a new trace.
   */
  parent: string | null;
  /** Driven again after waiting, or after another worker died. */
  resumed: boolean;
}

export interface StepSpanStart {
  stepId: string;
  nodeId: string;
  nodeType: string;
  mode: StepMode;
  attempt: number;
  itemIndex: number | null;
  parentNodeId: string | null;
}

export interface SpanOutcome {
  status: string;
  /** Already masked (secret values, redaction): it is exported as is. */
  error?: SerializedError | null;
  handle?: string | null;
  mode?: StepMode;
  fallbackReason?: string | null;
}

export interface TraceSpan {
  /** This span as a W3C traceparent: stored with the run so another process continues the trace. */
  readonly traceparent: string;
  /** One step attempt (or a skipped step) under this span. */
  step(info: StepSpanStart): TraceSpan;
  /** The wait between two attempts of a retried step. */
  backoff(info: { nodeId: string; attempt: number; delayMs: number }): TraceSpan;
  /** Agent mode of this step attempt. */
  agent(info: { nodeId: string; nodeType: string; mode: StepMode; shadow: boolean }): AgentSpan;
  end(outcome: SpanOutcome): void;
}

export interface AgentSpan {
  /** Every agent turn as it happens (payloads already masked): model calls and tool calls. */
  turn(turn: AgentTurn): void;
  /** Shadow mode: how the agent's answer compared with the deterministic step's. */
  evaluation(ev: { name: string; score: number; label: string; explanation?: string }): void;
  end(outcome: SpanOutcome): void;
}

export interface Tracer {
  /** One drive of a run (first execution or a resume). */
  run(info: RunSpanStart): TraceSpan;
}
