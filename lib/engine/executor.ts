import { setMaxListeners } from 'node:events';
import { DEFAULT_HANDLE, ERROR_HANDLE, type WorkflowNode } from '@/lib/workflow/definition';
import {
  NodeTimeout,
  RunCancelled,
  TrellisError,
  isRetryable,
  toSerializedError,
  type SerializedError,
} from '@/lib/workflow/errors';
import type {
  Clock,
  ExpressionScope,
  NodeDefinition,
  NodeResult,
  NodeServices,
} from '@/lib/nodes/define-node';
import {
  backoffDelay,
  bodyResult,
  compileGraph,
  isWaitMarker,
  plan,
  recoverState,
  retryPolicy,
  stepInput,
  type CompiledGraph,
  type Frame,
  type NodeState,
} from './plan';
import { executableOutputOf, type StepRecord, type StepResult, type TraceStore } from './trace-store';
import {
  requestedMode,
  runAgentStep,
  runInterfaceAgent,
  type AgentOptions,
  type AgentStepEnv,
  type AgentStepInfo,
} from './agent-step';
import type { CostLedger } from '@/lib/agent/ledger';
import { ledgerChat } from './model-spend';
import type { WorkflowSource } from './workflow-source';
import type { EngineEvent } from './events';
import { MAX_MAP_CONCURRENCY, MAX_RUN_DEPTH } from './limits';
import { MapPrefetch, prefetchPlan, prefetchedServices, type TakePrefetched } from './map-prefetch';
import { yieldIfDue } from './time-slice';
import { watchAbort } from './abort-watch';
import type { SpanOutcome, TraceSpan, Tracer } from './tracing';

// The thin, effectful loop around plan.ts: start steps, record them, apply results, ask the
// plan what is next. One GraphExecution runs one frame: the run's own graph, or one map item.

export interface NodeLookup {
  getNode(type: string): NodeDefinition | undefined;
}

export type BaseServices = Omit<NodeServices, 'runBody' | 'runChild'>;

/** What every execution of one engine shares. */
export interface EngineCore {
  store: TraceStore;
  nodes: NodeLookup;
  services: BaseServices;
  clock: Clock;
  random: () => number;
  maxConcurrentSteps: number;
  emit(ev: EngineEvent): void;
  /** Agent mode (agent-step.ts): model, prices, cost cap. */
  agent?: AgentOptions;
  /** Saved workflows, for agents' `workflow:<id>` tools. */
  workflows?: WorkflowSource;
  tracer?: Tracer;
  /** Start and await a child run (subworkflow, map over a saved workflow). */
  runChild(args: {
    workflowId: string;
    input: unknown;
    signal: AbortSignal;
    parentRunId: string;
    parentStepId: string | null;
    depth: number;
    /** The root run's cost ledger: a child run spends from its root's cap. */
    ledger: CostLedger;
    /** The parent step's span, so the child run's spans nest under it. */
    traceContext?: string | null;
    /** Where the child's effects sit in the root run (childEffect). */
    effect?: EffectRoot;
  }): Promise<unknown>;
}

/**
 * Names a run's side effects from the top-level run that caused them, so an effect gets the same
 * Idempotency-Key on every attempt (a retried subworkflow step starts a new child run with a new
 * id, yet its calls are the same effects) and distinct effects never share one (sibling maps whose
 * bodies reuse node ids, nested maps, the same node in two child runs). `path` is '' for a
 * top-level run; a child run's is its parent's path plus the frame and node (and map item) that
 * started it.
 */
export interface EffectRoot {
  runId: string;
  path: string;
}

/** The effect root of a child started by `nodeId` in `frame` (item: map over a saved workflow). */
export function childEffect(parent: EffectRoot, frame: Frame, nodeId: string, item?: number): EffectRoot {
  return {
    runId: parent.runId,
    path: `${parent.path}${frameKey(frame)}#${nodeId}${item === undefined ? '' : `[${item}]`}>`,
  };
}

