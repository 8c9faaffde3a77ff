import type { WorkflowNode } from '@/lib/workflow/definition';
import { TrellisError } from '@/lib/workflow/errors';
import type { NodeDefinition, NodeServices } from '@/lib/nodes/define-node';
import { runAgent } from '@/lib/agent/agent-loop';
import type { CostLedger } from '@/lib/agent/ledger';
import type { ModelConfig } from '@/lib/agent/model-client';
import type { PriceTable } from '@/lib/agent/pricing';
import type { DeterministicTool, WorkflowToolInfo } from '@/lib/agent/types';
import { agentOutputSchema, branchesOf, toolHostGate } from '@/lib/engine/agent-step';
import { createReplay, NOT_RECORDED, selfDefaults } from './replay';
import type { Candidate, CandidateResult } from './runner';
import type { ToolPolicy } from './spec';

// The agent as a backtest candidate: the real agent loop (lib/agent, the openai SDK) on a
// recorded input, with every tool answered by the replay hook. Nothing the agent asks for leaves
// the process unless the policy is `read_only`, the tool is read-only, and the host handed in
// live services.

export interface AgentCandidateOptions {
  def: NodeDefinition;
  /** The node as replayed: its agent settings (with any overrides) and its saved config. */
  node: WorkflowNode;
  model: ModelConfig | null;
  prices?: PriceTable;
  /** The backtest's budget: every model call reserves its worst case here first. */
  budget: CostLedger;
  tools: ToolPolicy;
  resolveWorkflow?: (workflowId: string) => Promise<WorkflowToolInfo | null>;
  /** Services that really run a read-only tool under the `read_only` policy; without them it is refused. */
  live?: NodeServices;
}

const notRecorded = (what: string) =>
  new TrellisError('unprocessable', `${NOT_RECORDED}: ${what} does not run during a backtest`, {
    details: { reason: NOT_RECORDED },
  });

/** Whether the node's answer is a branch choice (condition/switch): the label is then `{ branch }`. */
export function isBranching(def: NodeDefinition, config: Record<string, unknown>): boolean {
  return branchesOf(def, config).length > 1 && !config.outputSchema;
}

/** The label a recorded deterministic step gives: its output, or the branch it took. */
export function expectedAnswer(
  def: NodeDefinition,
  config: Record<string, unknown>,
  output: unknown,
  handle: string | null,
): unknown {
  return isBranching(def, config) ? { branch: handle ?? 'out' } : output;
}

/** The `self` tool for one case; its schema and host gate are built once per backtest. */
function selfToolFactory(o: AgentCandidateOptions): ((input: unknown) => DeterministicTool) | undefined {
  const { def, node } = o;
  if (!def.asTool) return undefined;
  const spec = def.asTool(node.config as never, node.agent);
  const raw = (node.config ?? {}) as Record<string, unknown>;
  const defaults = selfDefaults(def, node) ?? undefined;
  const live = o.live;
  let stepHost: string | undefined;
  try {
    stepHost = typeof raw.url === 'string' ? new URL(raw.url).host || undefined : undefined;
  } catch {
    stepHost = undefined; // a templated URL: no host is pinned, the allow-list alone decides
  }
  const allow =
    node.agent?.allowHosts ?? (Array.isArray(raw.allowHosts) ? (raw.allowHosts as string[]) : undefined);
  const gate = toolHostGate(allow, stepHost);
  return (input) => ({
    description: spec.description,
    parameters: spec.parameters,
    defaults,
    readOnly: !!spec.readOnly,
    async run(args, signal) {
      if (!live) throw notRecorded('this tool');
      const parsed = def.config.safeParse({ ...raw, ...args });
      if (!parsed.success) throw new TrellisError('validation_error', parsed.error.message);
      // The model's arguments and the saved config render without secrets or env.
      const scope = { input, steps: {}, env: {}, secrets: {} };
      const services: NodeServices = {
        ...live,
        fetch: (url, init) => {
          const refused = gate.check(url);
          if (refused) return Promise.reject(new TrellisError('ssrf_blocked', refused));
          if (!live.fetch) return Promise.reject(notRecorded('fetch'));
          return live.fetch(url, { ...init, pinHosts: gate.hosts });
        },
      };
      const res = await def.run({
        runId: 'backtest',
        node,
        config: parsed.data,
        input,
        scope,
        signal,
        attempt: 1,
        clock: { now: () => Date.now(), sleep: () => Promise.reject(notRecorded('a wait')) },
        services,
      });
      if (res.kind !== 'done') throw notRecorded('a waiting step');
      return res.handle && res.handle !== 'out' ? { output: res.output, handle: res.handle } : res.output;
    },
  });
}

export function agentCandidate(o: AgentCandidateOptions): Candidate {
  const config = (o.node.config ?? {}) as Record<string, unknown>;
  const outputSchema = agentOutputSchema(o.def, config);
  const policy: ToolPolicy = o.live ? o.tools : 'refuse';
  const selfTool = selfToolFactory(o);
  return async (c, signal): Promise<CandidateResult> => {
    let refusedCalls = 0;
    const res = await runAgent({
      node: o.node,
      input: c.input,
      ...(selfTool ? { deterministicTool: selfTool(c.input) } : {}),
      outputSchema,
      signal,
      // Shadow refuses any tool with a side effect that the replay would let through.
      shadow: true,
      model: o.model,
      ...(o.prices ? { prices: o.prices } : {}),
      ledger: o.budget,
      replay: createReplay(c.recorded, policy, () => refusedCalls++),
      ...(o.resolveWorkflow ? { resolveWorkflow: o.resolveWorkflow } : {}),
      runChild: () => Promise.reject(notRecorded('a child run')),
      fetch: (url, init) =>
        o.live?.fetch ? o.live.fetch(url, init) : Promise.reject(notRecorded('an http request')),
    });
    let modelMs = 0;
    for (const t of res.turns) if (t.kind === 'response') modelMs += t.latencyMs ?? 0;
    const spend = { tokens: res.tokens, cost: res.cost, modelMs, turns: res.steps, refusedCalls };
    return res.outcome === 'ok'
      ? { outcome: 'ok', output: res.output, ...spend }
      : { outcome: 'fallback', reason: res.reason, message: res.message, ...spend };
  };
}
