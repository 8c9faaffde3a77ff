import { z } from 'zod';
import { PrismaBacktestStore } from '@/lib/db/backtest-store';
import { insertRolloutEvents } from '@/lib/db/repositories/rollout-events';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { PrismaGraduationStore } from '@/lib/db/graduation-store';
import { getNode } from '@/lib/nodes/registry';
import { isBranching } from '@/lib/promotion/agent-candidate';
import {
  backtestCandidate,
  checkCandidate,
  GRADUATION_MIN_AGREEMENT,
  GRADUATION_NODE_TYPES,
} from '@/lib/promotion/graduate';
import { FINAL_GRADUATION_STATUSES, type GraduationRecord } from '@/lib/promotion/graduation-store';
import { loadCases } from '@/lib/promotion/job';
import { DEFAULT_BACKTEST_CASES, runFilterSchema } from '@/lib/promotion/spec';
import { createSandboxServices } from '@/lib/sandbox';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
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

export const acceptGraduationBody = z
  .object({
    nodeType: z.enum(GRADUATION_NODE_TYPES),
    config: z.record(z.string(), z.unknown()),
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
  .strict();

/** The step to graduate: exists in that version, and its answer is an output, not a branch. */
async function graduatingNode(
  db: Pick<Runtime['db'], 'prisma'>,
  params: Params,
  version?: number,
  /** Where a missing version is pointed at in the request. */
  pointer = '/version',
): Promise<{ version: number; node: WorkflowNode }> {
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
  return { version: v, node };
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

export async function acceptGraduation({ req, params, auth }: RouteContext<Params>) {
  const body = parseWith(acceptGraduationBody, await readJson(req));
  const checked = checkCandidate(body.nodeType, body.config);
  if (!checked.ok) throw new ValidationError(checked.issues.map((i) => ({ ...i, code: 'invalid_config' })));
  const base = baseVersionOf(body.baseVersion, req.headers.get('if-match'));
  const { db } = await getRuntime();
  // The step as the proposal saw it (its base version), else as it is now.
  const { version, node } = await graduatingNode(db, params, base, '/baseVersion');
  // What is saved is what was backtested: the config is checked again over the same history.
  const evidence = await backtestCandidate({
    cases: await casesOf(db, params, version, body.runs),
    nodeType: body.nodeType,
    config: checked.config,
    node,
    sandbox: createSandboxServices(),
    signal: req.signal,
  });
  if (evidence.agreement < GRADUATION_MIN_AGREEMENT && !body.confirm)
    throw new TrellisError(
      'conflict',
      `The ${body.nodeType} step reproduces ${evidence.agreed} of ${evidence.cases} recorded cases, below ${GRADUATION_MIN_AGREEMENT * 100}%; send confirm: true to save it anyway`,
      { details: { reason: 'below_threshold', pointer: '/confirm', agreement: evidence.agreement } },
    );
  const who = principalName(auth);
  const reason = body.reason ?? `Accepted by ${who}`;
  let missing = false;
  let moved = false;
  const saved = await wfRepo.deriveWorkflowVersion(
    db.prisma,
    params.id,
    ({ version: latest, definition }) => {
      // Decided under the workflow's lock: a save since the proposal is not silently replaced.
      if (base !== undefined && latest !== base) {
        moved = true;
        return null;
      }
      const index = definition.nodes.findIndex((n) => n.id === params.nodeId);
      if (index < 0) {
        missing = true;
        return null;
      }
      const from = definition.nodes[index];
      // The agent settings go with the model step: the new step is plain deterministic.
      const graduated: WorkflowNode = {
        id: from.id,
        type: body.nodeType,
        ...(from.name ? { name: from.name } : {}),
        position: from.position,
        config: checked.config,
        mode: 'workflow',
        ...(from.notes ? { notes: from.notes } : {}),
      };
      const nodes = definition.nodes.slice();
      nodes[index] = graduated;
      const label = `${from.type} (${stageLabel(stageOf(from))})`;
      return {
        definition: { ...definition, nodes },
        note: `Graduation ${params.nodeId}: ${label} → ${body.nodeType}. ${reason}`,
        result: { from: stageLabel(stageOf(from)), node: graduated },
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
            nodeType: body.nodeType,
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
    node: saved.result.node,
    agreement: evidence.agreement,
    cases: evidence.cases,
  });
}