/** Per run: the scope parts and the payload hook. */
export interface RunContext {
  runId: string;
  input: unknown;
  env: Record<string, string>;
  secrets: Record<string, string>;
  /** Redaction and capping applied to everything handed to the store. */
  prepare(value: unknown): unknown;
  /** Recorded steps by frame key, for resume; empty for a fresh run. */
  recorded: Map<string, StepRecord[]>;
  depth: number;
  /** Steps of this run, all frames together: the cap. */
  budget: StepBudget;
  /** Secret masking only, every encoding: tool results on their way to a model. */
  mask(value: unknown): unknown;
  /** The root run's cost ledger (shared with child runs and map items). */
  ledger: CostLedger;
  /** Agent model calls and tokens per step (frame + node), across its attempts. */
  agentUsage: Map<string, { steps: number; tokens: number }>;
  effect: EffectRoot;
}

export interface StepBudget {
  /** Steps recorded so far (a resumed run starts from its trace). */
  used: number;
  max: number;
}

export function runTooLarge(max: number): TrellisError {
  return new TrellisError(
    'run_too_large',
    `The run reached its limit of ${max} steps (the workflow's limits.maxSteps, or the server default)`,
    { details: { maxSteps: max } },
  );
}

/** Map items and concurrent steps all listen on their parent's signal; that is by design. */
function newController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}

export const frameKey = (f: Frame) => `${f.parentNodeId ?? ''}|${f.itemIndex ?? ''}`;

export interface GraphOutcome {
  status: 'succeeded' | 'failed' | 'waiting' | 'cancelled';
  state: Map<string, NodeState>;
  error?: SerializedError;
  /** Earliest time a parked delay is due. */
  wakeAt?: number;
}

const configCache = new WeakMap<WorkflowNode, unknown>();
const bodyGraphCache = new WeakMap<object, CompiledGraph>();

/** A node's config as its schema parses it, once per node object (the same object every attempt). */
function parsedConfig(node: WorkflowNode, def: NodeDefinition): unknown {
  let config = configCache.get(node);
  if (config === undefined) {
    const parsed = def.config.safeParse(node.config ?? {});
    if (!parsed.success)
      return new TrellisError(
        'validation_error',
        `Invalid config for node ${node.id}: ${parsed.error.message}`,
      );
    config = parsed.data;
    configCache.set(node, config);
  }
  return config;
}

type Attempted = { kind: 'result'; result: NodeResult } | { kind: 'error'; error: unknown };

export class GraphExecution {
  private readonly state: Map<string, NodeState>;
  private readonly retry: Map<string, { nextAttempt: number; stale?: StepRecord }>;
  private readonly waiting: Map<string, StepRecord>;
  private readonly steps: Record<string, { output: unknown }>;
  private readonly ready: string[] = [];
  private active = 0;
  private seq = 0;
  private failure: SerializedError | undefined;
  private cancelled = false;
  /**
   * Aborts the steps of this frame when one fails or the frame is cancelled. A frame of one node
   * (the usual map body) has no siblings to stop: it uses its parent's signal, and saves a
   * controller and a listener per map item.
   */
  private readonly ctrl: AbortController | null;
  private readonly writes: Promise<unknown>[] = [];
  /** Mode actually used by agent-mode attempts, by step id, until the row is finished. */
  private readonly agentInfo = new Map<string, AgentStepInfo>();
  /** Open spans of step attempts (tracing on), for map items and child runs to nest under. */
  private readonly spans = new Map<string, TraceSpan>();
  private finish!: (o: GraphOutcome) => void;

  constructor(
    private readonly core: EngineCore,
    private readonly run: RunContext,
    private readonly graph: CompiledGraph,
    private readonly frame: Frame,
    private readonly opts: {
      rootInput: unknown;
      roots: ReadonlySet<string> | null;
      signal: AbortSignal;
      item?: unknown;
      index?: number;
      outerSteps?: Record<string, { output: unknown }>;
      /** Where this frame's step spans go: the run's span, or the map step's for an item. */
      span?: TraceSpan;
      /** A map item: its steps' sandbox answers, when the map asked for them ahead (map-prefetch.ts). */
      prefetched?: TakePrefetched;
    },
  ) {
    this.ctrl = graph.nodes.size > 1 ? newController() : null;
    // No key built per map item when the run recorded nothing (not resumed).
    const recorded = run.recorded.size ? run.recorded.get(frameKey(frame)) : undefined;
    const rec = recoverState(graph, recorded ?? [], frame);
    this.state = rec.state;
    this.retry = rec.retry;
    this.waiting = rec.waiting;
    this.seq = rec.state.size;
    // Null prototype: a node id can never reach Object.prototype through `steps[id]`.
    this.steps = Object.assign(Object.create(null), opts.outerSteps);
    for (const [id, s] of this.state) if (s.status === 'succeeded') this.steps[id] = { output: s.output };
  }

