import { setMaxListeners } from 'node:events';
import { agentSettingsSchema, ERROR_HANDLE, type WorkflowNode } from '@/lib/workflow/definition';
import { TrellisError, toSerializedError, type ErrorCode, type SerializedError } from '@/lib/workflow/errors';
import type {
  InterfaceAgentArgs,
  InterfaceAgentResult,
  ExpressionScope,
  NodeDefinition,
  NodeResult,
  NodeRunContext,
  NodeServices,
} from '@/lib/nodes/define-node';
import { guardedFetch } from '@/lib/net/guarded-fetch';
import { hostAllowListed } from '@/lib/net/ssrf';
import { idempotencyKey } from '@/lib/nodes/http-request';
import { CostLedger } from '@/lib/agent/ledger';
import { runAgent } from '@/lib/agent/agent-loop';
import { getModelConfig, type ModelConfig } from '@/lib/agent/model-client';
import { DEFAULT_PRICES, type PriceTable } from '@/lib/agent/pricing';
import type { AgentResult, DeterministicTool, FallbackReason, WorkflowToolInfo } from '@/lib/agent/types';
import type { AgentTurn, StepMode, StepRecord, TraceStore } from './trace-store';
import type { WorkflowSource } from './workflow-source';
import type { AgentSpan, TraceSpan } from './tracing';
import { sameValue } from '@/lib/workflow/same-value';
import { inCanary, stageOf } from '@/lib/workflow/rollout';

// Agent mode inside the engine (DESIGN.md §3). The executor hands a step whose node has
// mode "agent" here instead of calling node.run(); this module decides between the agent's answer,
// the deterministic fallback and shadow mode, and stores the agent turns. The loop itself
// (lib/agent) never touches storage; the executor writes the step row with the info returned.

/** Per-run spending cap for all agent steps of one run, in USD. */
export const DEFAULT_RUN_COST_CAP_USD = 1;
export const RUN_COST_CAP_ENV = 'TRELLIS_RUN_COST_CAP_USD';

export function runCostCapFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = env[RUN_COST_CAP_ENV]?.trim();
  if (!raw) return DEFAULT_RUN_COST_CAP_USD;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_RUN_COST_CAP_USD;
}

/** Host-provided agent settings (createEngine({ agent })). */
export interface AgentOptions {
  /**
   * Model endpoint; default: read OPENAI_* from the environment at each step. null: none. A
   * function is asked at each step (the host's reads Settings, the environment winning).
   */
  model?: ModelConfig | null | (() => ModelConfig | null | Promise<ModelConfig | null>);
  /** The user's price table (Settings → model_prices); default lib/agent/pricing's table. */
  prices?: () => PriceTable | Promise<PriceTable>;
  /** Per-run cost cap in USD; default TRELLIS_RUN_COST_CAP_USD, else DEFAULT_RUN_COST_CAP_USD. */
  costCapUsd?: number;
}

/** What the executor writes on the step row besides status/output. */
export interface AgentStepInfo {
  mode: StepMode;
  fallbackReason?: FallbackReason | null;
  shadowOutput?: unknown;
  /** The agent's spend, for a step that fails (a success reports it in its result). */
  tokens?: number;
  cost?: number;
}

/** Kind of the last turn of every agent step: timing the promotion report compares. */
export interface AgentStepSummary {
  mode: StepMode;
  outcome: 'ok' | 'fallback';
  reason?: FallbackReason;
  agentMs: number;
  /** Deterministic run time, when it ran (fallback, shadow). */
  deterministicMs?: number;
  agentTokens: number;
  agentCost: number;
  /** Agent's steps (model calls). */
  modelCalls: number;
}

