import { z } from 'zod';
import { PrismaBacktestStore } from '@/lib/db/backtest-store';
import { insertRolloutEvents } from '@/lib/db/repositories/rollout-events';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { PrismaGraduationStore } from '@/lib/db/graduation-store';
import { getNode } from '@/lib/nodes/registry';
import { isBranching } from '@/lib/promotion/agent-candidate';
import {
  backtestCandidate,
  backtestChain,
  checkCandidate,
  GRADUATION_MIN_AGREEMENT,
  GRADUATION_NODE_TYPES,
} from '@/lib/promotion/graduate';
import { FINAL_GRADUATION_STATUSES, type GraduationRecord } from '@/lib/promotion/graduation-store';
import { loadCases, loadChainCases } from '@/lib/promotion/job';
import { applyChain, MAX_CHAIN_CALLS, singleSource, type ChainPlan } from '@/lib/promotion/chain';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { DEFAULT_BACKTEST_CASES, runFilterSchema } from '@/lib/promotion/spec';
import { createSandboxServices } from '@/lib/sandbox';
import { idSchema, type WorkflowDefinition, type WorkflowNode } from '@/lib/workflow/definition';
import { NotFoundError, TrellisError, ValidationError } from '@/lib/workflow/errors';
import { stageLabel, stageOf } from '@/lib/workflow/rollout';
import { INT4_MAX } from './limits';
import { baseVersionOf, versionConflict } from './version-etag';
import { MAX_ROLLOUT_REASON_LENGTH } from './rollout-api';
import { json, parseWith, readJson, type RouteContext } from './route';
import { principalName } from './runs';
import { getRuntime, type Runtime } from './runtime';

// Graduation over HTTP (issue 16 §5): POST …/nodes/:nodeId/graduation queues a proposal job
// (lib/promotion/graduation-job.ts: the model writes a deterministic step, it is backtested) and
// answers 202; GET …/graduation/:gid shows its progress and, at the end, the proposal; POST
// …/graduation/:gid/cancel stops it. Nothing is saved by proposing; POST …/graduation/accept is the owner's
// act: the config is checked and backtested again over the same history, then version n+1 has the
// step as that deterministic type in workflow mode, with a `graduation` row in the rollout log.

type Params = { id: string; nodeId: string };

export const graduationBody = z
  .object({
    /** The version whose step is graduated (default: the latest). */
    version: z.number().int().min(1).optional(),
    /** Which recorded runs are the cases (as a backtest's `runs`). */
    runs: runFilterSchema.default({ limit: DEFAULT_BACKTEST_CASES }),
    /** The model that writes the candidate (default: the server's). */
    model: z.string().min(1).optional(),
  })
  .strict();

/** A chain as accept takes it back from the proposal (`proposal.chain`: source, calls, output). */
export const chainPlanSchema = z
  .object({
    source: idSchema,
    calls: z
      .array(z.object({ id: idSchema, tool: z.string().min(1).max(300), args: z.unknown() }).strict())
      .min(1)
      .max(MAX_CHAIN_CALLS),
    output: z.unknown(),
  })
  .strict();

export const acceptGraduationBody = z
  .object({
    /** A step proposal: its type and config. */
    nodeType: z.enum(GRADUATION_NODE_TYPES).optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    /** A chain proposal (instead of nodeType and config). */
    chain: chainPlanSchema.optional(),
    runs: runFilterSchema.default({ limit: DEFAULT_BACKTEST_CASES }),
    /** Save although the config reproduces less than the threshold: the owner read the failures. */
    confirm: z.boolean().optional(),
    reason: z.string().max(MAX_ROLLOUT_REASON_LENGTH).optional(),
    /**
     * The version the proposal was made from (its `version`; or If-Match): the save writes only
     * while it is still the latest, else 409 version_conflict, like a stale workflow save.
     */
    baseVersion: z.number().int().min(1).max(INT4_MAX).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.chain && (b.nodeType || b.config))
      ctx.addIssue({ code: 'custom', path: ['chain'], message: 'Either chain, or nodeType and config' });
    if (!b.chain && !b.nodeType) ctx.addIssue({ code: 'custom', path: ['nodeType'], message: 'Required' });
    if (!b.chain && !b.config) ctx.addIssue({ code: 'custom', path: ['config'], message: 'Required' });
  });