  /** What this frame's steps listen on. */
  private get signal(): AbortSignal {
    return this.ctrl?.signal ?? this.opts.signal;
  }

  async execute(): Promise<GraphOutcome> {
    const stopWatching = watchAbort(this.opts.signal, (reason) => {
      this.cancelled = true;
      this.ctrl?.abort(reason);
    });
    try {
      await this.settleRecovered();
      const done = new Promise<GraphOutcome>((resolve) => (this.finish = resolve));
      this.apply(plan(this.graph, this.state, { roots: this.opts.roots }));
      this.pump();
      const outcome = await done;
      await Promise.all(this.writes);
      // A skip write that failed after the last node settled still fails the run.
      return this.failure !== undefined && outcome.status !== 'failed' ? this.outcome() : outcome;
    } finally {
      stopWatching();
    }
  }

  /** Resume work: close steps a dead worker left running, release delays that are due. */
  private async settleRecovered() {
    const { store } = this.core;
    for (const [, r] of this.retry) {
      if (!r.stale) continue;
      await store.finishStep(r.stale.id, {
        status: 'failed',
        error: { code: 'internal_error', message: 'The worker stopped while this step was running; retried' },
        finishedAt: new Date(this.core.clock.now()),
      });
    }
    for (const [id, row] of this.waiting) {
      // The exact marker: it carries the value the delay passes on.
      const exact = executableOutputOf(row);
      const marker = isWaitMarker(exact) ? exact : undefined;
      if (marker?.waitingFor !== 'delay' || (marker.until ?? 0) > this.core.clock.now()) continue;
      const output = marker.output === undefined ? row.input : marker.output;
      await store.finishStep(row.id, {
        status: 'succeeded',
        output: this.run.prepare(output),
        executableOutput: output,
        handle: DEFAULT_HANDLE,
        finishedAt: new Date(this.core.clock.now()),
      });
      this.settle(id, { status: 'succeeded', output, handle: DEFAULT_HANDLE, stepId: row.id });
      this.waiting.delete(id);
    }
  }

  private settle(id: string, s: NodeState) {
    s.seq = ++this.seq;
    this.state.set(id, s);
    if (s.status === 'succeeded') this.steps[id] = { output: s.output };
  }

  private apply(d: { start: string[]; skip: string[] }) {
    for (const id of d.skip) {
      this.run.budget.used++; // a skip is a row too; it is cheap, so it only counts
      this.settle(id, { status: 'skipped' });
      // Awaited only when the graph settles: a failed skip write must fail the run then, not go
      // unhandled now (that would end the process and every run in it).
      this.writes.push(
        this.recordSkip(id).catch((err: unknown) => {
          if (this.failure !== undefined) return;
          this.failure = { ...toSerializedError(err), details: { nodeId: id } };
          this.ctrl?.abort(
            new TrellisError('node_error', `Stopped because the skip of ${id} was not recorded`),
          );
        }),
      );
    }
    for (const id of d.start) {
      this.state.set(id, { status: 'running' });
      this.ready.push(id);
    }
  }

