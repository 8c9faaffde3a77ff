import type { AgentTurn } from '@/lib/workflow/trace';
import type { WorkflowNode } from '@/lib/workflow/definition';
import type { PriceTable } from '@/lib/agent/pricing';
import type { ModelConfig } from '@/lib/agent/model-client';
import type { CostLedger } from '@/lib/agent/ledger';
import type { NodeTool } from '@/lib/nodes/define-node';

// The engine's view of agent mode: runAgent(args) → AgentResult. The engine decides what a
// fallback means (run the deterministic step, or fail when agent.fallback is "fail") and stores
// the turns; the loop itself never touches storage.

export const FALLBACK_REASONS = [
  'no_model_configured',
  'invalid_output',
  'max_steps',
  'budget',
  'timeout',
  'tool_error',
  'model_error',
] as const;
export type FallbackReason = (typeof FALLBACK_REASONS)[number];

/** The step's own deterministic operation, exposed to the model as the `self` tool. */
export interface DeterministicTool {
  description: string;
  /** JSON Schema of the tool's parameters (the node type's asTool().parameters). */
  parameters: Record<string, unknown>;
  /** The step's deterministic config: defaults for omitted arguments. */
  defaults?: Record<string, unknown>;
  /** Read-only tools may run in shadow mode (e.g. an HTTP GET); may depend on the arguments (method). */
  readOnly?: boolean | ((args: Record<string, unknown>) => boolean);
  /** Run the deterministic operation with these arguments merged over the config (already validated). */
  run(args: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
}

/**
 * What a replay (a backtest) answers for one tool call, asked after the arguments validated and
 * before anything runs: a recorded result (or recorded error), a refusal, or `run` (the caller
 * allows this call to really execute, e.g. a read-only tool).
 */
export type ReplayAnswer =
  | { kind: 'recorded'; result?: unknown; error?: unknown }
  | { kind: 'refused'; reason: string; message: string }
  | { kind: 'run' };

export interface ReplayCall {
  /** The tool as written in agent.tools (self, http, workflow:<id>). */
  tool: string;
  /** The function name the model called. */
  name: string;
  /** The arguments merged over the tool's defaults, validated. */
  args: Record<string, unknown>;
  readOnly: boolean;
}

export interface WorkflowToolInfo {
  name?: string;
  description?: string;
  /** The saved workflow's inputSchema: the tool's parameters. */
  inputSchema?: Record<string, unknown>;
  readOnly?: boolean;
}

export interface RunAgentArgs {
  /** The step (its `agent` settings: instructions, tools, maxSteps, maxTokens, timeoutMs, shadow, model, allowHosts). */
  node: WorkflowNode;
  /** The step's input (output of its upstream step(s)). */
  input: unknown;
  /** `self` tool; omit when the node type has no asTool(). */
  deterministicTool?: DeterministicTool;
  /** JSON Schema the final answer must satisfy (the node type's or the step's own); none: any JSON or text. */
  outputSchema?: Record<string, unknown>;
  /** Cancellation from the engine (run cancelled): rethrown, never turned into a fallback. */
  signal: AbortSignal;
  /** Overrides node.agent.shadow (the engine runs the deterministic step itself in shadow mode). */
  shadow?: boolean;
  /** `workflow:<id>` tools: describe a saved workflow, and run it as a child run. */
  resolveWorkflow?: (workflowId: string) => Promise<WorkflowToolInfo | null>;
  runChild?: (args: { workflowId: string; input: unknown; signal: AbortSignal }) => Promise<unknown>;
  /** Model endpoint; default getModelConfig(process.env). null means none is configured. */
  model?: ModelConfig | null;
  prices?: PriceTable;
  /** The root run's cost ledger: every model call reserves its worst case here first. */
  ledger?: CostLedger;
  /** Without a ledger: a cap in USD and what the run has spent so far (a private ledger). */
  budget?: { costCapUsd?: number; spentUsd?: number };
  /** Model calls and tokens earlier attempts of this step used: maxSteps/maxTokens span retries. */
  prior?: { steps: number; tokens: number };
  /**
   * Applied to every tool result (and tool error) before it goes to the model provider: stored
   * secret values, raw or encoded, are masked.
   */
  mask?: (value: unknown) => unknown;
  /** host[:port] of the step's own configured URL: the only host the http tool may call without an allow-list. */
  stepHost?: string;
  /**
   * Names the step's effect, the same on every attempt (the engine derives it from the top-level
   * run, the frame path, the node and the map item). The http tool's non-GET calls carry an
   * Idempotency-Key derived from it (httpToolCallKey); without it they carry none.
   */
  effectKey?: string;
  /** The `http` tool's fetch; default guardedFetch (SSRF guard, allow-list, size cap). */
  fetch?: (
    url: string,
    init: RequestInit & { allowHosts?: string[]; pinHosts?: string[]; maxBytes?: number },
  ) => Promise<Response>;
  /** Backtests: every tool call is answered from a recording or refused before it could run. */
  replay?: (call: ReplayCall) => ReplayAnswer | Promise<ReplayAnswer>;
  /** Called for every turn as it happens (streaming to the trace). */
  onTurn?: (turn: AgentTurn) => void | Promise<void>;
  /** Tools a node provides for its interface agent (browser observe/act/extract), beside agent.tools. */
  extraTools?: NodeTool[];
  /** Applied to every turn payload before it leaves the loop (secret redaction). */
  redact?: (value: unknown) => unknown;
}

interface AgentTotals {
  turns: AgentTurn[];
  tokens: number;
  cost: number;
  /** Model calls made. */
  steps: number;
  durationMs: number;
}

export type AgentResult =
  | ({ outcome: 'ok'; output: unknown } & AgentTotals)
  | ({ outcome: 'fallback'; reason: FallbackReason; message: string } & AgentTotals);
