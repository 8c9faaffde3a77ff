import type { z } from 'zod';
import type { AgentSettings, WorkflowNode } from '@/lib/workflow/definition';
import type { NodeTypeSpec } from '@/lib/workflow/node-type';
import type { ExpressionScope, ExpressionServices, SandboxCall } from '@/lib/workflow/expression-scope';

// One shape for every node type: config schema, ports, deterministic run(), asTool().
// Context is passed as an argument (never `this`) and always carries a cancellation signal.

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export type { ExpressionScope };

/** Effects a node may need; the engine provides them so nodes stay testable. */
export interface NodeServices extends ExpressionServices {
  /** fetch() behind the SSRF guard and size cap. */
  fetch?: (
    url: string,
    init: RequestInit & { allowHosts?: string[]; pinHosts?: string[]; maxBytes?: number },
  ) => Promise<Response>;
  /** Run a body graph or saved workflow once per item (map). */
  runBody?: (args: {
    body: { nodes: WorkflowNode[]; edges: unknown[] } | { workflowId: string };
    items: unknown[];
    concurrency: number;
    signal: AbortSignal;
  }) => Promise<unknown[]>;
  /** Run a saved workflow as a child run (subworkflow, agent workflow tools). */
  runChild?: (args: { workflowId: string; input: unknown; signal: AbortSignal }) => Promise<unknown>;
  /** One chat completion (llm node). */
  chat?: (args: {
    model?: string;
    system?: string;
    prompt: string;
    temperature?: number;
    jsonSchema?: Record<string, unknown>;
    /** Completion tokens the answer may use (sent as max_tokens). */
    maxTokens?: number;
    signal: AbortSignal;
  }) => Promise<{
    text: string;
    tokens?: number;
    cost?: number;
    /** Model id the endpoint answered with (often dated: gpt-4.1-mini-2025-04-14). */
    model?: string;
    usage?: { promptTokens: number; completionTokens: number };
  }>;
  /** Store a file with this step (screenshots, DOM snapshots); returns the artifact id. */
  saveArtifact?: (artifact: ArtifactInput) => Promise<string>;
  /**
   * Run an interface agent over tools the node provides, within the step's agent budgets and the
   * run's cost cap; its turns are recorded on the step (the browser step's healer).
   */
  interfaceAgent?: (args: InterfaceAgentArgs) => Promise<InterfaceAgentResult>;
}

/** A tool a node hands to its interface agent (the browser step's observe / act / extract). */
export interface NodeTool {
  /** Function name sent to the model ([A-Za-z0-9_-]). */
  name: string;
  description: string;
  /** JSON Schema of the arguments; checked before run() is called. */
  parameters: Record<string, unknown>;
  run(args: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
}

export interface InterfaceAgentArgs {
  /** What to achieve (the step's agent instructions, or the node's own wording). */
  goal: string;
  /** What the model is shown first: the plan, what has been done, why replay stopped. */
  context: unknown;
  tools: NodeTool[];
  /** The final answer's JSON Schema. */
  outputSchema?: Record<string, unknown>;
  signal: AbortSignal;
}

export interface InterfaceAgentResult {
  outcome: 'ok' | 'fallback';
  output?: unknown;
  /** Fallback reason code (no_model_configured, max_steps, budget, …) and its message. */
  reason?: string;
  message?: string;
  tokens: number;
  cost: number;
  modelCalls: number;
}

export interface ArtifactInput {
  kind: 'screenshot' | 'dom';
  mime: string;
  bytes: Uint8Array;
  /** Shown beside the artifact (action index, URL); secrets are masked by the host. */
  meta?: Record<string, unknown>;
}

export interface NodeRunContext<C> {
  runId: string;
  node: WorkflowNode;
  /** The node's config as written (templates not yet rendered: each node renders what it needs). */
  config: C;
  /** Output of the single upstream step, or { <nodeId>: output } when several. */
  input: unknown;
  scope: ExpressionScope;
  signal: AbortSignal;
  clock: Clock;
  attempt: number;
  itemIndex?: number;
  /**
   * Where this step's effect sits: the top-level run that caused it and the frame path inside it
   * ('' at the top level; map frames and the child runs on the way). Stable across attempts.
   */
  effect?: { runId: string; frame: string };
  services: NodeServices;
}

export type NodeResult =
  | {
      kind: 'done';
      output: unknown;
      handle?: string;
      tokens?: number;
      cost?: number;
      /** The deterministic replay stopped and the node's interface agent completed the goal. */
      healed?: boolean;
    }
  /** Park the run without holding a worker: resume when `until` passes or a decision arrives. */
  | { kind: 'wait'; reason: 'delay' | 'approval'; until?: number; output?: unknown };

export const done = (output: unknown, handle?: string): NodeResult => ({ kind: 'done', output, handle });

export interface ToolSpec {
  description: string;
  /** JSON Schema of the tool's parameters. */
  parameters: Record<string, unknown>;
  /** Read-only tools may run in shadow mode. */
  readOnly?: boolean;
  /**
   * The step's own saved config may read `secrets` when it runs as a tool (an auth header). Off by
   * default: code/transform/llm tools run without secrets, and the model's arguments never see them.
   */
  configSecrets?: boolean;
}

export interface NodeDefinition<S extends z.ZodType = z.ZodType> extends NodeTypeSpec {
  config: S;
  run(ctx: NodeRunContext<z.infer<S>>): Promise<NodeResult>;
  /**
   * The sandbox call run() makes with the step's scope, as data (transform: render its value).
   * A map then evaluates it for many items in one sandbox message ahead of their steps
   * (lib/engine/map-prefetch.ts); run() still makes the call, and is answered from that batch
   * only when everything the call reads in the scope is the same.
   */
  sandboxCall?: (config: z.infer<S>) => SandboxCall;
  asTool?: (config: z.infer<S>, agent?: AgentSettings) => ToolSpec;
}

type DefineArgs<S extends z.ZodType> = Omit<NodeDefinition<S>, 'outputs' | 'hasInput'> & {
  outputs?: (config: z.infer<S>) => string[];
  hasInput?: boolean;
};

export function defineNode<S extends z.ZodType>(def: DefineArgs<S>): NodeDefinition<S> {
  return {
    ...def,
    hasInput: def.hasInput ?? !def.isTrigger,
    outputs: (def.outputs as ((c: Record<string, unknown>) => string[]) | undefined) ?? (() => ['out']),
  } as NodeDefinition<S>;
}