/** The step to graduate: exists in that version, and its answer is an output, not a branch. */
async function graduatingNode(
  db: Pick<Runtime['db'], 'prisma'>,
  params: Params,
  version?: number,
  /** Where a missing version is pointed at in the request. */
  pointer = '/version',
): Promise<{ version: number; node: WorkflowNode; definition: WorkflowDefinition }> {
  const wf = await wfRepo.getWorkflow(db.prisma, params.id);
  if (!wf) throw new NotFoundError(`Workflow ${params.id}`);
  const v = version ?? wf.version;
  const def: WorkflowDefinition | undefined =
    v === wf.version ? wf.definition : (await wfRepo.getVersion(db.prisma, params.id, v))?.definition;
  if (!def)
    throw new ValidationError([
      { path: pointer, code: 'not_found', message: `Workflow ${params.id} has no version ${v}` },
    ]);
  const node = def.nodes.find((n) => n.id === params.nodeId);
  if (!node) throw new NotFoundError(`Node ${params.nodeId} in version ${v}`);
  const nodeDef = getNode(node.type);
  if (!nodeDef?.agentCapable)
    throw new TrellisError('unprocessable', `Node ${node.id} (${node.type}) is not an agent-capable step`);
  // A code or transform step has one output; a step that picks a branch cannot become one.
  if (isBranching(nodeDef, node.config ?? {}))
    throw new TrellisError(
      'unprocessable',
      `Node ${node.id} (${node.type}) picks a branch; graduation writes a step with one output`,
    );
  return { version: v, node, definition: def };
}

const casesOf = (db: Runtime['db'], params: Params, version: number, runs: z.infer<typeof runFilterSchema>) =>
  loadCases(new PrismaBacktestStore(db), {
    workflowId: params.id,
    nodeId: params.nodeId,
    version,
    request: { runs },
  });

/** A proposal as the API shows it: the job's state and, once it ended, the proposal itself. */
export function graduationView(g: GraduationRecord) {
  return {
    id: g.id,
    workflowId: g.workflowId,
    nodeId: g.nodeId,
    version: g.version,
    status: g.status,
    phase: g.phase,
    request: g.request,
    progress: { total: g.total, done: g.done },
    proposal: g.result,
    cancelRequested: g.cancelRequested,
    error: g.error,
    createdAt: g.createdAt.toISOString(),
    startedAt: g.startedAt?.toISOString() ?? null,
    finishedAt: g.finishedAt?.toISOString() ?? null,
  };
}

/** Queue a proposal: the step is checked now (4xx before anything is stored), the job runs later. */
export async function postGraduation({ req, params }: RouteContext<Params>) {
  const body = parseWith(graduationBody, await readJson(req));
  const rt = await getRuntime();
  const { version } = await graduatingNode(rt.db, params, body.version);
  const g = await new PrismaGraduationStore(rt.db).create({
    workflowId: params.id,
    nodeId: params.nodeId,
    version,
    request: { runs: body.runs, ...(body.model ? { model: body.model } : {}) },
  });
  await rt.backtests.graduate(g.id);
  return json({ graduation: graduationView(g) }, 202);
}

type ProposalParams = Params & { gid: string };

async function ownProposal(store: PrismaGraduationStore, params: ProposalParams): Promise<GraduationRecord> {
  const g = await store.get(params.gid);
  if (!g || g.workflowId !== params.id || g.nodeId !== params.nodeId)
    throw new NotFoundError(`Graduation proposal ${params.gid}`);
  return g;
}

export async function getGraduation({ params }: RouteContext<ProposalParams>) {
  const store = new PrismaGraduationStore((await getRuntime()).db);
  return json({ graduation: graduationView(await ownProposal(store, params)) });
}

export async function cancelGraduation({ params }: RouteContext<ProposalParams>) {
  const store = new PrismaGraduationStore((await getRuntime()).db);
  const before = await ownProposal(store, params);
  if (FINAL_GRADUATION_STATUSES.includes(before.status))
    throw new TrellisError('conflict', `Graduation proposal ${params.gid} already ended (${before.status})`);
  const g = await store.requestCancel(params.gid);
  if (!g) throw new NotFoundError(`Graduation proposal ${params.gid}`);
  return json({ graduation: graduationView(g) });
}

/** What an accept saves: the evidence, and how it changes the latest definition (null: the step is gone). */
interface Graduating {
  evidence: Awaited<ReturnType<typeof backtestCandidate>>;
  kind: 'step' | 'chain';
  label: string;
  apply(definition: WorkflowDefinition): { definition: WorkflowDefinition; nodes: WorkflowNode[] } | null;
}

type AcceptBody = z.infer<typeof acceptGraduationBody>;
const problem = (path: string, code: string, message: string) =>
  new ValidationError([{ path, code, message }]);

