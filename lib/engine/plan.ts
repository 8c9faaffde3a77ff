import type { RetryPolicy, WorkflowEdge, WorkflowNode } from '@/lib/workflow/definition';
import { ValidationError, type SerializedError } from '@/lib/workflow/errors';
import {
  buildGraph,
  downstreamOf as downstreamIn,
  edgeTakes,
  roots as rootsOf,
  topologicalOrder,
} from '@/lib/workflow/graph';
import { executableOutputOf, type StepRecord } from './trace-store';

// The pure core of the scheduler (STYLE.md §2): from a graph and the state of its nodes, decide
// which nodes start and which are skipped. No I/O, no clocks; executor.ts applies the decisions.
// State is keyed by node id and rebuilt from recorded steps, so resume never depends on the
// order in which things happened to run.

export interface CompiledGraph {
  nodes: Map<string, WorkflowNode>;
  /** Topological order (Kahn, ties in definition order). */
  order: string[];
  incoming: Map<string, WorkflowEdge[]>;
  outgoing: Map<string, WorkflowEdge[]>;
  roots: string[];
}

export type NodeStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'waiting';

export interface NodeState {
  status: NodeStatus;
  output?: unknown;
  /** Handle the node continued on; `out` unless the node chose another (condition, switch, error). */
  handle?: string | null;
  error?: SerializedError | null;
  attempt?: number;
  stepId?: string;
  /** Completion order, so `merge` in `any` mode knows which input arrived first. */
  seq?: number;
}

export type GraphState = ReadonlyMap<string, NodeState>;

type Body = { nodes: WorkflowNode[]; edges: WorkflowEdge[] | unknown[] };

export function compileGraph(def: Body): CompiledGraph {
  const nodes = new Map(def.nodes.map((n) => [n.id, n]));
  // Dangling edges are a validation problem; the graph library ignores them.
  const g = buildGraph(def.nodes, def.edges as WorkflowEdge[]);
  const { order, blocked } = topologicalOrder(g);
  if (blocked.length) {
    throw new ValidationError([
      { path: '/edges', code: 'cycle', message: `cycle through ${blocked.join(', ')}` },
    ]);
  }
  return { nodes, order, incoming: g.incoming, outgoing: g.outgoing, roots: rootsOf(g) };
}

/**
 * Roots that start for a run: the trigger node that started it when one is recorded (a workflow
 * may have several schedule or webhook triggers, each firing only its own branch); else the
 * trigger nodes of the run's kind if any; else every root.
 */
export function selectRoots(
  graph: CompiledGraph,
  trigger: string | undefined,
  triggerNodeId?: string | null,
): Set<string> | null {
  if (triggerNodeId && graph.roots.includes(triggerNodeId)) return new Set([triggerNodeId]);
  if (!trigger) return null;
  const wanted = trigger.startsWith('trigger.') ? trigger : `trigger.${trigger}`;
  const match = graph.roots.filter((id) => graph.nodes.get(id)!.type === wanted);
  return match.length ? new Set(match) : null;
}

/** The one trigger node of a kind, if the definition has exactly one (recorded on the run). */
export function soleTriggerNode(
  def: { nodes: { id: string; type: string }[] },
  trigger: string | undefined,
): string | null {
  if (!trigger) return null;
  const wanted = trigger.startsWith('trigger.') ? trigger : `trigger.${trigger}`;
  const match = def.nodes.filter((n) => n.type === wanted);
  return match.length === 1 ? match[0].id : null;
}

export type EdgeActivity = 'active' | 'inactive' | 'pending';

function edgeActivity(edge: WorkflowEdge, status: (id: string) => NodeState | undefined): EdgeActivity {
  const src = status(edge.source);
  if (!src) return 'pending';
  if (src.status === 'skipped') return 'inactive';
  if (src.status !== 'succeeded') return 'pending';
  return edgeTakes(edge, src.handle) ? 'active' : 'inactive';
}

const isIdleRoot = (graph: CompiledGraph, id: string, roots: ReadonlySet<string>) =>
  graph.incoming.get(id)!.length === 0 && !roots.has(id);

export const isMerge = (node: WorkflowNode) => node.type === 'merge';
const mergeMode = (node: WorkflowNode) => (node.config?.mode === 'any' ? 'any' : 'all');

