import { agentToolName } from '@/lib/agent/agent-loop';
import type { NodeServices } from '@/lib/nodes/define-node';
import type { WorkflowDefinition, WorkflowEdge, WorkflowNode } from '@/lib/workflow/definition';
import { TrellisError } from '@/lib/workflow/errors';
import { stableJson } from '@/lib/workflow/same-value';
import { NOT_RECORDED, type RecordedCall } from './replay';
import type { BacktestCase, Candidate } from './runner';

// Graduating a fixed sequence of tool calls (issue 16 §5): when an agent step's recorded runs show
// the same tools called in the same order, with arguments that are a function of the step's input
// and of earlier tool results, the step can become a chain of deterministic nodes — one per tool
// call (`workflow:<id>` → subworkflow, `http` → http.request, `self` → the step's own type), each
// with its arguments as {{ expressions }}, then a transform for the final output. This file is
// pure: it detects the sequence, derives the templates from the recorded values, builds the
// nodes, and replays the chain as a backtest candidate with every tool answered from the trace.

/** Share of the cases that must show the identical sequence of tools before a chain is derived. */
export const CHAIN_MIN_SAME_SEQUENCE = 0.95;
/** Tool calls one chain may hold. */
export const MAX_CHAIN_CALLS = 8;
/** Paths of one source (input or a tool result) tried as the origin of a value. */
export const MAX_SOURCE_PATHS = 500;

export type ChainReason =
  | 'no_tool_calls'
  | 'varying_sequence'
  | 'too_many_calls'
  | 'unknown_tool'
  | 'not_single_input'
  | 'arguments_not_derived'
  | 'output_not_derived';

/** One tool call of the chain: the agent's tool, its arguments as a template, and its node's id. */
export interface ChainCall {
  id: string;
  /** The tool as written in agent.tools: self, http, workflow:<id>. */
  tool: string;
  args: unknown;
}

export interface ChainPlan {
  /** The agent step's one upstream node: `steps.<it>.output` is the step's input in the templates. */
  source: string;
  calls: ChainCall[];
  /** The final transform's value (it keeps the agent step's id, so downstream edges stay). */
  output: unknown;
}

/** A recorded case of an agent-mode step: its input, the agent's output, its tool calls in order. */
export interface ChainCase extends BacktestCase {
  calls: RecordedCall[];
}

type Derived<T> = { ok: true; value: T } | { ok: false; reason: ChainReason; message: string };

// ---------------------------------------------------------------------------------------------
// Deriving templates from recorded values

type Path = (string | number)[];
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `root.a["b-c"][0]` */
export function pathExpression(root: string, path: Path): string {
  return (
    root +
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : IDENT.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
      .join('')
  );
}

const stepRef = (id: string) =>
  IDENT.test(id) ? `steps.${id}.output` : `steps[${JSON.stringify(id)}].output`;

/** Every path in a value (the value itself first), breadth-first, at most MAX_SOURCE_PATHS. */
function pathsOf(v: unknown): Path[] {
  const out: Path[] = [];
  const queue: { v: unknown; p: Path }[] = [{ v, p: [] }];
  while (queue.length && out.length < MAX_SOURCE_PATHS) {
    const { v: x, p } = queue.shift()!;
    out.push(p);
    if (Array.isArray(x)) x.forEach((y, i) => queue.push({ v: y, p: [...p, i] }));
    else if (x && typeof x === 'object')
      for (const [k, y] of Object.entries(x as Record<string, unknown>)) queue.push({ v: y, p: [...p, k] });
  }
  return out;
}

function at(v: unknown, path: Path): unknown {
  let x = v;
  for (const p of path) {
    if (x === null || typeof x !== 'object') return undefined;
    x = (x as Record<string | number, unknown>)[p];
  }
  return x;
}

