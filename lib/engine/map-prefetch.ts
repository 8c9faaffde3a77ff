import type { WorkflowNode } from '@/lib/workflow/definition';
import type {
  ExpressionScope,
  ExpressionServices,
  SandboxCall,
  SandboxOutcome,
  ScopeReads,
} from '@/lib/workflow/expression-scope';
import type { NodeDefinition } from '@/lib/nodes/define-node';
import type { CompiledGraph } from './plan';
import { MAP_PREFETCH_AHEAD, MAP_PREFETCH_CHUNK } from './limits';

// A map over many items whose body is made of sandbox steps (transform, code, output) would send
// one sandbox message per item per step. Instead, ahead of the items' steps, the map asks the
// sandbox for a chunk of items at once: for each such body node in topological order, one
// evaluateMany with every item's scope, the scopes of later nodes built from the answers of earlier
// ones. The items then run as before (bounded concurrency, a trace row per step, retries, onError);
// when a step's run() makes its sandbox call, the prefetched answer is handed back instead, but
// only if every part of the scope the call reads (by the sandbox's own analysis: the roots and the
// step ids it names) is the very same value the step sees. Anything else (a retry, a resumed item,
// an outer step finished meanwhile, a predecessor that was not prefetched) misses and evaluates as
// it always did. The sandbox is deterministic for the same scope, except clocks and Math.random:
// those read the time of the batch, which runs at most MAP_PREFETCH_AHEAD chunks ahead.

interface PrefetchNode {
  id: string;
  call: SandboxCall;
  reads: ScopeReads;
  /** Body steps the call reads, each a prefetch node before this one. */
  inner: string[];
}

interface Entry {
  call: SandboxCall;
  reads: ScopeReads;
  scope: ExpressionScope;
  outcome: SandboxOutcome;
}

/** What one item's steps ask: the prefetched answer of this node's call for this scope, once. */
export type TakePrefetched = (
  nodeId: string,
  call: SandboxCall,
  scope: ExpressionScope,
) => SandboxOutcome | undefined;

type ConfigOf = (node: WorkflowNode, def: NodeDefinition) => unknown;

const sameCall = (a: SandboxCall, b: SandboxCall) =>
  a.kind === b.kind &&
  (a.kind === 'render'
    ? a.template === (b as typeof a).template
    : a.kind === 'code'
      ? a.code === (b as typeof a).code
      : a.expression === (b as typeof a).expression);

const hasOwn = Object.prototype.hasOwnProperty;

/** Whether the call would read the same values in both scopes (identity: nothing is compared deeply). */
function sameReads(reads: ScopeReads, a: ExpressionScope, b: ExpressionScope): boolean {
  for (const root of reads.roots) {
    if (root === 'steps') {
      for (const id of reads.stepIds) {
        const inA = hasOwn.call(a.steps, id);
        if (inA !== hasOwn.call(b.steps, id) || (inA && a.steps[id].output !== b.steps[id].output))
          return false;
      }
    } else if (
      (a as unknown as Record<string, unknown>)[root] !== (b as unknown as Record<string, unknown>)[root]
    )
      return false;
  }
  return true;
}

/**
 * The body nodes worth prefetching, in topological order: a node whose type declares its sandbox
 * call, in workflow mode, whose call needs the sandbox and names the steps it reads, and whose
 * incoming edges and read body steps all come from such nodes (so it runs when they succeed, and
 * its scope can be built from their answers).
 */
export function prefetchPlan(
  graph: CompiledGraph,
  defs: { getNode(type: string): NodeDefinition | undefined },
  services: ExpressionServices,
  configOf: ConfigOf,
  inWorkflowMode: (node: WorkflowNode, def: NodeDefinition) => boolean,
): PrefetchNode[] {
  if (!services.batchable || !services.evaluateMany) return [];
  const chosen = new Map<string, PrefetchNode>();
  for (const id of graph.order) {
    const node = graph.nodes.get(id)!;
    const def = defs.getNode(node.type);
    if (!def?.sandboxCall || !inWorkflowMode(node, def)) continue;
    const config = configOf(node, def);
    if (config === undefined) continue;
    const call = def.sandboxCall(config as never);
    const reads = services.batchable(call);
    if (!reads) continue;
    const inner = reads.stepIds.filter((s) => graph.nodes.has(s));
    const fed = (graph.incoming.get(id) ?? []).every((e) => chosen.has(e.source));
    if (!fed || !inner.every((s) => chosen.has(s))) continue;
    chosen.set(id, { id, call, reads, inner });
  }
  return [...chosen.values()];
}