function decide(
  graph: CompiledGraph,
  id: string,
  status: (id: string) => NodeState | undefined,
  roots: ReadonlySet<string> | null,
): 'start' | 'skip' | 'wait' {
  const all = graph.incoming.get(id)!;
  if (all.length === 0) return !roots || roots.has(id) ? 'start' : 'skip';
  // Edges from triggers that did not fire this run are not part of it (a node fed by both a
  // manual and a webhook trigger runs for either).
  const inc = roots ? all.filter((e) => !isIdleRoot(graph, e.source, roots)) : all;
  if (inc.length === 0) return 'skip';
  const acts = inc.map((e) => edgeActivity(e, status));
  const node = graph.nodes.get(id)!;
  if (isMerge(node)) {
    if (mergeMode(node) === 'any') {
      if (acts.includes('active')) return 'start';
      return acts.every((a) => a === 'inactive') ? 'skip' : 'wait';
    }
    if (acts.includes('pending')) return 'wait';
    return acts.includes('active') ? 'start' : 'skip';
  }
  // Any other node needs every incoming edge active; one inactive edge means it can never run,
  // so the skip propagates downstream until a merge absorbs it.
  if (acts.includes('inactive')) return 'skip';
  return acts.every((a) => a === 'active') ? 'start' : 'wait';
}

export interface PlanDecision {
  start: string[];
  skip: string[];
}

/**
 * Which undecided nodes start and which are skipped, given the current state. `changed` limits
 * the look to the successors of nodes that just settled (the executor's hot path); without it
 * every node is considered (a fresh run or a resume).
 */
export function plan(
  graph: CompiledGraph,
  state: GraphState,
  opts: { changed?: Iterable<string>; roots?: ReadonlySet<string> | null } = {},
): PlanDecision {
  const overlay = new Map<string, NodeState>();
  const status = (id: string) => overlay.get(id) ?? state.get(id);
  const queue: string[] = [];
  if (opts.changed) {
    for (const c of opts.changed) for (const e of graph.outgoing.get(c) ?? []) queue.push(e.target);
  } else queue.push(...graph.order);
  const start: string[] = [];
  const skip: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    if (state.has(id) || overlay.has(id)) continue;
    const d = decide(graph, id, status, opts.roots ?? null);
    if (d === 'start') {
      overlay.set(id, { status: 'running' });
      start.push(id);
    } else if (d === 'skip') {
      overlay.set(id, { status: 'skipped' });
      skip.push(id);
      for (const e of graph.outgoing.get(id)!) queue.push(e.target);
    }
  }
  return { start, skip };
}

/** A step's input: the single upstream output, or `{ <nodeId>: output }` when several (merge: per its mode). */
export function stepInput(graph: CompiledGraph, state: GraphState, id: string, rootInput: unknown): unknown {
  const inc = graph.incoming.get(id)!;
  if (inc.length === 0) return rootInput;
  const sources: { id: string; s: NodeState }[] = [];
  for (const e of inc) {
    if (edgeActivity(e, (x) => state.get(x)) !== 'active') continue;
    if (!sources.some((x) => x.id === e.source)) sources.push({ id: e.source, s: state.get(e.source)! });
  }
  const node = graph.nodes.get(id)!;
  if (isMerge(node)) {
    // any: the first output to arrive, as is; all: keyed by source even when only one was active.
    if (mergeMode(node) === 'any')
      return sources.sort((a, b) => (a.s.seq ?? 0) - (b.s.seq ?? 0))[0]?.s.output;
    return Object.fromEntries(sources.map((x) => [x.id, x.s.output]));
  }
  if (sources.length === 1) return sources[0].s.output;
  return Object.fromEntries(sources.map((x) => [x.id, x.s.output]));
}

/** The run output: the `output` node's value; several: keyed by node id; none: null. */
export function runOutput(graph: CompiledGraph, state: GraphState): unknown {
  const outs = graph.order.filter(
    (id) => graph.nodes.get(id)!.type === 'output' && state.get(id)?.status === 'succeeded',
  );
  if (outs.length === 0) return null;
  if (outs.length === 1) return state.get(outs[0])!.output;
  return Object.fromEntries(outs.map((id) => [id, state.get(id)!.output]));
}

/** A map body's result: its output node's value, else the last node (topologically) that ran. */
export function bodyResult(graph: CompiledGraph, state: GraphState): unknown {
  const outs = graph.order.filter(
    (id) => graph.nodes.get(id)!.type === 'output' && state.get(id)?.status === 'succeeded',
  );
  if (outs.length) return runOutput(graph, state);
  for (let i = graph.order.length - 1; i >= 0; i--) {
    const s = state.get(graph.order[i]);
    if (s?.status === 'succeeded') return s.output;
  }
  return null;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, backoff·factor^(attempt-1))]. */