  private async recordSkip(id: string) {
    const node = this.graph.nodes.get(id)!;
    const now = new Date(this.core.clock.now());
    const stepId = await this.core.store.startStep({
      runId: this.run.runId,
      nodeId: id,
      nodeType: node.type,
      attempt: 1,
      mode: 'workflow',
      input: null,
      itemIndex: this.frame.itemIndex,
      parentNodeId: this.frame.parentNodeId,
      startedAt: now,
    });
    await this.core.store.finishStep(stepId, { status: 'skipped', finishedAt: now });
    this.opts.span
      ?.step({ stepId, nodeId: id, nodeType: node.type, mode: 'workflow', attempt: 1, ...this.where() })
      .end({ status: 'skipped' });
    this.core.emit({
      type: 'step.finished',
      runId: this.run.runId,
      stepId,
      nodeId: id,
      status: 'skipped',
      ...this.where(),
    });
  }

  private where() {
    return { parentNodeId: this.frame.parentNodeId, itemIndex: this.frame.itemIndex };
  }

  private pump() {
    const stopping = this.cancelled || this.failure !== undefined;
    while (!stopping && this.active < this.core.maxConcurrentSteps && this.ready.length) {
      const id = this.ready.shift()!;
      this.active++;
      this.runNode(id).then(
        (s) => this.onNodeDone(id, s),
        (err) => this.onNodeDone(id, { status: 'failed', error: toSerializedError(err) }),
      );
    }
    if (this.active === 0 && (stopping || this.ready.length === 0)) this.finish(this.outcome());
  }

  private onNodeDone(id: string, s: NodeState | 'cancelled') {
    this.active--;
    if (s === 'cancelled') {
      this.state.delete(id);
      this.cancelled ||= this.opts.signal.aborted;
    } else {
      this.settle(id, s);
      if (s.status === 'failed' && this.failure === undefined) {
        this.failure = { ...s.error!, details: { nodeId: id, ...(s.error?.details as object | undefined) } };
        // The run fails: stop the siblings still running.
        this.ctrl?.abort(new TrellisError('node_error', `Stopped because node ${id} failed`));
      }
      if (s.status === 'succeeded' && !this.signal.aborted) {
        this.apply(plan(this.graph, this.state, { changed: [id], roots: this.opts.roots }));
      }
    }
    this.pump();
  }

  private outcome(): GraphOutcome {
    if (this.failure) return { status: 'failed', state: this.state, error: this.failure };
    if (this.cancelled) return { status: 'cancelled', state: this.state, error: new RunCancelled().toJSON() };
    let wakeAt: number | undefined;
    let waiting = false;
    for (const [, s] of this.state) {
      if (s.status !== 'waiting') continue;
      waiting = true;
      if (isWaitMarker(s.output) && s.output.waitingFor === 'delay' && s.output.until !== undefined)
        wakeAt = Math.min(wakeAt ?? Infinity, s.output.until);
    }
    if (waiting) return { status: 'waiting', state: this.state, wakeAt };
    return { status: 'succeeded', state: this.state };
  }

