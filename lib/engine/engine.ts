import { setMaxListeners } from 'node:events';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import {
  NotFoundError,
  RunCancelled,
  ValidationError,
  TrellisError,
  toSerializedError,
  type SerializedError,
} from '@/lib/workflow/errors';
import type { Clock } from '@/lib/nodes/define-node';
import { getNode } from '@/lib/nodes/registry';
import { createChatClient } from '@/lib/agent/model-client';
import { validate } from '@/lib/workflow/validate';
import {
  GraphExecution,
  frameKey,
  type BaseServices,
  type EffectRoot,
  type EngineCore,
  type NodeLookup,
} from './executor';

/** The expression and code services of NodeServices; lib/sandbox's createSandboxServices() makes them. */
export type SandboxServices = Pick<BaseServices, 'evaluate' | 'runCode' | 'render'>;
import type { EngineEvent, EngineListener } from './events';
import {
  CANCEL_POLL_MS,
  DEFAULT_MAX_STEPS_PER_RUN,
  MAX_CONCURRENT_STEPS_PER_RUN,
  MAX_RUN_DEPTH,
  MAX_STEPS_PER_RUN_LIMIT,
} from './limits';
import { SecretRedactor } from '@/lib/payload';
import {
  compileGraph,
  downstreamOf,
  isWaitMarker,
  plan,
  recoverState,
  runOutput,
  selectRoots,
  soleTriggerNode,
  type CompiledGraph,
} from './plan';
import {
  TERMINAL_RUN_STATUSES,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type TraceStore,
} from './trace-store';
import type { WorkflowSource } from './workflow-source';
import { newRunLedger, type AgentOptions } from './agent-step';
import type { CostLedger } from '@/lib/agent/ledger';
import type { TraceSpan, Tracer } from './tracing';

// The facade hosts use (API, worker, CLI, tests): start, execute, resume, cancel, approve,
// rerun. Everything durable goes through the TraceStore; what lives here is only the set of
// runs this process is driving, so their steps can be aborted on cancel.