export interface AgentStepEnv {
  store: TraceStore;
  stepId: string;
  options: AgentOptions;
  workflows?: WorkflowSource;
  /** Secret masking + redaction, as for every other payload of the run. */
  prepare(value: unknown): unknown;
  /** Secret masking only (every encoding): what tool results pass through before the model sees them. */
  mask(value: unknown): unknown;
  /** The root run's cost ledger, shared by every model call of the run and its child runs. */
  ledger: CostLedger;
  /** Model calls and tokens of this step's earlier attempts; this attempt adds its own. */
  usage: { steps: number; tokens: number };
  /** The step attempt's span when tracing is on: agent turns become child spans. */
  span?: TraceSpan;
}

/**
 * The mode a step row starts with: what the node's rollout stage asks for in this run, before the
 * outcome is known. A canary step serves the agent to the runs whose id hashes into its share and
 * shadows the rest (the deterministic arm keeps recording evidence); the arm is a pure function of
 * the run id, so every attempt and every resume of one run takes the same arm.
 */
export function requestedMode(node: WorkflowNode, def: NodeDefinition | undefined, runId: string): StepMode {
  // An interface-agent node replays first and records `healed` only when its agent finished it.
  if (!def?.agentCapable || def.interfaceAgent) return 'workflow';
  const s = stageOf(node);
  if (s.stage === 'workflow') return 'workflow';
  if (s.stage === 'shadow') return 'shadow';
  if (s.stage === 'canary') return inCanary(runId, s.canaryPercent!) ? 'agent' : 'shadow';
  return 'agent';
}

/** The ledger of a root run: resumed runs start from what their recorded steps spent. */
export function newRunLedger(
  options: AgentOptions | undefined,
  recorded: Iterable<StepRecord[]>,
): CostLedger {
  let spentUsd = 0;
  for (const list of recorded) for (const s of list) if (typeof s.cost === 'number') spentUsd += s.cost;
  return new CostLedger(options?.costCapUsd ?? runCostCapFromEnv(), spentUsd);
}

const FAIL_CODES: Record<FallbackReason, ErrorCode> = {
  no_model_configured: 'no_model_configured',
  invalid_output: 'unprocessable',
  max_steps: 'agent_budget_exceeded',
  budget: 'agent_budget_exceeded',
  timeout: 'node_timeout',
  tool_error: 'unprocessable',
  model_error: 'model_error',
};

/** agent.fallback "fail": the step fails with the reason as a value (not retried: it would spend again). */
export class AgentStepFailed extends TrellisError {
  constructor(
    readonly reason: FallbackReason,
    message: string,
  ) {
    super(FAIL_CODES[reason], `Agent step failed (${reason}): ${message}`, {
      details: { fallbackReason: reason },
    });
  }
}

export function branchesOf(def: NodeDefinition, config: Record<string, unknown>): string[] {
  return def.outputs(config).filter((h) => h !== ERROR_HANDLE);
}

/**
 * The JSON Schema the agent's answer must satisfy: the llm step's own outputSchema, a node type's
 * declared one (optional `outputSchema(config)` on the definition), the branch to take for
 * condition/switch, else `{}` (any JSON; text allowed only for an llm step without a schema).
 */
export function agentOutputSchema(
  def: NodeDefinition,
  config: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const own = config.outputSchema;
  if (own && typeof own === 'object' && !Array.isArray(own)) return own as Record<string, unknown>;
  const declared = (
    def as { outputSchema?: (c: Record<string, unknown>) => Record<string, unknown> | undefined }
  ).outputSchema;
  if (typeof declared === 'function') {
    const s = declared(config);
    if (s) return s;
  }
  const branches = branchesOf(def, config);
  if (branches.length > 1) {
    return {
      type: 'object',
      properties: { branch: { enum: branches, description: 'The output handle to take' } },
      required: ['branch'],
    };
  }
  // Any JSON: the step's output feeds expressions downstream, so a chatty text answer is not one.
  // The llm node is the exception: its deterministic output is text unless it declares a schema.
  return def.type === 'llm' ? undefined : {};
}

/** Every string inside a value (keys too): what the model wrote, whatever field a node renders. */
function stringsIn(v: unknown, out: Set<string>, depth = 0): Set<string> {
  if (typeof v === 'string') out.add(v);
  else if (v && typeof v === 'object' && depth < 64) {
    for (const [k, x] of Object.entries(v)) {
      if (!Array.isArray(v)) out.add(k);
      stringsIn(x, out, depth + 1);
    }
  }
  return out;
}