const notSingleInput = (nodeId: string, source?: string) =>
  new TrellisError(
    'unprocessable',
    source
      ? `Step ${nodeId}'s one upstream step is no longer ${source}, which the proposal reads its input from; propose again`
      : `Step ${nodeId} does not have exactly one upstream step, so a graduated step has no one place to read its input from`,
  );

/** A step accept: the config checked with its node's schema and backtested again. */
async function graduatingStep(
  db: Runtime['db'],
  params: Params,
  body: AcceptBody,
  version: number,
  { node, definition }: { node: WorkflowNode; definition: WorkflowDefinition },
  signal: AbortSignal,
): Promise<Graduating> {
  const nodeType = body.nodeType!;
  const checked = checkCandidate(nodeType, body.config);
  if (!checked.ok) throw new ValidationError(checked.issues.map((i) => ({ ...i, code: 'invalid_config' })));
  // The proposal's config reads the step's input from its one upstream step (step-input.ts).
  const source = singleSource(definition, node.id);
  if (source === null) throw notSingleInput(node.id);
  const evidence = await backtestCandidate({
    cases: await casesOf(db, params, version, body.runs),
    nodeType,
    config: checked.config,
    source,
    node,
    sandbox: createSandboxServices(),
    signal,
  });
  return {
    evidence,
    kind: 'step',
    label: nodeType,
    apply(definition) {
      const index = definition.nodes.findIndex((n) => n.id === params.nodeId);
      if (index < 0) return null;
      // Rewired since the proposal: the config would read another step's output as its input.
      if (singleSource(definition, params.nodeId) !== source) throw notSingleInput(params.nodeId, source);
      const from = definition.nodes[index];
      // The agent settings go with the model step: the new step is plain deterministic.
      const graduated: WorkflowNode = {
        id: from.id,
        type: nodeType,
        ...(from.name ? { name: from.name } : {}),
        position: from.position,
        config: checked.config,
        mode: 'workflow',
        ...(from.notes ? { notes: from.notes } : {}),
      };
      const nodes = definition.nodes.slice();
      nodes[index] = graduated;
      return { definition: { ...definition, nodes }, nodes: [graduated] };
    },
  };
}

/** Problems of a chain against the definition it would change: source, tools, ids, node configs, the graph. */
function chainProblems(
  definition: WorkflowDefinition,
  node: WorkflowNode,
  plan: ChainPlan,
): ValidationError | null {
  if (singleSource(definition, node.id) !== plan.source)
    return problem(
      '/chain/source',
      'invalid_source',
      `Step ${node.id}'s one upstream node is not ${plan.source}`,
    );
  const taken = new Set(definition.nodes.map((n) => n.id));
  const tools = new Set(node.agent?.tools ?? []);
  for (const [k, call] of plan.calls.entries()) {
    if (!tools.has(call.tool))
      return problem(`/chain/calls/${k}/tool`, 'unknown_tool', `${call.tool} is not one of the step's tools`);
    if (taken.has(call.id))
      return problem(`/chain/calls/${k}/id`, 'duplicate_id', `The workflow already has a node ${call.id}`);
    taken.add(call.id);
  }
  const applied = applyChain(definition, node.id, plan);
  const checked = validateDefinition(applied);
  if (!checked.valid) {
    const ids = plan.calls.map((c) => c.id);
    return new ValidationError(
      checked.problems.map((p) => {
        // A problem in an inserted node is named by its place in the chain.
        const m = /^\/nodes\/(\d+)(\/config)?(.*)$/.exec(p.path);
        const k = m ? ids.indexOf(applied.nodes[Number(m[1])]?.id ?? '') : -1;
        return {
          ...p,
          path:
            k >= 0
              ? `/chain/calls/${k}${m![2] ? '/args' : ''}${m![3]}`
              : m
                ? `/chain/output${m[3]}`
                : '/chain',
        };
      }),
    );
  }
  return null;
}