/** Where a value can come from, per case: a root expression and that root's value in each case. */
interface Source {
  root: string;
  values: unknown[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * A template that yields `values[i]` in every case i from the sources: a constant when it never
 * changes, else a source path holding it in every case, else per field (objects with the same
 * keys), else null.
 */
function deriveTemplate(values: unknown[], sources: Source[]): unknown | null {
  const first = stableJson(values[0]);
  const constant = values.every((v) => stableJson(v) === first);
  // A constant string that looks like a template would be rendered: it is not a constant.
  if (constant && !(typeof values[0] === 'string' && values[0].includes('{{'))) return values[0];
  for (const s of sources) {
    for (const path of pathsOf(s.values[0])) {
      if (values.every((v, i) => stableJson(at(s.values[i], path)) === stableJson(v)))
        return `{{ ${pathExpression(s.root, path)} }}`;
    }
  }
  if (values.every(isObject)) {
    const keys = Object.keys(values[0] as object).sort();
    if (!values.every((v) => stableJson(Object.keys(v as object).sort()) === stableJson(keys))) return null;
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const t = deriveTemplate(
        values.map((v) => (v as Record<string, unknown>)[k]),
        sources,
      );
      if (t === null) return null;
      out[k] = t;
    }
    return out;
  }
  return null;
}

/** The sequence of tool names a case shows. */
export const sequenceOf = (c: Pick<ChainCase, 'calls'>) => c.calls.map((x) => x.name);

/** The agent's tool refs by the function names the model saw (agent-loop's naming). */
function toolsByName(node: WorkflowNode): Map<string, string> {
  return new Map((node.agent?.tools ?? []).map((ref) => [agentToolName(ref), ref]));
}

/** The step's one upstream node (a chain replaces it, so later calls read its input from there). */
export function singleSource(def: WorkflowDefinition, nodeId: string): string | null {
  const incoming = def.edges.filter((e) => e.target === nodeId);
  return incoming.length === 1 ? incoming[0].source : null;
}

/** Ids for the chain's nodes: `<step>_<n>`, skipping any the workflow already has. */
function chainIds(def: WorkflowDefinition, nodeId: string, n: number): string[] {
  const taken = new Set(def.nodes.map((x) => x.id));
  const ids: string[] = [];
  for (let i = 1; ids.length < n; i++) {
    const id = `${nodeId}_${i}`;
    if (!taken.has(id)) ids.push(id);
  }
  return ids;
}

/**
 * Detect the fixed sequence and derive the chain from the cases. The cases that show the common
 * sequence are the evidence; the others are left to the backtest (they will disagree).
 */
export function deriveChain(args: {
  cases: ChainCase[];
  node: WorkflowNode;
  definition: WorkflowDefinition;
}): Derived<ChainPlan> & { sameSequence: number; sequence: string[] } {
  const { cases, node, definition } = args;
  const bySeq = new Map<string, ChainCase[]>();
  for (const c of cases) {
    const key = JSON.stringify(sequenceOf(c));
    bySeq.set(key, [...(bySeq.get(key) ?? []), c]);
  }
  const [seqKey, same] = [...bySeq.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? ['[]', []];
  const sequence = JSON.parse(seqKey) as string[];
  const share = cases.length ? same.length / cases.length : 0;
  const base = { sameSequence: share, sequence };
  const fail = (reason: ChainReason, message: string) => ({ ok: false as const, reason, message, ...base });
  if (!sequence.length) return fail('no_tool_calls', 'The recorded runs call no tools');
  if (share < CHAIN_MIN_SAME_SEQUENCE)
    return fail(
      'varying_sequence',
      `The tool sequence varies: the most common one (${sequence.join(' → ')}) is in ${same.length} of ${cases.length} cases, below ${Math.round(CHAIN_MIN_SAME_SEQUENCE * 100)}%`,
    );
  if (sequence.length > MAX_CHAIN_CALLS)
    return fail('too_many_calls', `${sequence.length} tool calls; a chain holds at most ${MAX_CHAIN_CALLS}`);
  const refs = toolsByName(node);
  const unknown = sequence.find((n) => !refs.has(n));
  if (unknown) return fail('unknown_tool', `The tool ${unknown} is not one of the step's tools`);
  const source = singleSource(definition, node.id);
  if (!source)
    return fail('not_single_input', `Step ${node.id} has several (or no) incoming edges; a chain needs one`);
  const ids = chainIds(definition, node.id, sequence.length);
  const inputs = same.map((c) => c.input);
  const calls: ChainCall[] = [];
  for (let k = 0; k < sequence.length; k++) {
    // Earlier results first: a value a tool returned explains a later argument better than a
    // coincidence in the input.
    const sources: Source[] = [
      ...ids.slice(0, k).map((id, j) => ({ root: stepRef(id), values: same.map((c) => c.calls[j].result) })),
      // `input` in a template is the run's input; the step's own input is its upstream's output.
      { root: stepRef(source), values: inputs },
    ];
    const t = deriveTemplate(
      same.map((c) => c.calls[k].args),
      sources,
    );
    if (t === null)
      return fail(
        'arguments_not_derived',
        `The arguments of call ${k + 1} (${sequence[k]}) are not a function of the input and earlier results`,
      );
    calls.push({ id: ids[k], tool: refs.get(sequence[k])!, args: t });
  }
  const output = deriveTemplate(
    same.map((c) => c.expected),
    [
      ...ids.map((id, j) => ({ root: stepRef(id), values: same.map((c) => c.calls[j].result) })),
      { root: stepRef(source), values: inputs },
    ],
  );
  if (output === null)
    return fail('output_not_derived', 'The final output is not a function of the input and the tool results');
  return { ok: true, value: { source, calls, output }, ...base };
}

// ---------------------------------------------------------------------------------------------
// The chain as nodes, and as a backtest candidate

/** The node one tool call becomes, with its arguments as the config's templates. */
export function callNode(
  step: WorkflowNode,
  call: ChainCall,
  position: WorkflowNode['position'],
): WorkflowNode {
  const common = { id: call.id, position, mode: 'workflow' as const, expressionLanguage: 'js' as const };
  if (call.tool.startsWith('workflow:'))
    return {
      ...common,
      type: 'subworkflow',
      config: { workflowId: call.tool.slice('workflow:'.length), input: call.args },
    };
  if (call.tool === 'http') {
    const allowHosts = step.agent?.allowHosts;
    return {
      ...common,
      type: 'http.request',
      config: { ...(isObject(call.args) ? call.args : {}), ...(allowHosts?.length ? { allowHosts } : {}) },
    };
  }
  if (call.tool === 'self')
    return {
      ...common,
      type: step.type,
      config: { ...(step.config ?? {}), ...(isObject(call.args) ? call.args : {}) },
    };
  throw new TrellisError('validation_error', `Tool ${call.tool} has no deterministic node`);
}

/** Spacing of the inserted nodes on the canvas. */
const CHAIN_STEP_X = 240;

/**
 * The definition with the step replaced by the chain: upstream → call nodes in order → the
 * transform (the step's id, name and position), whose outgoing edges are the step's.
 */
export function applyChain(def: WorkflowDefinition, nodeId: string, plan: ChainPlan): WorkflowDefinition {
  const index = def.nodes.findIndex((n) => n.id === nodeId);
  const step = def.nodes[index];
  const incoming = def.edges.find((e) => e.target === nodeId)!;
  const callNodes = plan.calls.map((c, k) =>
    callNode(step, c, { x: step.position.x + (k - plan.calls.length) * CHAIN_STEP_X, y: step.position.y }),
  );
  const output: WorkflowNode = {
    id: step.id,
    type: 'transform',
    ...(step.name ? { name: step.name } : {}),
    position: step.position,
    config: { value: plan.output },
    mode: 'workflow',
    expressionLanguage: 'js',
    ...(step.notes ? { notes: step.notes } : {}),
  };
  const nodes = def.nodes.slice();
  nodes.splice(index, 1, ...callNodes, output);
  const order = [...callNodes.map((n) => n.id), step.id];
  const edges: WorkflowEdge[] = def.edges.map((e) => (e === incoming ? { ...e, target: order[0] } : e));
  for (let k = 1; k < order.length; k++)
    edges.push({ id: `${order[k - 1]}-${order[k]}`, source: order[k - 1], target: order[k] });
  return { ...def, nodes, edges };
}

/**
 * The chain replayed on one case: each call's arguments rendered in the scope the engine would
 * give its node, answered from the case's recorded calls (same tool, same arguments) or refused
 * `not_recorded`; then the output template. Only the sandbox renders; nothing leaves the process.
 */
export function chainCandidate(args: {
  plan: ChainPlan;
  node: WorkflowNode;
  render: NodeServices['render'];
}): Candidate {
  const { plan } = args;
  const names = plan.calls.map((c) => agentToolName(c.tool));
  return async (c, signal) => {
    const recorded = (c as ChainCase).calls ?? c.recorded;
    const steps: Record<string, { output: unknown }> = { [plan.source]: { output: c.input } };
    let input = c.input;
    const scope = () => ({ input, steps, env: {}, secrets: {} });
    for (let k = 0; k < plan.calls.length; k++) {
      const call = plan.calls[k];
      const rendered = await args.render(call.args, scope(), signal);
      const key = stableJson(rendered);
      const hit = recorded.find((r) => r.name === names[k] && stableJson(r.args) === key);
      if (!hit || 'error' in hit)
        throw new TrellisError(
          'unprocessable',
          hit
            ? `${call.id}: the recorded ${names[k]} call failed`
            : `${NOT_RECORDED}: the recorded run has no ${names[k]} call with ${key.slice(0, 200)}`,
          { details: { reason: NOT_RECORDED } },
        );
      steps[call.id] = { output: hit.result };
      input = hit.result;
    }
    const output = await args.render(plan.output, scope(), signal);
    return { outcome: 'ok', output, tokens: 0, cost: 0, modelMs: 0, turns: 0, refusedCalls: 0 };
  };
}