/** Host policy of an http-calling tool: the allow-list, else the step's own configured host only. */
export function toolHostGate(
  allowHosts: string[] | undefined,
  stepHost: string | undefined,
): { hosts: string[] | undefined; check(url: string): string | null } {
  const hosts = allowHosts?.length ? allowHosts : stepHost ? [stepHost] : undefined;
  return {
    hosts,
    check(url) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return `refused: not an absolute URL: ${url.slice(0, 200)}`;
      }
      if (!hosts) return 'refused: this step has no allow-list and no configured host for the agent to call';
      if (hostAllowListed(u, hosts)) return null;
      return allowHosts?.length
        ? `refused ${u.host}: host is not in this node's allowHosts`
        : `refused ${u.host}: host is not this step's configured host (${hosts.join(', ')})`;
    },
  };
}

/**
 * The `self` tool. What the model supplies is data, never a template: its arguments are handed to
 * the node as literal values (render() returns them as they are), and code or expressions it
 * writes run in a scope without secrets or env. Only the step's own saved config is rendered, and
 * with secrets in scope only for types that declare they need them (configSecrets: http auth).
 */
function deterministicTool(
  def: NodeDefinition,
  ctx: NodeRunContext<unknown>,
  gate: ReturnType<typeof toolHostGate>,
): DeterministicTool | undefined {
  if (!def.asTool) return undefined;
  const spec = def.asTool(ctx.config, ctx.node.agent);
  const props = (spec.parameters.properties ?? {}) as Record<string, unknown>;
  // Only the fields the tool exposes take defaults: the rest (allowHosts, size caps) stays the
  // step's own and cannot be overridden by the model.
  const raw = (ctx.node.config ?? {}) as Record<string, unknown>;
  const defaults = Object.fromEntries(Object.entries(raw).filter(([k]) => k in props));
  const full = ctx.scope;
  const configScope: ExpressionScope = spec.configSecrets ? full : { ...full, secrets: {} };
  const modelScope: ExpressionScope = { ...full, env: {}, secrets: {} };
  const base = ctx.services;
  return {
    description: spec.description,
    parameters: spec.parameters,
    defaults,
    // Judged on the arguments: a GET step whose model asks for DELETE is no longer read-only.
    readOnly: (args) => {
      const p = def.config.safeParse({ ...raw, ...args });
      return p.success && !!def.asTool!(p.data, ctx.node.agent).readOnly;
    },
    async run(args, signal) {
      // The loop fills what the model left out with `defaults`: a field equal to the saved one is
      // the step's own config and renders as configured; only what the model changed is its data.
      const exposed = Object.fromEntries(
        Object.entries(args).filter(([k, v]) => k in props && !(k in defaults && sameValue(v, defaults[k]))),
      );
      const parsed = def.config.safeParse({ ...raw, ...exposed });
      if (!parsed.success)
        throw new TrellisError('validation_error', `invalid arguments: ${parsed.error.message}`);
      const data = parsed.data as Record<string, unknown>;
      const suppliedJson = new Set<string>();
      const suppliedStrings = new Set<string>();
      for (const k of Object.keys(exposed)) {
        suppliedJson.add(JSON.stringify(data[k]) ?? 'undefined');
        stringsIn(data[k], suppliedStrings);
      }
      const supplied = (v: unknown) =>
        suppliedJson.has(JSON.stringify(v) ?? 'undefined') ||
        (typeof v === 'string' && suppliedStrings.has(v));
      const services: NodeServices = {
        ...base,
        render: (v, _scope, sig) => (supplied(v) ? Promise.resolve(v) : base.render(v, configScope, sig)),
        evaluate: (e, _scope, sig) => base.evaluate(e, supplied(e) ? modelScope : configScope, sig),
        runCode: (c, _scope, sig) => base.runCode(c, supplied(c) ? modelScope : configScope, sig),
        fetch: (url, init) => {
          const refused = gate.check(url);
          if (refused)
            return Promise.reject(
              new TrellisError('ssrf_blocked', refused, { details: { reason: 'host_not_allowed' } }),
            );
          return (base.fetch ?? guardedFetch)(url, { ...init, pinHosts: gate.hosts });
        },
      };
      const res = await def.run({ ...ctx, config: parsed.data, scope: configScope, services, signal });
      if (res.kind !== 'done')
        throw new TrellisError('unprocessable', `${def.type} cannot wait inside an agent tool`);
      return res.handle && res.handle !== 'out' ? { output: res.output, handle: res.handle } : res.output;
    },
  };
}