/** The step cap of a run of this definition: its limits.maxSteps, within the server maximum. */
export function maxStepsOf(def: WorkflowDefinition): number {
  const set = def.limits?.maxSteps;
  return typeof set === 'number' && Number.isInteger(set) && set > 0
    ? Math.min(set, MAX_STEPS_PER_RUN_LIMIT)
    : DEFAULT_MAX_STEPS_PER_RUN;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface EngineOptions {
  store: TraceStore;
  /** Saved workflows for subworkflow and map-over-workflow nodes. */
  workflows?: WorkflowSource;
  /**
   * What nodes call out to, injected by the host: evaluate/runCode/render (lib/sandbox's
   * createSandboxServices(), so the engine never imports the sandbox), and optionally fetch and
   * chat (default: a model client configured from the environment at each call).
   */
  services: SandboxServices & Partial<BaseServices>;
  /** Node types; default the registry of lib/nodes. */
  nodes?: NodeLookup;
  clock?: Clock;
  /** Jitter source for retry backoff; tests pin it. */
  random?: () => number;
  maxConcurrentSteps?: number;
  /** Secrets visible to expressions as `secrets.<name>`; their values never reach the store. */
  secrets?: (ctx: { runId: string }) => Promise<Record<string, string>> | Record<string, string>;
  /** Allow-listed environment variables visible as `env.<name>`. */
  env?: Record<string, string>;
  /**
   * Masks the values it knows (the host's stored secrets) in every payload handed to the store or
   * to listeners; the run's own `secrets` are added to it, so each payload is walked once.
   */
  redactor?: SecretRedactor;
  onEvent?: EngineListener;
  /** Agent mode: model endpoint, price table, per-run cost cap (see agent-step.ts). */
  agent?: AgentOptions;
  /** Distributed tracing (lib/telemetry implements it); none by default. */
  tracer?: Tracer;
  /**
   * Keep what startRun wrote (the run row, definition and exact input) for the first drive of that
   * run in this process, so it does not read them back (see StartedRuns). Default true; a host
   * whose runs execute elsewhere (the web process in server mode) turns it off, or names the runs
   * it will drive itself (asked once the run is written).
   */
  keepStartedRuns?: boolean | ((runId: string) => boolean);
}

export interface StartRunArgs {
  definition: WorkflowDefinition;
  workflowId?: string | null;
  versionId?: string | null;
  version?: number | null;
  input?: unknown;
  /** manual, webhook, schedule, subworkflow, rerun:<runId> … */
  trigger?: string;
  /** The trigger node that fires (several schedule/webhook triggers: each starts only its branch). */
  triggerNodeId?: string | null;
  parentRunId?: string | null;
  parentStepId?: string | null;
  /** An incoming W3C traceparent (API or webhook request) the run's spans continue. */
  traceContext?: string | null;
}

export interface RunOutcome {
  runId: string;
  status: RunStatus;
  output?: unknown;
  error?: SerializedError | null;
  /** Set when the run waits on a delay: when to call resumeRun. */
  wakeAt?: number;
}

export interface ApprovalDecision {
  approved: boolean;
  comment?: string;
  by?: string;
}

export interface Engine {
  startRun(args: StartRunArgs): Promise<string>;
  /**
   * Run a queued run until it finishes or waits. Rejects when the host cannot read what the run
   * needs (its trace, definition, input or secrets), leaving the run unfinished (`running`, no
   * step written): retrying is the host's part.
   */
  executeRun(runId: string): Promise<RunOutcome>;
  /** startRun + executeRun, sleeping through parked delays (not approvals). */
  runToCompletion(args: StartRunArgs): Promise<RunOutcome>;
  /** Continue a waiting run, or a running one whose worker died, from its recorded steps. */
  resumeRun(runId: string): Promise<RunOutcome>;
  cancelRun(runId: string): Promise<boolean>;
  /**
   * Stop driving a run in this process without recording anything (a worker that lost the run's
   * lease: someone else drives it now). Its steps see the signal abort with `reason`.
   */
  abandonRun(runId: string, reason: Error): boolean;
  /** Record a decision on a waiting approval step; call resumeRun (or enqueue it) afterwards. */
  decideApproval(runId: string, nodeId: string, decision: ApprovalDecision): Promise<void>;
  /** A new queued run of the same version reusing outputs of everything not downstream of nodeId. */
  rerunFromNode(runId: string, nodeId: string): Promise<string>;
  subscribe(listener: EngineListener): () => void;
}

interface DriveOpts {
  from: RunStatus[];
  signal?: AbortSignal;
  depth?: number;
  /** A child run spends from its root run's ledger. */
  ledger?: CostLedger;
  /** A child run's effects are named from its root run (Idempotency-Keys); see EffectRoot. */
  effect?: EffectRoot;
}

const noRedactor = new SecretRedactor();

/** Started runs kept for their first drive (keepStartedRuns); the oldest go first beyond this. */
export const MAX_KEPT_STARTED_RUNS = 256;

interface StartedRun {
  run: RunRecord;
  definition: WorkflowDefinition;
  input: unknown;
}

/** A read the drive needs from its host (store, secrets) failed; `cause` is what it threw. */
class HostReadFailed extends Error {
  constructor(readonly cause: unknown) {
    super('host read failed');
  }
}

async function hostRead<T>(read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw new HostReadFailed(err);
  }
}

/**
 * What startRun just wrote, handed to the first drive of the run in this process: a run accepted
 * and executed here (embedded mode, a worker's schedules) skips reading back its row, definition
 * and input. All three are immutable once written, so the copy cannot be stale; a run driven
 * anywhere else, or after eviction, reads them from the store as before.
 */
function startedRuns(enabled: boolean | ((runId: string) => boolean)) {
  const kept = new Map<string, StartedRun>();
  return {
    keep(run: RunRecord, definition: WorkflowDefinition, input: unknown) {
      if (typeof enabled === 'function' ? !enabled(run.id) : !enabled) return;
      // As the store would return it (runInput): JSON, whatever the caller passed.
      kept.set(run.id, { run, definition, input: JSON.parse(JSON.stringify(input)) as unknown });
      while (kept.size > MAX_KEPT_STARTED_RUNS) kept.delete(kept.keys().next().value!);
    },
    take(runId: string): StartedRun | undefined {
      const s = kept.get(runId);
      kept.delete(runId);
      return s;
    },
  };
}