  /** Run one node through its attempts; resolves to its settled state, or 'cancelled'. */
  private async runNode(id: string): Promise<NodeState | 'cancelled'> {
    const { store, clock } = this.core;
    const node = this.graph.nodes.get(id)!;
    const input = stepInput(this.graph, this.state, id, this.opts.rootInput);
    const policy = retryPolicy(node);
    const first = this.retry.get(id)?.nextAttempt ?? 1;
    // A step a dead worker left running gets at least one more attempt, even past maxAttempts.
    const lastAttempt = Math.max(policy.maxAttempts, first);
    const storedInput = this.run.prepare(input);
    for (let attempt = first; ; attempt++) {
      if (this.signal.aborted) return 'cancelled';
      await this.countStep();
      if (this.signal.aborted) return 'cancelled';
      const startedAt = clock.now();
      const stepId = await store.startStep({
        runId: this.run.runId,
        nodeId: id,
        nodeType: node.type,
        attempt,
        mode: requestedMode(node, this.core.nodes.getNode(node.type), this.run.runId),
        input: storedInput,
        itemIndex: this.frame.itemIndex,
        parentNodeId: this.frame.parentNodeId,
        startedAt: new Date(startedAt),
      });
      this.core.emit({
        type: 'step.started',
        runId: this.run.runId,
        stepId,
        nodeId: id,
        attempt,
        ...this.where(),
      });
      this.openSpan(stepId, node, attempt);
      const res = await this.attempt(node, input, attempt, stepId);
      const finishedAt = new Date(clock.now());
      if (res.kind === 'result' && res.result.kind === 'done') {
        const { output, handle, tokens, cost, healed } = res.result;
        const agent: Partial<StepResult> = {
          ...this.agentFields(stepId),
          ...(healed ? { mode: 'healed' } : {}),
        };
        await store.finishStep(stepId, {
          ...agent,
          status: 'succeeded',
          output: this.run.prepare(output),
          executableOutput: output,
          handle: handle ?? DEFAULT_HANDLE,
          tokens,
          cost,
          finishedAt,
        });
        this.endSpan(stepId, { ...agent, status: 'succeeded', handle: handle ?? DEFAULT_HANDLE });
        this.emitFinished(
          stepId,
          id,
          'succeeded',
          finishedAt.getTime() - startedAt,
          handle ?? DEFAULT_HANDLE,
        );
        return { status: 'succeeded', output, handle: handle ?? DEFAULT_HANDLE, attempt, stepId };
      }
      if (res.kind === 'result' && res.result.kind === 'wait') {
        if (this.frame.parentNodeId !== null) {
          return this.fail(
            stepId,
            id,
            attempt,
            new TrellisError('unprocessable', `${node.type} cannot wait inside a map body`),
            finishedAt,
            node,
          );
        }
        const { reason, until, output } = res.result;
        const marker = {
          waitingFor: reason,
          ...(until === undefined ? {} : { until }),
          output: output ?? input,
        };
        const agent = this.agentFields(stepId);
        await store.finishStep(stepId, {
          ...agent,
          status: 'waiting',
          output: this.run.prepare(marker),
          executableOutput: marker,
          finishedAt,
        });
        this.endSpan(stepId, { ...agent, status: 'waiting' });
        this.emitFinished(stepId, id, 'waiting', finishedAt.getTime() - startedAt);
        return { status: 'waiting', output: marker, attempt, stepId };
      }
      const error = res.kind === 'error' ? res.error : new TrellisError('internal_error', 'unreachable');
      if (this.signal.aborted) {
        const agent = this.agentFields(stepId);
        const cancelled = this.run.prepare(toSerializedError(this.signal.reason)) as SerializedError;
        await store.finishStep(stepId, { ...agent, status: 'cancelled', error: cancelled, finishedAt });
        this.endSpan(stepId, { ...agent, status: 'cancelled', error: cancelled });
        this.emitFinished(stepId, id, 'cancelled', finishedAt.getTime() - startedAt);
        return 'cancelled';
      }
      if (isRetryable(error) && attempt < lastAttempt) {
        // Only the trace sees this error (the step retries), so it is stored masked like any other.
        const serialized = this.run.prepare(this.serializeError(error)) as SerializedError;
        const agent = this.agentFields(stepId);
        await store.finishStep(stepId, { ...agent, status: 'failed', error: serialized, finishedAt });
        this.endSpan(stepId, { ...agent, status: 'failed', error: serialized });
        this.core.emit({
          type: 'step.failed',
          runId: this.run.runId,
          stepId,
          nodeId: id,
          attempt,
          error: serialized,
          willRetry: true,
          ...this.where(),
        });
        const delayMs = backoffDelay(policy, attempt, this.core.random);
        const backoff = this.opts.span?.backoff({ nodeId: id, attempt, delayMs });
        try {
          await clock.sleep(delayMs, this.signal);
        } catch {
          backoff?.end({ status: 'cancelled' });
          return 'cancelled';
        }
        backoff?.end({ status: 'succeeded' });
        continue;
      }
      return this.fail(stepId, id, attempt, error, finishedAt, node);
    }
  }

  /** Counts one step against the run's cap, and hands the event loop back when due. */
  private async countStep(): Promise<void> {
    const b = this.run.budget;
    if (++b.used > b.max) throw runTooLarge(b.max);
    const handBack = yieldIfDue();
    if (handBack) await handBack;
  }