/** A chain accept: checked against the base version, backtested again over the agent runs. */
async function graduatingChain(
  db: Runtime['db'],
  params: Params,
  body: AcceptBody,
  base: { definition: WorkflowDefinition; node: WorkflowNode },
  signal: AbortSignal,
): Promise<Graduating> {
  const plan = body.chain as ChainPlan;
  const invalid = chainProblems(base.definition, base.node, plan);
  if (invalid) throw invalid;
  const evidence = await backtestChain({
    cases: await loadChainCases(new PrismaBacktestStore(db), {
      workflowId: params.id,
      nodeId: params.nodeId,
      request: { runs: body.runs },
    }),
    plan,
    node: base.node,
    sandbox: createSandboxServices(),
    signal,
  });
  return {
    evidence,
    kind: 'chain',
    label: `chain (${plan.calls.map((c) => c.id).join(', ')}) + transform`,
    apply(definition) {
      const node = definition.nodes.find((n) => n.id === params.nodeId);
      if (!node) return null;
      // The latest version is the base one here unless no base was named: check it again.
      const again = chainProblems(definition, node, plan);
      if (again) throw again;
      const next = applyChain(definition, params.nodeId, plan);
      const ids = new Set([...plan.calls.map((c) => c.id), params.nodeId]);
      return { definition: next, nodes: next.nodes.filter((n) => ids.has(n.id)) };
    },
  };
}

export async function acceptGraduation({ req, params, auth }: RouteContext<Params>) {
  const body = parseWith(acceptGraduationBody, await readJson(req));
  if (body.nodeType) {
    // The config is checked before the workflow is read: a bad config is a 400 whatever the state.
    const checked = checkCandidate(body.nodeType, body.config);
    if (!checked.ok) throw new ValidationError(checked.issues.map((i) => ({ ...i, code: 'invalid_config' })));
  }
  const base = baseVersionOf(body.baseVersion, req.headers.get('if-match'));
  const { db } = await getRuntime();
  // The step as the proposal saw it (its base version), else as it is now.
  const { version, node, definition } = await graduatingNode(db, params, base, '/baseVersion');
  // What is saved is what was backtested: the proposal is checked again over the same history.
  const g = body.chain
    ? await graduatingChain(db, params, body, { definition, node }, req.signal)
    : await graduatingStep(db, params, body, version, { node, definition }, req.signal);
  const { evidence } = g;
  if (evidence.agreement < GRADUATION_MIN_AGREEMENT && !body.confirm)
    throw new TrellisError(
      'conflict',
      `The ${g.label} reproduces ${evidence.agreed} of ${evidence.cases} recorded cases, below ${GRADUATION_MIN_AGREEMENT * 100}%; send confirm: true to save it anyway`,
      { details: { reason: 'below_threshold', pointer: '/confirm', agreement: evidence.agreement } },
    );
  const who = principalName(auth);
  const reason = body.reason ?? `Accepted by ${who}`;
  let missing = false;
  let moved = false;
  const saved = await wfRepo.deriveWorkflowVersion(
    db.prisma,
    params.id,
    ({ version: latest, definition: current }) => {
      // Decided under the workflow's lock: a save since the proposal is not silently replaced.
      if (base !== undefined && latest !== base) {
        moved = true;
        return null;
      }
      const from = current.nodes.find((n) => n.id === params.nodeId);
      const applied = from && g.apply(current);
      if (!from || !applied) {
        missing = true;
        return null;
      }
      const label = `${from.type} (${stageLabel(stageOf(from))})`;
      return {
        definition: applied.definition,
        note: `Graduation ${params.nodeId}: ${label} → ${g.label}. ${reason}`,
        result: { from: stageLabel(stageOf(from)), nodes: applied.nodes },
      };
    },
    (tx, s) =>
      insertRolloutEvents(tx, [
        {
          workflowId: params.id,
          nodeId: params.nodeId,
          kind: 'graduation',
          fromStage: s.result.from,
          toStage: 'workflow',
          version: s.version,
          reason,
          evidence: {
            ...(g.kind === 'chain'
              ? { kind: 'chain', nodes: s.result.nodes.map((n) => ({ id: n.id, type: n.type })) }
              : { nodeType: body.nodeType }),
            fromType: node.type,
            ...evidence,
            failures: evidence.failures.slice(0, 5),
          },
          actor: who,
        },
      ]),
  );
  if (saved === 'not_found') throw new NotFoundError(`Workflow ${params.id}`);
  if (moved) {
    const now = await wfRepo.latestVersionInfo(db.prisma, params.id);
    if (!now) throw new NotFoundError(`Workflow ${params.id}`);
    throw versionConflict(params.id, base!, now.conflict);
  }
  if (missing || !saved) throw new NotFoundError(`Node ${params.nodeId} in workflow ${params.id}`);
  return json({
    version: saved.version,
    kind: g.kind,
    // A step accept: the step as saved; a chain: its nodes in order, the final transform last.
    ...(g.kind === 'step' ? { node: saved.result.nodes[0] } : { nodes: saved.result.nodes }),
    agreement: evidence.agreement,
    cases: evidence.cases,
  });
}
