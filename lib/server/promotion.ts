import { z } from 'zod';
import type { PrismaClient } from '@/lib/db/generated/client';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { getNode } from '@/lib/nodes/registry';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { NotFoundError, TrellisError } from '@/lib/workflow/errors';
import type {
  PromotionAction,
  PromotionReport,
  Recommendation,
  ReplayReport,
  StepReport,
} from '@/lib/promotion/promotion-report';
import { isRec } from '@/lib/workflow/record';
import { sameValue } from '@/lib/workflow/same-value';
import { agentSamples, deterministicAnswer, type AgentStepSample } from './agent-samples';

export type { AgentStepSample };
import { withStage } from '@/lib/workflow/rollout';
import { definitionForSave } from './definition-input';
import { json, parseWith, readJson, type RouteContext } from './route';
import { getRuntime } from './runtime';
import { versionConflict } from './version-etag';

// The evidence before trusting an agent (issue 8 §6): per agent-capable step, over its last N
// agent/shadow/fallback steps, how often the agent agrees with the deterministic step, how often
// and why it falls back, and what it costs in time and money. Promote/demote/shadow save a new
// version of the workflow with the step's mode changed; nothing else of the definition moves.

export const DEFAULT_PROMOTION_WINDOW = 50;
export const MAX_PROMOTION_WINDOW = 500;
/** Below this many compared runs the report recommends collecting more evidence. */
export const MIN_SAMPLES_FOR_RECOMMENDATION = 5;
/** Shadow agreement (exact match) needed to recommend promotion. */
export const PROMOTE_MIN_AGREEMENT = 0.9;
/** Fallback rate above which promotion is not recommended. */
export const PROMOTE_MAX_FALLBACK_RATE = 0.1;
/** Agreement below which shadowing is not worth continuing: demotion is recommended. */
export const DEMOTE_MAX_AGREEMENT = 0.5;

export interface DeterministicSample {
  durationMs: number | null;
  cost: number;
}