  /** An error as a value, marked retryable so a resumed run can tell. */
  private serializeError(error: unknown): SerializedError {
    return { ...toSerializedError(error), ...(isRetryable(error) ? { retryable: true } : {}) };
  }

  private async fail(
    stepId: string,
    id: string,
    attempt: number,
    error: unknown,
    finishedAt: Date,
    node: WorkflowNode,
  ): Promise<NodeState> {
    // Over the step cap the run ends, whatever the node's onError says.
    const onError = toSerializedError(error).code === 'run_too_large' ? 'fail' : (node.onError ?? 'fail');
    const handle = onError === 'continue' ? DEFAULT_HANDLE : onError === 'branch' ? ERROR_HANDLE : null;
    const serialized = this.serializeError(error);
    const stored = this.run.prepare(serialized) as SerializedError;
    const agent = this.agentFields(stepId);
    await this.core.store.finishStep(stepId, {
      ...agent,
      status: 'failed',
      error: stored,
      ...(handle ? { output: stored, executableOutput: serialized, handle } : {}),
      finishedAt,
    });
    this.endSpan(stepId, { ...agent, status: 'failed', error: stored, handle });
    this.core.emit({
      type: 'step.failed',
      runId: this.run.runId,
      stepId,
      nodeId: id,
      attempt,
      error: stored,
      willRetry: false,
      ...this.where(),
    });
    // continue: the error value is the output on `out`; branch: the same on the `error` handle.
    if (handle)
      return { status: 'succeeded', output: serialized, handle, error: serialized, attempt, stepId };
    return { status: 'failed', error: serialized, attempt, stepId };
  }

  /**
   * maxSteps/maxTokens of an agent step span its attempts: a retry continues the budget. Seeded on
   * resume from the tokens its recorded attempts spent (model calls are not on the row).
   */
  private agentUsage(nodeId: string): { steps: number; tokens: number } {
    const key = `${frameKey(this.frame)}#${nodeId}`;
    let u = this.run.agentUsage.get(key);
    if (!u) {
      u = { steps: 0, tokens: 0 };
      for (const s of this.run.recorded.get(frameKey(this.frame)) ?? [])
        if (s.nodeId === nodeId && s.mode && s.mode !== 'workflow' && typeof s.tokens === 'number')
          u.tokens += s.tokens;
      this.run.agentUsage.set(key, u);
    }
    return u;
  }

  private openSpan(stepId: string, node: WorkflowNode, attempt: number) {
    const span = this.opts.span?.step({
      stepId,
      nodeId: node.id,
      nodeType: node.type,
      mode: requestedMode(node, this.core.nodes.getNode(node.type), this.run.runId),
      attempt,
      ...this.where(),
    });
    if (span) this.spans.set(stepId, span);
  }

  private endSpan(stepId: string, outcome: SpanOutcome) {
    this.spans.get(stepId)?.end(outcome);
    this.spans.delete(stepId);
  }

  /** Step-row fields of an agent-mode attempt (mode used, fallback reason, shadow output, spend). */
  private agentFields(stepId: string): Partial<StepResult> {
    const info = this.agentInfo.get(stepId);
    if (!info) return {};
    this.agentInfo.delete(stepId);
    return {
      mode: info.mode,
      fallbackReason: info.fallbackReason ?? null,
      ...(info.shadowOutput === undefined ? {} : { shadowOutput: info.shadowOutput }),
      ...(info.tokens === undefined ? {} : { tokens: info.tokens }),
      ...(info.cost === undefined ? {} : { cost: info.cost }),
    };
  }

  private emitFinished(
    stepId: string,
    nodeId: string,
    status: 'succeeded' | 'waiting' | 'cancelled',
    durationMs: number,
    handle?: string,
  ) {
    this.core.emit({
      type: 'step.finished',
      runId: this.run.runId,
      stepId,
      nodeId,
      status,
      handle,
      durationMs,
      ...this.where(),
    });
  }

