import type { WorkflowNode } from '@/lib/workflow/definition';
import type { AgentTurn } from '@/lib/workflow/trace';
import { stableJson } from '@/lib/workflow/same-value';
import type { ReplayAnswer, ReplayCall } from '@/lib/agent/types';
import type { NodeDefinition } from '@/lib/nodes/define-node';
import type { ToolPolicy } from './spec';

// Side-effect-free replay (issue 16 §1): during a backtest every tool call is answered from what
// the recorded run shows for the same node and the same arguments, or refused with
// `not_recorded`. Two sources of recordings per case: the step's own deterministic output (the
// `self` tool called with the step's saved config) and the tool calls agent turns recorded in
// that step (shadow or agent mode).

export const NOT_RECORDED = 'not_recorded';

/** One recorded tool call: the function name the model used, merged arguments, what came back. */
export interface RecordedCall {
  name: string;
  args: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** The `self` tool's defaults: the saved config's fields the tool exposes (agent-step.ts does the same). */
export function selfDefaults(def: NodeDefinition, node: WorkflowNode): Record<string, unknown> | null {
  if (!def.asTool) return null;
  const spec = def.asTool(node.config as never, node.agent);
  const props = (spec.parameters.properties ?? {}) as Record<string, unknown>;
  const raw = (node.config ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(raw).filter(([k]) => k in props));
}

/** What the `self` tool returns for a deterministic result (agent-step.ts: output, or output + handle). */
export function selfResult(output: unknown, handle: string | null): unknown {
  return handle && handle !== 'out' ? { output, handle } : output;
}

/**
 * The recordings of one recorded step: `self` with the step's own config answered by its
 * deterministic output, plus every executed tool call in its agent turns (refusals and replays
 * are not answers, so they are left out).
 */
export function recordedCalls(args: {
  def: NodeDefinition;
  /** The node as it was in the recorded run's version. */
  node: WorkflowNode;
  output: unknown;
  handle: string | null;
  turns: Pick<AgentTurn, 'kind' | 'payload'>[];
}): RecordedCall[] {
  const out: RecordedCall[] = [];
  const defaults = selfDefaults(args.def, args.node);
  if (defaults) out.push({ name: 'self', args: defaults, result: selfResult(args.output, args.handle) });
  return [...out, ...executedCalls(args.turns, defaults)];
}

/** The tool calls an agent's turns executed, in the order they answered (refusals and replays left out). */
export function executedCalls(
  turns: Pick<AgentTurn, 'kind' | 'payload'>[],
  /** The `self` tool's defaults, merged under the arguments the model gave it. */
  selfArgs: Record<string, unknown> | null,
): RecordedCall[] {
  const out: RecordedCall[] = [];
  const calls = new Map<string, { name: string; args: Record<string, unknown> }>();
  for (const t of turns) {
    const p = t.payload as Record<string, unknown> | null;
    if (!isObject(p) || typeof p.id !== 'string' || typeof p.name !== 'string') continue;
    if (t.kind === 'tool_call') {
      let parsed: unknown;
      try {
        parsed = typeof p.arguments === 'string' && p.arguments.trim() ? JSON.parse(p.arguments) : {};
      } catch {
        continue;
      }
      if (!isObject(parsed)) continue;
      const merged = p.name === 'self' && selfArgs ? { ...selfArgs, ...parsed } : parsed;
      calls.set(p.id, { name: p.name, args: merged });
    } else if (t.kind === 'tool_result' && !('target' in p) && !p.replayed) {
      const call = calls.get(p.id);
      if (!call) continue;
      out.push('error' in p ? { ...call, error: p.error } : { ...call, result: p.result });
    }
  }
  return out;
}

const keyOf = (name: string, args: Record<string, unknown>) => `${name}\u0000${stableJson(args)}`;

/** The replay hook for runAgent: recorded answer, else `run` (read-only under that policy), else refused. */
export function createReplay(
  recorded: RecordedCall[],
  policy: ToolPolicy,
  onRefused?: (call: ReplayCall) => void,
): (call: ReplayCall) => ReplayAnswer {
  const index = new Map<string, RecordedCall>();
  for (const r of recorded) index.set(keyOf(r.name, r.args), r);
  return (call) => {
    const hit = index.get(keyOf(call.name, call.args));
    if (hit)
      return 'error' in hit
        ? { kind: 'recorded', error: hit.error }
        : { kind: 'recorded', result: hit.result };
    if (policy === 'read_only' && call.readOnly) return { kind: 'run' };
    onRefused?.(call);
    return {
      kind: 'refused',
      reason: NOT_RECORDED,
      message: `${NOT_RECORDED}: backtests replay recorded tool results only, and the recorded run has no ${call.name} call with these arguments`,
    };
  };
}