export function backoffDelay(policy: RetryPolicy, failedAttempt: number, random: () => number): number {
  const exp = policy.backoffMs * Math.pow(policy.factor, Math.max(0, failedAttempt - 1));
  const cap = Math.min(exp, policy.maxBackoffMs ?? Number.MAX_SAFE_INTEGER);
  return Math.floor(Math.min(1, Math.max(0, random())) * cap);
}

export function retryPolicy(node: WorkflowNode): RetryPolicy {
  return { maxAttempts: 1, backoffMs: 500, factor: 2, ...node.retry };
}

/** Stored waiting steps keep why and until when in their output. */
export interface WaitMarker {
  waitingFor: 'delay' | 'approval';
  until?: number;
  output?: unknown;
}

export function isWaitMarker(v: unknown): v is WaitMarker {
  return typeof v === 'object' && v !== null && 'waitingFor' in v;
}

export interface Frame {
  /** null for the run's own graph; for map bodies a path such as `m` or `m#3/inner`. */
  parentNodeId: string | null;
  itemIndex: number | null;
}

export interface RecoveredState {
  state: Map<string, NodeState>;
  /** Nodes to run again as a new attempt (found running, cancelled, or failed with retries left). */
  retry: Map<string, { nextAttempt: number; stale?: StepRecord }>;
  /** Waiting steps, by node id, as recorded. */
  waiting: Map<string, StepRecord>;
}

/** Rebuild a frame's node state from its recorded steps (latest attempt per node wins). */
export function recoverState(graph: CompiledGraph, steps: StepRecord[], frame: Frame): RecoveredState {
  // A fresh frame (every item of a map on a run that was not resumed) has nothing to recover.
  if (!steps.length) return { state: new Map(), retry: new Map(), waiting: new Map() };
  const latest = new Map<string, StepRecord>();
  for (const s of steps) {
    if ((s.parentNodeId ?? null) !== frame.parentNodeId || (s.itemIndex ?? null) !== frame.itemIndex)
      continue;
    if (!graph.nodes.has(s.nodeId)) continue;
    const prev = latest.get(s.nodeId);
    if (!prev || s.attempt >= prev.attempt) latest.set(s.nodeId, s);
  }
  const ordered = [...latest.values()].sort(
    (a, b) => (a.finishedAt?.getTime() ?? Infinity) - (b.finishedAt?.getTime() ?? Infinity),
  );
  const state = new Map<string, NodeState>();
  const retry = new Map<string, { nextAttempt: number; stale?: StepRecord }>();
  const waiting = new Map<string, StepRecord>();
  let seq = 0;
  for (const s of ordered) {
    const base = { attempt: s.attempt, stepId: s.id, seq: ++seq };
    if (s.status === 'succeeded')
      state.set(s.nodeId, { ...base, status: 'succeeded', output: executableOutputOf(s), handle: s.handle });
    else if (s.status === 'skipped') state.set(s.nodeId, { ...base, status: 'skipped' });
    else if (s.status === 'waiting') {
      state.set(s.nodeId, { ...base, status: 'waiting', output: executableOutputOf(s) });
      waiting.set(s.nodeId, s);
    } else if (s.status === 'failed' && s.handle) {
      // onError continue/branch: the failure was handled and the graph went on.
      state.set(s.nodeId, {
        ...base,
        status: 'succeeded',
        output: executableOutputOf(s),
        handle: s.handle,
        error: s.error,
      });
    } else if (s.status === 'failed') {
      const policy = retryPolicy(graph.nodes.get(s.nodeId)!);
      const retryable = (s.error as { retryable?: boolean } | null)?.retryable === true;
      if (retryable && s.attempt < policy.maxAttempts) retry.set(s.nodeId, { nextAttempt: s.attempt + 1 });
      else state.set(s.nodeId, { ...base, status: 'failed', error: s.error });
    } else {
      // running (the worker died) or cancelled: a new attempt.
      retry.set(s.nodeId, { nextAttempt: s.attempt + 1, stale: s.status === 'running' ? s : undefined });
    }
  }
  return { state, retry, waiting };
}

/** Nodes downstream of `from` (including it). */
export function downstreamOf(graph: CompiledGraph, from: string): Set<string> {
  return new Set([from, ...downstreamIn({ ids: graph.order, ...graph }, from)]);
}