  /** One attempt: config parse, timeout and cancellation around the node's run(). */
  private async attempt(
    node: WorkflowNode,
    input: unknown,
    attempt: number,
    stepId: string,
  ): Promise<Attempted> {
    const def = this.core.nodes.getNode(node.type);
    if (!def)
      return { kind: 'error', error: new TrellisError('node_error', `Unknown node type ${node.type}`) };
    const config = parsedConfig(node, def);
    if (config instanceof TrellisError) return { kind: 'error', error: config };
    const parent = this.signal;
    // Only a node with a timeout needs a signal of its own; the others get the frame's. An
    // AbortController and its listeners per step were a large share of a 100,000-step run's
    // garbage (issue 14).
    const ctrl = node.timeoutMs ? newController() : undefined;
    const signal = ctrl?.signal ?? parent;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopParent: (() => void) | undefined;
    let stopWatching: (() => void) | undefined;
    // Racing the abort keeps the run moving even when a node ignores its signal; the signal
    // itself is what stops the node's real work (sockets, sandboxes).
    const aborted = new Promise<never>((_, reject) => {
      stopWatching = watchAbort(signal, reject);
      if (!ctrl) return;
      stopParent = watchAbort(parent, (reason) => ctrl.abort(reason));
      timer = setTimeout(() => ctrl.abort(new NodeTimeout(node.id, node.timeoutMs!)), node.timeoutMs);
    });
    aborted.catch(() => {});
    const scope: ExpressionScope = {
      input: this.run.input,
      steps: this.steps,
      env: this.run.env,
      secrets: this.run.secrets,
      ...(this.opts.index === undefined ? {} : { item: this.opts.item, index: this.opts.index }),
    };
    const base = this.core.services;
    const store = this.core.store;
    const agentEnv = (): AgentStepEnv => ({
      store,
      stepId,
      options: this.core.agent ?? {},
      workflows: this.core.workflows,
      prepare: this.run.prepare,
      mask: this.run.mask,
      ledger: this.run.ledger,
      usage: this.agentUsage(node.id),
      span: this.spans.get(stepId),
    });
    const services: NodeServices = {
      ...base,
      ...(this.opts.prefetched ? prefetchedServices(base, node.id, this.opts.prefetched) : {}),
      // Artifact metadata is a payload like any other: secrets masked before it is stored.
      ...(store.saveArtifact
        ? {
            saveArtifact: (a) =>
              store.saveArtifact!(stepId, {
                ...a,
                meta: (a.meta && this.run.prepare(a.meta)) as Record<string, unknown> | undefined,
              }),
          }
        : {}),
      interfaceAgent: (args) => runInterfaceAgent(node, args, agentEnv()),
      ...(base.chat ? { chat: ledgerChat(base.chat, this.run.ledger, this.core.agent) } : {}),
      runBody: (args) => this.runBody(node, stepId, args),
      runChild: (args) =>
        this.core.runChild({
          ...args,
          parentRunId: this.run.runId,
          parentStepId: stepId,
          depth: this.run.depth + 1,
          ledger: this.run.ledger,
          traceContext: this.spans.get(stepId)?.traceparent ?? null,
          effect: childEffect(this.run.effect, this.frame, node.id),
        }),
    };
    const ctx = {
      runId: this.run.runId,
      node,
      config,
      input,
      scope,
      signal,
      clock: this.core.clock,
      attempt,
      ...(this.frame.itemIndex === null ? {} : { itemIndex: this.frame.itemIndex }),
      // The frame path, so two effects of one node id in different frames or child runs differ.
      effect: {
        runId: this.run.effect.runId,
        frame: `${this.run.effect.path}${this.frame.parentNodeId ?? ''}`,
      },
      services,
    };
    const mode = requestedMode(node, def, this.run.runId);
    const running =
      mode === 'workflow'
        ? def.run(ctx)
        : runAgentStep(def, ctx, agentEnv(), mode === 'shadow' ? 'shadow' : 'agent', (info) =>
            this.agentInfo.set(stepId, info),
          );
    try {
      const result = await Promise.race([running, aborted]);
      return { kind: 'result', result };
    } catch (error) {
      // A node that noticed the abort throws its own AbortError; report why we aborted.
      return { kind: 'error', error: signal.aborted ? signal.reason : error };
    } finally {
      clearTimeout(timer);
      stopParent?.();
      stopWatching?.();
    }
  }