export interface MapPrefetchArgs {
  plan: PrefetchNode[];
  services: ExpressionServices;
  items: unknown[];
  /** The scope parts every item shares: the run's input, env, secrets, and the map's frame steps. */
  base: Omit<ExpressionScope, 'steps' | 'item' | 'index'> & { steps: Record<string, { output: unknown }> };
  /** Items not to prefetch (already recorded: a resumed map). */
  skip(index: number): boolean;
  signal: AbortSignal;
}

/** The prefetched answers of one map's items, computed a chunk of items at a time. */
export class MapPrefetch {
  private readonly chunks = new Map<number, Promise<void>>();
  private readonly entries = new Map<number, Map<string, Entry>>();
  private closed = false;

  constructor(private readonly args: MapPrefetchArgs) {}

  /** Resolves once the item's chunk was prefetched (or failed to be), and starts the next chunks. */
  ready(index: number): Promise<void> {
    const chunk = Math.floor(index / MAP_PREFETCH_CHUNK);
    for (
      let c = chunk;
      c <= chunk + MAP_PREFETCH_AHEAD && c * MAP_PREFETCH_CHUNK < this.args.items.length;
      c++
    )
      if (!this.chunks.has(c))
        this.chunks.set(
          c,
          this.compute(c).catch(() => {}),
        );
    return this.chunks.get(chunk)!;
  }

  /** The item's lookup, for its steps' sandbox calls. */
  forItem(index: number): TakePrefetched {
    return (nodeId, call, scope) => {
      const mine = this.entries.get(index);
      const e = mine?.get(nodeId);
      if (!e || !sameCall(e.call, call) || !sameReads(e.reads, e.scope, scope)) return undefined;
      mine!.delete(nodeId);
      return e.outcome;
    };
  }

  /** The item finished: what it did not use is dropped. */
  done(index: number): void {
    this.entries.delete(index);
  }

  /** The map finished: no further chunk is started, nothing is kept. */
  close(): void {
    this.closed = true;
    this.entries.clear();
  }

  private async compute(chunk: number): Promise<void> {
    const { plan, services, items, base, signal } = this.args;
    const from = chunk * MAP_PREFETCH_CHUNK;
    const to = Math.min(items.length, from + MAP_PREFETCH_CHUNK);
    // Answers so far, per item of the chunk: what later nodes' scopes are built from.
    const answers = new Map<number, Map<string, unknown>>();
    for (let i = from; i < to; i++) if (!this.args.skip(i)) answers.set(i, new Map());
    for (const node of plan) {
      if (this.closed || signal.aborted) return;
      const at: number[] = [];
      const scopes: ExpressionScope[] = [];
      for (const [i, got] of answers) {
        if (!node.inner.every((s) => got.has(s))) continue;
        // Only the steps the call names: all the sandbox is sent, and all the check compares.
        const steps: Record<string, { output: unknown }> = Object.create(null);
        for (const s of node.reads.stepIds)
          if (got.has(s)) steps[s] = { output: got.get(s) };
          else if (hasOwn.call(base.steps, s)) steps[s] = base.steps[s];
        at.push(i);
        scopes.push({
          input: base.input,
          env: base.env,
          secrets: base.secrets,
          steps,
          item: items[i],
          index: i,
        });
      }
      if (!scopes.length) continue;
      const outcomes = await services.evaluateMany!(node.call, scopes, signal);
      if (this.closed) return;
      outcomes.forEach((outcome, k) => {
        if (!outcome) return;
        const i = at[k];
        let mine = this.entries.get(i);
        if (!mine) this.entries.set(i, (mine = new Map()));
        mine.set(node.id, { call: node.call, reads: node.reads, scope: scopes[k], outcome });
        if (outcome.ok) answers.get(i)!.set(node.id, outcome.value);
      });
    }
  }
}

/** The sandbox methods of an item's services, answered from the prefetch when it has the answer. */
export function prefetchedServices(
  base: ExpressionServices,
  nodeId: string,
  take: TakePrefetched,
): Pick<ExpressionServices, 'evaluate' | 'runCode' | 'render'> {
  const answer = (o: SandboxOutcome) => (o.ok ? Promise.resolve(o.value) : Promise.reject(o.error));
  const lookup = (call: SandboxCall, scope: ExpressionScope, signal?: AbortSignal) =>
    signal?.aborted ? undefined : take(nodeId, call, scope);
  return {
    evaluate: (expression, scope, signal) => {
      const o = lookup({ kind: 'expression', expression }, scope, signal);
      return o ? answer(o) : base.evaluate(expression, scope, signal);
    },
    runCode: (code, scope, signal) => {
      const o = lookup({ kind: 'code', code }, scope, signal);
      return o ? answer(o) : base.runCode(code, scope, signal);
    },
    render: (template, scope, signal) => {
      const o = lookup({ kind: 'render', template }, scope, signal);
      return o ? answer(o) : base.render(template, scope, signal);
    },
  };
}