/** Pure: replay success, heal rate and heal cost from a browser step's recorded rows. */
export function summarizeReplay(rows: Array<{ mode: string; status: string; cost: number }>): ReplayReport {
  const done = rows.filter((r) => r.status === 'succeeded' || r.status === 'failed');
  const replayed = done.filter((r) => r.status === 'succeeded' && r.mode !== 'healed').length;
  const healedRows = done.filter((r) => r.status === 'succeeded' && r.mode === 'healed');
  const total = healedRows.reduce((a, r) => a + (r.cost ?? 0), 0);
  const rate = (n: number) => (done.length ? round(n / done.length) : null);
  return {
    runs: done.length,
    replayed,
    healed: healedRows.length,
    failed: done.length - replayed - healedRows.length,
    replaySuccessRate: rate(replayed),
    healRate: rate(healedRows.length),
    healCostUsd: {
      total: round(total, 6) ?? 0,
      perHeal: healedRows.length ? round(total / healedRows.length, 6) : null,
    },
  };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const round = (x: number | null, digits = 4) => (x === null ? null : Number(x.toFixed(digits)));

/** Pure: the report's numbers from recorded samples (newest first) and the step's workflow-mode baseline. */
export function summarize(
  node: Pick<WorkflowNode, 'id' | 'name' | 'type' | 'mode' | 'agent'>,
  samples: AgentStepSample[],
  baseline: DeterministicSample[] = [],
): StepReport {
  const byMode = { agent: 0, shadow: 0, fallback: 0 };
  for (const s of samples) if (s.mode in byMode) byMode[s.mode as keyof typeof byMode]++;

  let compared = 0;
  let exact = 0;
  const fieldHits: Record<string, number> = {};
  const fieldSeen: Record<string, number> = {};
  for (const s of samples) {
    if (
      s.mode !== 'shadow' ||
      s.status !== 'succeeded' ||
      s.shadowOutput === null ||
      s.shadowOutput === undefined
    )
      continue;
    const det = deterministicAnswer(s);
    compared++;
    if (sameValue(det, s.shadowOutput)) exact++;
    if (isRec(det)) {
      const agent = isRec(s.shadowOutput) ? s.shadowOutput : {};
      for (const k of Object.keys(det)) {
        fieldSeen[k] = (fieldSeen[k] ?? 0) + 1;
        if (sameValue(det[k], agent[k])) fieldHits[k] = (fieldHits[k] ?? 0) + 1;
      }
    }
  }
  const fields = Object.fromEntries(
    Object.keys(fieldSeen).map((k) => [k, round((fieldHits[k] ?? 0) / fieldSeen[k])!]),
  );

  const reasons: Record<string, number> = {};
  let fellBack = 0;
  for (const s of samples) {
    if (!s.fallbackReason) continue;
    fellBack++;
    reasons[s.fallbackReason] = (reasons[s.fallbackReason] ?? 0) + 1;
  }
  const count = samples.length;

  const agentMs: number[] = [];
  const detMs: number[] = [];
  const agentUsd: number[] = [];
  const detUsd: number[] = [];
  for (const s of samples) {
    const sum = s.summary;
    if (sum) {
      // An agent that never reached a model (no_model_configured) says nothing about its latency.
      if (sum.modelCalls > 0) {
        agentMs.push(sum.agentMs);
        agentUsd.push(sum.agentCost);
      }
      if (sum.deterministicMs !== undefined) {
        detMs.push(sum.deterministicMs);
        detUsd.push(Math.max(0, s.cost - sum.agentCost));
      }
    } else if (s.durationMs !== null && s.mode === 'agent') {
      agentMs.push(s.durationMs);
      agentUsd.push(s.cost);
    }
  }
  for (const b of baseline) {
    if (b.durationMs !== null) detMs.push(b.durationMs);
    detUsd.push(b.cost);
  }
  const aMs = mean(agentMs);
  const dMs = mean(detMs);
  const aUsd = mean(agentUsd);
  const dUsd = mean(detUsd);

  const current = {
    mode: node.mode === 'agent' ? ('agent' as const) : ('workflow' as const),
    shadow: !!node.agent?.shadow,
  };
  const exactRate = compared ? exact / compared : null;
  const fallbackRate = count ? fellBack / count : null;
  return {
    nodeId: node.id,
    nodeName: node.name ?? null,
    nodeType: node.type,
    current,
    count,
    byMode,
    agreement: { compared, exactMatchRate: round(exactRate), fields },
    fallback: {
      rate: round(fallbackRate),
      byReason: Object.fromEntries(Object.entries(reasons).map(([k, v]) => [k, round(v / count)!])),
    },
    latency: {
      agentMs: round(aMs, 1),
      deterministicMs: round(dMs, 1),
      deltaMs: aMs === null || dMs === null ? null : round(aMs - dMs, 1),
    },
    cost: {
      agentUsd: round(aUsd, 6),
      deterministicUsd: round(dUsd, 6),
      deltaUsd: aUsd === null || dUsd === null ? null : round(aUsd - dUsd, 6),
    },
    recommendation: recommend(
      current,
      count,
      compared,
      exactRate,
      fallbackRate,
      node.agent?.gates?.maxFallbackRate ?? PROMOTE_MAX_FALLBACK_RATE,
    ),
  };
}

export function recommend(
  current: { mode: 'workflow' | 'agent'; shadow: boolean },
  count: number,
  compared: number,
  agreement: number | null,
  fallbackRate: number | null,
  /** The step's fallback gate (agent.gates.maxFallbackRate), else PROMOTE_MAX_FALLBACK_RATE. */
  maxFallbackRate: number = PROMOTE_MAX_FALLBACK_RATE,
): { action: Recommendation; reason: string } {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  if (current.mode === 'workflow') {
    return count === 0
      ? {
          action: 'shadow',
          reason:
            'No agent evidence yet: run the agent in shadow mode to compare it with the deterministic step.',
        }
      : {
          action: 'shadow',
          reason: 'The step runs deterministically; shadow mode collects fresh evidence without risk.',
        };
  }
  const fr = fallbackRate ?? 0;
  if (current.shadow) {
    if (compared < MIN_SAMPLES_FOR_RECOMMENDATION) {
      return {
        action: 'collect_more',
        reason: `${compared} compared run(s); at least ${MIN_SAMPLES_FOR_RECOMMENDATION} are needed before recommending.`,
      };
    }
    if ((agreement ?? 0) >= PROMOTE_MIN_AGREEMENT && fr <= maxFallbackRate) {
      return {
        action: 'promote',
        reason: `The agent agreed with the deterministic step in ${pct(agreement ?? 0)} of ${compared} runs and fell back in ${pct(fr)}.`,
      };
    }
    // Over the fallback gate the advice stays Demote (issue 20 §7), whatever the agreement.
    if (fr > maxFallbackRate || (agreement ?? 0) < DEMOTE_MAX_AGREEMENT) {
      return {
        action: 'demote',
        reason: `Agreement ${pct(agreement ?? 0)}, fallback rate ${pct(fr)}: the agent is not ready; stop shadowing or change its instructions.`,
      };
    }
    return {
      action: 'keep',
      reason: `Agreement ${pct(agreement ?? 0)}: keep shadowing and compare more runs.`,
    };
  }
  if (count < MIN_SAMPLES_FOR_RECOMMENDATION) {
    return {
      action: 'collect_more',
      reason: `${count} agent run(s) so far; at least ${MIN_SAMPLES_FOR_RECOMMENDATION} are needed.`,
    };
  }
  if (fr > maxFallbackRate) {
    return {
      action: 'demote',
      reason: `The agent fell back in ${pct(fr)} of ${count} runs, over the ${pct(maxFallbackRate)} gate.`,
    };
  }
  return { action: 'keep', reason: `The agent fell back in ${pct(fr)} of ${count} runs.` };
}

function agentCapableNodes(def: WorkflowDefinition): WorkflowNode[] {
  return def.nodes.filter((n) => getNode(n.type)?.agentCapable);
}

/** Steps of this node in this workflow's top-level runs (map items excluded), newest first. */
export async function promotionReport(
  prisma: PrismaClient,
  workflowId: string,
  opts: { nodeId?: string; limit?: number } = {},
): Promise<PromotionReport> {
  const wf = await wfRepo.getWorkflow(prisma, workflowId);
  if (!wf) throw new NotFoundError(`Workflow ${workflowId}`);
  const limit = Math.min(
    Math.max(1, Math.floor(opts.limit ?? DEFAULT_PROMOTION_WINDOW)),
    MAX_PROMOTION_WINDOW,
  );
  let nodes = agentCapableNodes(wf.definition);
  if (opts.nodeId) {
    const node = wf.definition.nodes.find((n) => n.id === opts.nodeId);
    if (!node) throw new NotFoundError(`Node ${opts.nodeId} in workflow ${workflowId}`);
    if (!getNode(node.type)?.agentCapable)
      throw new TrellisError('unprocessable', `Node ${node.id} (${node.type}) cannot run in agent mode`);
    nodes = [node];
  }
  const steps: StepReport[] = [];
  for (const node of nodes) {
    const where = { nodeId: node.id, parentNodeId: null, run: { workflowId } };
    const [samples, baseline] = await Promise.all([
      agentSamples(prisma, { workflowId, nodeId: node.id, limit }),
      prisma.step.findMany({
        where: { ...where, mode: 'workflow', status: 'succeeded' },
        orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
        take: limit,
        select: { durationMs: true, cost: true },
      }),
    ]);
    const report = summarize(node, samples, baseline);
    if (getNode(node.type)?.interfaceAgent) {
      const rows = await prisma.step.findMany({
        where,
        orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
        take: limit,
        select: { mode: true, status: true, cost: true },
      });
      report.replay = summarizeReplay(rows);
    }
    steps.push(report);
  }
  return { workflowId, version: wf.version, limit, steps };
}

/** The node with its mode changed for an action; agent settings are kept (or started) as written. */
export function applyAction(node: WorkflowNode, action: PromotionAction): WorkflowNode {
  const stage = action === 'demote' ? 'workflow' : action === 'shadow' ? 'shadow' : 'agent';
  return withStage(node, { stage }, !!getNode(node.type)?.asTool);
}

export async function changeMode(
  prisma: PrismaClient,
  workflowId: string,
  nodeId: string,
  action: PromotionAction,
): Promise<{ id: string; version: number; node: WorkflowNode }> {
  const wf = await wfRepo.getWorkflow(prisma, workflowId);
  if (!wf) throw new NotFoundError(`Workflow ${workflowId}`);
  const index = wf.definition.nodes.findIndex((n) => n.id === nodeId);
  if (index < 0) throw new NotFoundError(`Node ${nodeId} in workflow ${workflowId}`);
  const node = wf.definition.nodes[index];
  if (!getNode(node.type)?.agentCapable)
    throw new TrellisError('unprocessable', `Node ${nodeId} (${node.type}) cannot run in agent mode`);
  const changed = applyAction(node, action);
  const nodes = wf.definition.nodes.slice();
  nodes[index] = changed;
  const { definition } = definitionForSave({ ...wf.definition, nodes });
  // Based on the version read above: a save landing in between is not silently replaced.
  const saved = await wfRepo.saveWorkflowVersion(prisma, workflowId, { definition, baseVersion: wf.version });
  if (!saved) throw new NotFoundError(`Workflow ${workflowId}`);
  if ('conflict' in saved) throw versionConflict(workflowId, wf.version, saved.conflict);
  return { ...saved, node: changed };
}

export const reportQuery = z.object({
  nodeId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PROMOTION_WINDOW).optional(),
});

export async function getPromotion({ req, params }: RouteContext<{ id: string }>) {
  const q = parseWith(reportQuery, Object.fromEntries(new URL(req.url).searchParams));
  const { db } = await getRuntime();
  return json(await promotionReport(db.prisma, params.id, q));
}

export const actionBody = z.object({
  nodeId: z.string().min(1),
  action: z.enum(['promote', 'demote', 'shadow']),
});

export async function postPromotion({ req, params }: RouteContext<{ id: string }>) {
  const body = parseWith(actionBody, await readJson(req));
  const { db } = await getRuntime();
  return json(await changeMode(db.prisma, params.id, body.nodeId, body.action));
}