  /** Sandbox answers asked for ahead, a chunk of items at a time, when the body has steps worth it. */
  private prefetchFor(
    graph: CompiledGraph,
    parentNodeId: string,
    items: unknown[],
    signal: AbortSignal,
  ): MapPrefetch | undefined {
    if (items.length < 2) return undefined;
    const { nodes, services } = this.core;
    const plan = prefetchPlan(
      graph,
      nodes,
      services,
      (node, def) => {
        const config = parsedConfig(node, def);
        return config instanceof TrellisError ? undefined : config;
      },
      (node, def) => requestedMode(node, def, this.run.runId) === 'workflow',
    );
    if (!plan.length) return undefined;
    const { input, env, secrets } = this.run;
    return new MapPrefetch({
      plan,
      services,
      items,
      base: { input, env, secrets, steps: this.steps },
      // A resumed map: items with recorded steps recover them instead of running again.
      skip: (index) => this.run.recorded.has(frameKey({ parentNodeId, itemIndex: index })),
      signal,
    });
  }

  /** map: run the inline body once per item (or a saved workflow as a child run per item). */
  private async runBody(
    mapNode: WorkflowNode,
    stepId: string,
    args: Parameters<NonNullable<NodeServices['runBody']>>[0],
  ): Promise<unknown[]> {
    const { items, signal } = args;
    const concurrency = Math.max(1, Math.min(args.concurrency || 1, MAX_MAP_CONCURRENCY));
    const results = new Array<unknown>(items.length);
    if (this.run.depth >= MAX_RUN_DEPTH)
      throw new TrellisError('node_error', `map nested deeper than ${MAX_RUN_DEPTH}`);
    const body = args.body;
    let runItem: (item: unknown, index: number) => Promise<unknown>;
    let prefetch: MapPrefetch | undefined;
    if ('workflowId' in body) {
      runItem = (item, index) =>
        this.core.runChild({
          workflowId: body.workflowId,
          input: item,
          signal,
          parentRunId: this.run.runId,
          parentStepId: stepId,
          depth: this.run.depth + 1,
          ledger: this.run.ledger,
          traceContext: this.spans.get(stepId)?.traceparent ?? null,
          effect: childEffect(this.run.effect, this.frame, mapNode.id, index),
        });
    } else {
      let graph = bodyGraphCache.get(body);
      if (!graph) bodyGraphCache.set(body, (graph = compileGraph(body)));
      const g = graph;
      const parentNodeId =
        this.frame.parentNodeId === null
          ? mapNode.id
          : `${this.frame.parentNodeId}#${this.frame.itemIndex}/${mapNode.id}`;
      prefetch = this.prefetchFor(g, parentNodeId, items, signal);
      runItem = async (item, index) => {
        await prefetch?.ready(index);
        const exec = new GraphExecution(
          this.core,
          this.run,
          g,
          { parentNodeId, itemIndex: index },
          {
            rootInput: item,
            roots: null,
            signal,
            item,
            index,
            outerSteps: this.steps,
            span: this.spans.get(stepId),
            prefetched: prefetch?.forItem(index),
          },
        );
        const out = await exec.execute().finally(() => prefetch?.done(index));
        if (out.status === 'succeeded') return bodyResult(g, out.state);
        if (out.status === 'cancelled') throw signal.reason ?? new RunCancelled();
        if (out.error?.code === 'run_too_large') throw runTooLarge(this.run.budget.max);
        throw new TrellisError(
          'node_error',
          `map item ${index} failed: ${out.error?.message ?? out.status}`,
          {
            details: { itemIndex: index, error: out.error },
          },
        );
      };
    }
    let next = 0;
    let firstError: unknown;
    const worker = async () => {
      while (firstError === undefined && next < items.length && !signal.aborted) {
        const i = next++;
        try {
          results[i] = await runItem(items[i], i);
        } catch (e) {
          firstError ??= e;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
    } finally {
      prefetch?.close();
    }
    if (firstError !== undefined) throw firstError;
    if (signal.aborted) throw signal.reason;
    return results;
  }
}