export function createEngine(opts: EngineOptions): Engine {
  const { store } = opts;
  const clock = opts.clock ?? realClock;
  const listeners = new Set<EngineListener>(opts.onEvent ? [opts.onEvent] : []);
  const active = new Map<string, AbortController>();
  const started = startedRuns(opts.keepStartedRuns ?? true);
  // Payloads written outside a run's drive (run input, decisions) know only the host's secrets.
  const hostRedact = opts.redactor?.redact ?? ((v: unknown) => v);

  const emit = (ev: EngineEvent) => {
    for (const l of listeners) {
      try {
        l(ev);
      } catch {
        // A broken listener must not break a run.
      }
    }
  };

  // Child definitions are checked against the node types this engine runs.
  const catalog = { get: (type: string) => core.nodes.getNode(type), list: () => [] };

  const core: EngineCore = {
    store,
    tracer: opts.tracer,
    nodes: opts.nodes ?? { getNode },
    services: { chat: createChatClient(), ...opts.services },
    clock,
    random: opts.random ?? Math.random,
    maxConcurrentSteps: Math.max(1, opts.maxConcurrentSteps ?? MAX_CONCURRENT_STEPS_PER_RUN),
    emit,
    agent: opts.agent,
    workflows: opts.workflows,
    async runChild({
      workflowId,
      input,
      signal,
      parentRunId,
      parentStepId,
      depth,
      ledger,
      traceContext,
      effect,
    }) {
      if (depth > MAX_RUN_DEPTH)
        throw new TrellisError('node_error', `Sub-workflows nested deeper than ${MAX_RUN_DEPTH}`);
      const src = await opts.workflows?.getLatest(workflowId);
      if (!src) throw new NotFoundError(`Workflow ${workflowId}`);
      // A child run obeys the rules of a top-level one: an enabled workflow, a runnable version.
      if (src.enabled === false)
        throw new TrellisError('workflow_disabled', `Workflow ${workflowId} is disabled; it starts no runs`, {
          details: { workflowId },
        });
      const checked = validate(src.definition, catalog);
      if (!checked.valid) {
        const first = checked.problems[0];
        throw new TrellisError(
          'workflow_invalid',
          `Workflow ${workflowId} (version ${src.version ?? '?'}) has ${checked.problems.length} problem(s); first: ${first.path || '/'} ${first.message}`,
          { details: { workflowId, version: src.version, problems: checked.problems } },
        );
      }
      const child = await store.createRun({
        workflowId: src.workflowId === undefined ? workflowId : src.workflowId,
        workflowVersionId: src.versionId,
        version: src.version,
        definition: src.definition,
        input,
        traceInput: hostRedact(input),
        trigger: 'subworkflow',
        parentRunId,
        parentStepId,
        traceContext: traceContext ?? null,
      });
      let out: RunOutcome;
      try {
        out = await drive(child.id, { from: ['queued'], signal, depth, ledger, effect });
      } catch (err) {
        // A child has no job of its own that would retry it: its host's failure to read what it
        // needs ends it with the step that started it (that step's retry makes a new child).
        await store
          .transitionRun(child.id, ['queued', 'running'], 'failed', {
            error: hostRedact(toSerializedError(err)) as SerializedError,
          })
          .catch(() => {});
        throw err;
      }
      if (out.status === 'succeeded') return out.output;
      if (out.status === 'cancelled') throw signal.aborted ? signal.reason : new RunCancelled();
      if (out.status === 'waiting') {
        throw new TrellisError(
          'unprocessable',
          `Sub-workflow ${workflowId} waits (delay or approval); child runs must finish in one go`,
          {
            details: { childRunId: child.id },
          },
        );
      }
      throw new TrellisError(
        'node_error',
        `Sub-workflow ${workflowId} failed: ${out.error?.message ?? 'unknown error'}`,
        {
          details: { childRunId: child.id, error: out.error },
        },
      );
    },
  };

  async function outcomeOf(runId: string): Promise<RunOutcome> {
    const run = await store.getRun(runId);
    if (!run) throw new NotFoundError(`Run ${runId}`);
    return { runId, status: run.status, output: run.output, error: run.error };
  }

  async function drive(runId: string, d: DriveOpts): Promise<RunOutcome> {
    if (active.has(runId))
      throw new TrellisError('conflict', `Run ${runId} is already executing in this process`);
    // Only a first drive (from queued) may use what startRun kept; a resume reads the store.
    const kept = started.take(runId);
    const pre = d.from.includes('queued') ? kept : undefined;
    if (!(await store.transitionRun(runId, d.from, 'running'))) {
      const run = await store.getRun(runId);
      if (!run) throw new NotFoundError(`Run ${runId}`);
      if (TERMINAL_RUN_STATUSES.includes(run.status)) return outcomeOf(runId);
      throw new TrellisError('conflict', `Run ${runId} is ${run.status}`);
    }
    const ctrl = new AbortController();
    // Every step of the run listens on this signal; many at once is normal, not a leak.
    setMaxListeners(0, ctrl.signal);
    const onOuter = () => ctrl.abort(d.signal!.reason);
    if (d.signal?.aborted) onOuter();
    else d.signal?.addEventListener('abort', onOuter, { once: true });
    active.set(runId, ctrl);
    // A cancel issued by another process only reaches us through the store.
    const poll = setInterval(() => {
      store.getRun(runId).then(
        (r) => r?.status === 'cancelled' && ctrl.abort(new RunCancelled()),
        () => {},
      );
    }, CANCEL_POLL_MS);
    poll.unref?.();
    let span: TraceSpan | undefined;
    let ended: RunOutcome | undefined;
    try {
      span = await startRunSpan(runId, !d.from.includes('queued'));
      const run = listeners.size ? (pre?.run ?? (await store.getRun(runId))) : null;
      if (run) {
        emit({
          type: 'run.started',
          runId,
          parentRunId: run.parentRunId ?? null,
          parentStepId: run.parentStepId ?? null,
          resumed: !d.from.includes('queued'),
        });
      }
      let fresh = d.from.length === 1 && d.from[0] === 'queued';
      for (;;) {
        const out = await driveOnce(
          runId,
          ctrl.signal,
          d.depth ?? 0,
          fresh,
          span,
          d.ledger,
          d.effect,
          fresh ? pre : undefined,
        );
        fresh = false;
        // A decision or a due delay that arrived while other branches still ran: go again now
        // rather than park a run nobody will wake.
        if (out.status === 'waiting' && (await hasWorkReady(runId))) {
          if (await store.transitionRun(runId, ['waiting'], 'running')) continue;
        }
        emit({
          type: 'run.finished',
          runId,
          ...(run ? { workflowId: run.workflowId, parentRunId: run.parentRunId } : {}),
          status: out.status,
          output: out.output,
          error: out.error,
          wakeAt: out.wakeAt,
        });
        ended = out;
        return out;
      }
    } finally {
      span?.end(ended ? { status: ended.status, error: ended.error } : { status: 'failed' });
      clearInterval(poll);
      d.signal?.removeEventListener('abort', onOuter);
      active.delete(runId);
    }
  }

  /** Reruns chain back to the run a trigger started; this many hops at most. */
  const MAX_RERUN_CHAIN = 32;

  /**
   * Which roots start: the recorded trigger node, else the trigger kind of the run, where a rerun
   * (`rerun:<id>`) stands for the trigger of the run it repeats, so it never fires other branches.
   */
  async function rootsFor(graph: CompiledGraph, run: RunRecord | null): Promise<Set<string> | null> {
    if (!run) return null;
    let trigger = run.trigger;
    let nodeId = run.triggerNodeId ?? null;
    for (let hops = 0; !nodeId && trigger.startsWith('rerun:') && hops < MAX_RERUN_CHAIN; hops++) {
      const prior = await store.getRun(trigger.slice('rerun:'.length));
      if (!prior) break;
      trigger = prior.trigger;
      nodeId = prior.triggerNodeId ?? null;
    }
    return selectRoots(graph, trigger, nodeId);
  }

  /** The span of one drive; its context is stored on the first, so resumes join the same trace. */
  async function startRunSpan(runId: string, resumed: boolean): Promise<TraceSpan | undefined> {
    if (!opts.tracer) return undefined;
    const [run, def] = await Promise.all([store.getRun(runId), store.runDefinition(runId)]);
    if (!run) return undefined;
    const span = opts.tracer.run({
      runId,
      workflowId: run.workflowId,
      workflowName: def.name,
      version: run.version,
      trigger: run.trigger,
      parent: run.traceContext ?? null,
      resumed,
    });
    if (!resumed) await store.setTraceContext?.(runId, span.traceparent);
    return span;
  }

  async function hasWorkReady(runId: string): Promise<boolean> {
    const [steps, def, run] = await Promise.all([
      store.listSteps(runId),
      store.runDefinition(runId),
      store.getRun(runId),
    ]);
    const graph = compileGraph(def);
    const rec = recoverState(graph, steps, { parentNodeId: null, itemIndex: null });
    for (const [, row] of rec.waiting) {
      if (
        isWaitMarker(row.output) &&
        row.output.waitingFor === 'delay' &&
        (row.output.until ?? 0) <= clock.now()
      )
        return true;
    }
    const next = plan(graph, rec.state, { roots: await rootsFor(graph, run) });
    return next.start.length > 0 || next.skip.length > 0 || rec.retry.size > 0;
  }

  async function driveOnce(
    runId: string,
    signal: AbortSignal,
    depth: number,
    fresh: boolean,
    span: TraceSpan | undefined,
    parentLedger?: CostLedger,
    effect?: EffectRoot,
    pre?: StartedRun,
  ): Promise<RunOutcome> {
    let error: SerializedError | undefined;
    let prepare = hostRedact;
    try {
      const [definition, run, input] = pre
        ? [pre.definition, pre.run, pre.input]
        : await hostRead(() =>
            Promise.all([
              store.runDefinition(runId),
              store.getRun(runId),
              // The exact input, not run.input (the trace copy, capped and masked).
              store.runInput(runId),
            ]),
          );
      if (!run) throw new NotFoundError(`Run ${runId}`);
      // A queued run has no steps, unless it is a rerun that starts with the reused ones.
      const steps =
        fresh && !run.trigger.startsWith('rerun:') ? [] : await hostRead(() => store.listSteps(runId));
      const secrets = (await hostRead(() => opts.secrets?.({ runId }))) ?? {};
      // Every encoding (raw, JSON, URL, base64) of the host's and the run's secrets: what the
      // trace, every exit and a tool result on its way to a model pass through.
      prepare = (opts.redactor ?? noRedactor).withValues(Object.values(secrets)).redact;
      const mask = prepare;
      const recorded = new Map<string, StepRecord[]>();
      for (const s of steps) {
        const k = frameKey({ parentNodeId: s.parentNodeId ?? null, itemIndex: s.itemIndex ?? null });
        const list = recorded.get(k);
        if (list) list.push(s);
        else recorded.set(k, [s]);
      }
      const graph = compileGraph(definition);
      const roots = await rootsFor(graph, run);
      const exec = new GraphExecution(
        core,
        {
          runId,
          input,
          env: opts.env ?? {},
          secrets,
          prepare,
          mask,
          recorded,
          depth,
          ledger: parentLedger ?? newRunLedger(opts.agent, recorded.values()),
          agentUsage: new Map(),
          budget: { used: steps.length, max: maxStepsOf(definition) },
          effect: effect ?? { runId, path: '' },
        },
        graph,
        { parentNodeId: null, itemIndex: null },
        { rootInput: input, roots, signal, span },
      );
      const out = await exec.execute();
      // No explicit flush: transitionRun makes the run's step writes durable first (TraceStore contract).
      if (out.status === 'succeeded') {
        const output = runOutput(graph, out.state);
        // Every exit (run.finished, SSE, webhook and wait:true answers, CLI, child results) gets
        // the masked output, the same value the store holds.
        const masked = prepare(output);
        if (await store.transitionRun(runId, ['running'], 'succeeded', { output: masked, error: null })) {
          return { runId, status: 'succeeded', output: masked };
        }
      } else if (out.status === 'waiting') {
        if (await store.transitionRun(runId, ['running'], 'waiting'))
          return { runId, status: 'waiting', wakeAt: out.wakeAt };
      } else if (out.status === 'cancelled') {
        await store.transitionRun(runId, ['running', 'waiting', 'queued'], 'cancelled', {
          error: prepare(out.error) as SerializedError,
        });
      } else {
        error = out.error && (prepare(out.error) as SerializedError);
      }
    } catch (err) {
      // The host could not hand the run what it needs (a dropped connection under the secrets or
      // the trace): nothing of the run has failed, so its host retries it (a worker's job, the web's
      // hand-over) instead of this drive writing `failed`.
      if (err instanceof HostReadFailed && !(err.cause instanceof NotFoundError)) throw err.cause;
      error = prepare(toSerializedError(err instanceof HostReadFailed ? err.cause : err)) as SerializedError;
    }
    if (error)
      await store.transitionRun(runId, ['running'], 'failed', { error: prepare(error) as SerializedError });
    // Someone else (a cancel) may have finished the run first; report what the store holds.
    return outcomeOf(runId);
  }

  const engine: Engine = {
    async startRun(args) {
      const trigger = args.trigger ?? 'manual';
      if (args.triggerNodeId != null) {
        const node = args.definition.nodes.find((n) => n.id === args.triggerNodeId);
        if (!node || !core.nodes.getNode(node.type)?.isTrigger)
          throw new ValidationError([
            {
              path: '/triggerNodeId',
              code: 'not_a_trigger',
              message: `${args.triggerNodeId} is not a trigger node of this workflow`,
            },
          ]);
      }
      const run = await store.createRun({
        workflowId: args.workflowId ?? null,
        workflowVersionId: args.versionId ?? null,
        version: args.version ?? null,
        definition: args.definition,
        input: args.input ?? null,
        traceInput: hostRedact(args.input ?? null),
        trigger,
        triggerNodeId: args.triggerNodeId ?? soleTriggerNode(args.definition, trigger),
        parentRunId: args.parentRunId ?? null,
        parentStepId: args.parentStepId ?? null,
        traceContext: args.traceContext ?? null,
      });
      started.keep(run, args.definition, args.input ?? null);
      return run.id;
    },

    executeRun: (runId) => drive(runId, { from: ['queued'] }),

    async runToCompletion(args) {
      const runId = await engine.startRun(args);
      let out = await engine.executeRun(runId);
      while (out.status === 'waiting' && out.wakeAt !== undefined) {
        await clock.sleep(Math.max(0, out.wakeAt - clock.now()));
        out = await engine.resumeRun(runId);
      }
      return out;
    },

    resumeRun: (runId) => drive(runId, { from: ['running', 'waiting'] }),

    abandonRun(runId, reason) {
      const ctrl = active.get(runId);
      ctrl?.abort(reason);
      return !!ctrl;
    },

    async cancelRun(runId) {
      // A run driven here stops starting steps at once; the transition below first makes the
      // trace durable, which under a large run is not instant.
      const ctrl = active.get(runId);
      ctrl?.abort(new RunCancelled());
      const ok = await store.transitionRun(runId, ['queued', 'running', 'waiting'], 'cancelled', {
        error: new RunCancelled().toJSON(),
      });
      // The drive may have recorded the cancel first; a run that finished first stays as it was.
      if (ctrl) return ok || (await store.getRun(runId))?.status === 'cancelled';
      if (ok) {
        // Nobody drives it here: close the steps it was parked on. Only those are read: a large
        // run driven by a worker has 100,000 rows, and this answers an API call.
        const now = new Date(clock.now());
        for (const s of await store.listSteps(runId, { status: 'waiting' })) {
          if (s.status === 'waiting') await store.finishStep(s.id, { status: 'cancelled', finishedAt: now });
        }
        await store.flush();
        emit({ type: 'run.finished', runId, status: 'cancelled', error: new RunCancelled().toJSON() });
      }
      return ok;
    },

    async decideApproval(runId, nodeId, decision) {
      const run = await store.getRun(runId);
      if (!run) throw new NotFoundError(`Run ${runId}`);
      if (run.status !== 'waiting' && run.status !== 'running') {
        throw new TrellisError('conflict', `Run ${runId} is ${run.status}, not waiting for an approval`);
      }
      const steps = await store.listSteps(runId);
      const row = steps
        .filter((s) => s.nodeId === nodeId && s.parentNodeId == null && s.nodeType === 'approval')
        .sort((a, b) => b.attempt - a.attempt)[0];
      if (!row) throw new NotFoundError(`Approval step ${nodeId} in run ${runId}`);
      if (row.status !== 'waiting')
        throw new TrellisError('conflict', `Approval ${nodeId} is ${row.status}, not waiting`);
      const output = {
        approved: decision.approved,
        ...(decision.comment === undefined ? {} : { comment: decision.comment }),
        ...(decision.by === undefined ? {} : { by: decision.by }),
      };
      // Compare-and-set: of two concurrent decisions exactly one lands; the other is told here.
      const decided = await store.decideStep(row.id, {
        status: 'succeeded',
        output: hostRedact(output),
        handle: decision.approved ? 'approved' : 'rejected',
        finishedAt: new Date(clock.now()),
      });
      if (!decided) throw new TrellisError('conflict', `Approval ${nodeId} was already decided`);
      emit({
        type: 'step.finished',
        runId,
        stepId: row.id,
        nodeId,
        status: 'succeeded',
        handle: decision.approved ? 'approved' : 'rejected',
        parentNodeId: null,
        itemIndex: null,
      });
    },

    async rerunFromNode(runId, nodeId) {
      const run = await store.getRun(runId);
      if (!run) throw new NotFoundError(`Run ${runId}`);
      const definition = await store.runDefinition(runId);
      const graph = compileGraph(definition);
      if (!graph.nodes.has(nodeId)) throw new NotFoundError(`Node ${nodeId} in run ${runId}`);
      const redo = downstreamOf(graph, nodeId);
      const steps = await store.listSteps(runId);
      const { state } = recoverState(graph, steps, { parentNodeId: null, itemIndex: null });
      const latest = new Map<string, StepRecord>();
      for (const s of steps)
        if (s.parentNodeId == null && state.get(s.nodeId)?.stepId === s.id) latest.set(s.nodeId, s);
      const next = await store.createRun({
        workflowId: run.workflowId,
        workflowVersionId: run.workflowVersionId,
        version: run.version,
        definition,
        input: await store.runInput(runId),
        traceInput: run.input,
        trigger: `rerun:${runId}`,
        triggerNodeId: run.triggerNodeId ?? null,
        parentRunId: null,
        parentStepId: null,
      });
      // Reused steps are copied whole (with the map items and agent turns recorded under them), so
      // the new run's trace stands on its own and resume (which reads outputs by node id) treats
      // them like steps it ran itself.
      const reused: StepRecord[] = [];
      for (const id of graph.order) {
        const row = latest.get(id);
        const s = state.get(id);
        if (redo.has(id) || !row || !s || (s.status !== 'succeeded' && s.status !== 'skipped')) continue;
        reused.push(row);
      }
      const reusedIds = new Set(reused.map((r) => r.nodeId));
      // Map body rows carry the top-level map's id first in parentNodeId (`m` or `m#i/inner`).
      const bodyRows = steps.filter(
        (s) => s.parentNodeId != null && reusedIds.has(s.parentNodeId.split('#')[0]),
      );
      for (const row of [...reused, ...bodyRows]) {
        const stepId = await store.startStep({
          runId: next.id,
          nodeId: row.nodeId,
          nodeType: row.nodeType,
          attempt: row.attempt,
          mode: row.mode,
          input: row.input,
          itemIndex: row.itemIndex ?? null,
          parentNodeId: row.parentNodeId ?? null,
          startedAt: row.startedAt,
        });
        const turns = await store.listAgentTurns(row.id);
        if (turns.length) await store.appendAgentTurns(stepId, turns);
        await store.finishStep(stepId, {
          status: row.status === 'running' || row.status === 'waiting' ? 'succeeded' : row.status,
          output: row.output,
          ...('executableOutput' in row ? { executableOutput: row.executableOutput } : {}),
          error: row.error ?? null,
          handle: row.handle ?? null,
          mode: row.mode,
          fallbackReason: row.fallbackReason ?? null,
          ...(row.shadowOutput === undefined ? {} : { shadowOutput: row.shadowOutput }),
          tokens: row.tokens,
          cost: row.cost,
          finishedAt: row.finishedAt ?? new Date(clock.now()),
        });
      }
      await store.flush();
      return next.id;
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return engine;
}