async function workflowInfo(
  workflows: WorkflowSource | undefined,
  id: string,
): Promise<WorkflowToolInfo | null> {
  const src = await workflows?.getLatest(id);
  if (!src) return null;
  return {
    name: src.definition.name,
    description: src.definition.description
      ? `Run the workflow "${src.definition.name}": ${src.definition.description}`
      : `Run the workflow "${src.definition.name}"`,
    inputSchema: src.definition.inputSchema,
  };
}

async function resolveModel(opt: AgentOptions['model']): Promise<ModelConfig | null> {
  if (opt === undefined) return getModelConfig();
  return typeof opt === 'function' ? opt() : opt;
}

async function timed<T>(p: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await p();
  return { value, ms: Math.round(performance.now() - t0) };
}

type Done = Extract<NodeResult, { kind: 'done' }>;

export interface AgentStepResult {
  result: NodeResult;
  info: AgentStepInfo;
}

/**
 * Run one attempt of an agent-mode step. Returns the result to record (with the mode actually
 * used), or throws: the deterministic step's own error (fallback/shadow), AgentStepFailed
 * (fallback "fail"), or the run's cancellation. In every case the turns are stored first.
 */
export async function runAgentStep(
  def: NodeDefinition,
  ctx: NodeRunContext<unknown>,
  env: AgentStepEnv,
  mode: 'agent' | 'shadow',
  onInfo: (info: AgentStepInfo) => void,
): Promise<NodeResult> {
  const settings = agentSettingsSchema.parse(ctx.node.agent ?? {});
  const config = ctx.config as Record<string, unknown>;
  const outputSchema = agentOutputSchema(def, config);
  const branches = branchesOf(def, config);
  const branching = branches.length > 1 && outputSchema?.properties !== undefined && !config.outputSchema;
  const prices = (await env.options.prices?.()) ?? DEFAULT_PRICES;
  const services: NodeServices = ctx.services;
  const raw = (ctx.node.config ?? {}) as Record<string, unknown>;
  // The step's own URL (rendered from its saved config) names the one host an agent may call
  // when no allow-list is set.
  let stepHost: string | undefined;
  if (typeof raw.url === 'string') {
    try {
      stepHost = new URL(String(await services.render(raw.url, ctx.scope, ctx.signal))).host || undefined;
    } catch {
      stepHost = undefined;
    }
  }
  const allowList =
    settings.allowHosts ?? (Array.isArray(raw.allowHosts) ? (raw.allowHosts as string[]) : undefined);
  const gate = toolHostGate(allowList, stepHost);

  // The agent's span stays open in shadow mode until the comparison is known (its evaluation event).
  let agentSpan: AgentSpan | undefined;
  const endAgentSpan = (res: AgentResult | null, error?: unknown) => {
    agentSpan?.end(
      res
        ? {
            status: res.outcome === 'ok' ? 'succeeded' : 'fallback',
            fallbackReason: res.outcome === 'fallback' ? res.reason : null,
          }
        : { status: 'failed', error: env.prepare(toSerializedError(error)) as SerializedError },
    );
    agentSpan = undefined;
  };

  const agentOnce = async (signal: AbortSignal, shadow: boolean) => {
    const seen: AgentTurn[] = [];
    agentSpan = env.span?.agent({
      nodeId: ctx.node.id,
      nodeType: def.type,
      mode: shadow ? 'shadow' : 'agent',
      shadow,
    });
    const model = await resolveModel(env.options.model);
    try {
      const out = await timed(() =>
        runAgent({
          node: ctx.node,
          input: ctx.input,
          deterministicTool: deterministicTool(def, ctx, gate),
          outputSchema,
          signal,
          shadow,
          model,
          prices,
          ledger: env.ledger,
          prior: { ...env.usage },
          mask: env.mask,
          // The step's effect, as http.request names it: the agent's http calls get keys from it.
          effectKey: idempotencyKey(
            ctx.effect?.runId ?? ctx.runId,
            ctx.node.id,
            ctx.itemIndex,
            ctx.effect?.frame,
          ),
          ...(stepHost ? { stepHost } : {}),
          resolveWorkflow: (id) => workflowInfo(env.workflows, id),
          runChild: services.runChild,
          ...(services.fetch ? { fetch: services.fetch } : {}),
          redact: env.prepare,
          onTurn: (t) => {
            seen.push(t);
            agentSpan?.turn(t);
          },
        }),
      );
      if (!shadow) endAgentSpan(out.value);
      return out;
    } catch (err) {
      endAgentSpan(null, err);
      // Cancelled (or stopped because the shadowed deterministic step failed): keep what happened.
      if (seen.length) await env.store.appendAgentTurns(env.stepId, seen).catch(() => {});
      throw err;
    }
  };

  const store = async (res: AgentResult, summary: AgentStepSummary) => {
    env.usage.steps += res.steps;
    env.usage.tokens += res.tokens;
    const turns: AgentTurn[] = [...res.turns, { seq: res.turns.length, kind: 'note', payload: { summary } }];
    await env.store.appendAgentTurns(env.stepId, turns);
  };

  const summaryOf = (
    res: AgentResult,
    mode: StepMode,
    agentMs: number,
    deterministicMs?: number,
  ): AgentStepSummary => ({
    mode,
    outcome: res.outcome,
    ...(res.outcome === 'fallback' ? { reason: res.reason } : {}),
    agentMs,
    ...(deterministicMs === undefined ? {} : { deterministicMs }),
    agentTokens: res.tokens,
    agentCost: res.cost,
    modelCalls: res.steps,
  });

  const spend = (r: AgentResult) => ({ tokens: r.tokens, cost: r.cost });
  const withAgentSpend = (r: NodeResult, res: AgentResult): NodeResult =>
    r.kind === 'done' ? { ...r, tokens: (r.tokens ?? 0) + res.tokens, cost: (r.cost ?? 0) + res.cost } : r;

  if (mode === 'shadow') {
    // Both run side by side; the deterministic output is the step's. If it fails, the agent is
    // stopped (nothing to compare) and its turns so far are still stored.
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    const agentSignal = AbortSignal.any([ctx.signal, stop.signal]);
    const agentP = agentOnce(agentSignal, true).then(
      (v) => ({ ok: true as const, ...v }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    let det: { value: NodeResult; ms: number };
    try {
      det = await timed(() => def.run(ctx));
    } catch (err) {
      stop.abort(err);
      const partial = await agentP;
      if (partial.ok) endAgentSpan(partial.value);
      if (partial.ok) await store(partial.value, summaryOf(partial.value, 'shadow', partial.ms));
      onInfo({ mode: 'shadow', ...(partial.ok ? spend(partial.value) : {}) });
      throw err;
    }
    const a = await agentP;
    if (!a.ok) throw a.error; // run cancelled
    const res = a.value;
    const shadowOutput = res.outcome === 'ok' ? res.output : undefined;
    if (res.outcome === 'ok') {
      const d = det.value;
      const expected = branching && d.kind === 'done' ? { branch: d.handle ?? 'out' } : (d as Done).output;
      const match = d.kind === 'done' && sameValue(expected, shadowOutput);
      agentSpan?.evaluation({
        name: 'shadow_agreement',
        score: match ? 1 : 0,
        label: match ? 'match' : 'mismatch',
      });
    }
    endAgentSpan(res);
    const info: AgentStepInfo = {
      mode: 'shadow',
      fallbackReason: res.outcome === 'fallback' ? res.reason : null,
      ...(shadowOutput === undefined ? {} : { shadowOutput: env.prepare(shadowOutput) }),
    };
    await store(res, summaryOf(res, 'shadow', a.ms, det.ms));
    onInfo(info);
    return withAgentSpend(det.value, res);
  }

  const a = await agentOnce(ctx.signal, false);
  const res = a.value;
  if (res.outcome === 'ok') {
    await store(res, summaryOf(res, 'agent', a.ms));
    onInfo({ mode: 'agent' });
    const out: Done = branching
      ? { kind: 'done', output: ctx.input, handle: String((res.output as { branch: string }).branch) }
      : { kind: 'done', output: res.output };
    return withAgentSpend(out, res);
  }
  if (settings.fallback === 'fail') {
    await store(res, summaryOf(res, 'agent', a.ms));
    onInfo({ mode: 'agent', fallbackReason: res.reason, ...spend(res) });
    throw new AgentStepFailed(res.reason, res.message);
  }
  onInfo({ mode: 'fallback', fallbackReason: res.reason, ...spend(res) });
  let det: { value: NodeResult; ms: number };
  try {
    det = await timed(() => def.run(ctx));
  } catch (err) {
    await store(res, summaryOf(res, 'fallback', a.ms));
    throw err;
  }
  await store(res, summaryOf(res, 'fallback', a.ms, det.ms));
  return withAgentSpend(det.value, res);
}

/**
 * services.interfaceAgent: the node's own tools (browser observe/act/extract) in the agent loop,
 * under the step's agent settings (budgets, model, timeout) and the run's cost ledger. The goal
 * replaces the instructions only when the step has none; agent.tools do not apply (the node's
 * tools are the whole interface). Turns are stored on the step like an agent step's.
 */
export async function runInterfaceAgent(
  node: WorkflowNode,
  args: InterfaceAgentArgs,
  env: AgentStepEnv,
): Promise<InterfaceAgentResult> {
  const settings = agentSettingsSchema.parse(node.agent ?? {});
  const prices = (await env.options.prices?.()) ?? DEFAULT_PRICES;
  const seen: AgentTurn[] = [];
  const t0 = performance.now();
  let res: AgentResult;
  try {
    res = await runAgent({
      node: {
        ...node,
        agent: { ...settings, instructions: settings.instructions || args.goal, tools: [], shadow: false },
      },
      input: args.context,
      extraTools: args.tools,
      outputSchema: args.outputSchema,
      signal: args.signal,
      model: await resolveModel(env.options.model),
      prices,
      ledger: env.ledger,
      prior: { ...env.usage },
      mask: env.mask,
      redact: env.prepare,
      onTurn: (t) => void seen.push(t),
    });
  } catch (err) {
    if (seen.length) await env.store.appendAgentTurns(env.stepId, seen).catch(() => {});
    throw err;
  }
  env.usage.steps += res.steps;
  env.usage.tokens += res.tokens;
  const summary: AgentStepSummary = {
    mode: res.outcome === 'ok' ? 'healed' : 'workflow',
    outcome: res.outcome,
    ...(res.outcome === 'fallback' ? { reason: res.reason } : {}),
    agentMs: Math.round(performance.now() - t0),
    agentTokens: res.tokens,
    agentCost: res.cost,
    modelCalls: res.steps,
  };
  await env.store.appendAgentTurns(env.stepId, [
    ...res.turns,
    { seq: res.turns.length, kind: 'note', payload: { summary } },
  ]);
  return {
    outcome: res.outcome,
    ...(res.outcome === 'ok' ? { output: res.output } : { reason: res.reason, message: res.message }),
    tokens: res.tokens,
    cost: res.cost,
    modelCalls: res.steps,
  };
}
