import { isRec } from '@/lib/workflow/record';
import type { PrismaClient } from '@/lib/db/generated/client';
import type { AgentStepSummary } from '@/lib/engine/agent-step';
import type { GateSample } from '@/lib/workflow/gates';
import { sameValue } from '@/lib/workflow/same-value';

// Recorded agent-mode steps as evidence: what the promotion report and the rollout gates read.
// One query and one comparison rule, so the report and the gates never disagree on a case.

/** One recorded agent-mode step, as the report reads it. */
export interface AgentStepSample {
  mode: string;
  status: string;
  output: unknown;
  shadowOutput: unknown;
  handle: string | null;
  fallbackReason: string | null;
  durationMs: number | null;
  cost: number;
  summary: AgentStepSummary | null;
  /** The workflow version the step's run executed (evidence is split by agent revision). */
  versionId?: string | null;
  /** Why the interface agent of a runs-once step (browser) gave up healing; null otherwise. */
  healReason?: string | null;
}

/** The modes an agent-capable step records when its agent served, stood by or gave up. */
const AGENT_EVIDENCE_MODES = ['agent', 'shadow', 'fallback'];

/**
 * A runs-once step (NodeTypeSpec.runsOnce: a browser step) at the agent stage serves every run
 * itself: a replay that found every target records `workflow`, a heal `healed`, and a heal that
 * gave up fails the step in mode `workflow`. So at that stage every finished step is evidence; at
 * another only its heals are.
 */
const runsOnceModes = (atAgentStage: boolean) => (atAgentStage ? ['workflow', 'healed'] : ['healed']);

/** The step modes that are rollout evidence for a node (see agentSamples' `runsOnce`). */
export const evidenceModes = (runsOnce?: { atAgentStage: boolean }) =>
  runsOnce ? runsOnceModes(runsOnce.atAgentStage) : AGENT_EVIDENCE_MODES;

/** The deterministic side of a comparison: branching steps (condition/switch) compare the branch taken. */
export function deterministicAnswer(s: AgentStepSample): unknown {
  if (
    isRec(s.shadowOutput) &&
    Object.keys(s.shadowOutput).length === 1 &&
    'branch' in s.shadowOutput &&
    s.handle
  )
    return { branch: s.handle };
  return s.output;
}

/**
 * The newest finished agent/shadow/fallback steps of a node in the workflow's top-level runs (map
 * items excluded), optionally only from some versions (the current rollout stage's).
 */
export async function agentSamples(
  prisma: PrismaClient,
  q: {
    workflowId: string;
    nodeId: string;
    limit: number;
    versionIds?: string[];
    /** The node's type is runs-once (NodeTypeSpec.runsOnce); whether it is at the agent stage. */
    runsOnce?: { atAgentStage: boolean };
  },
): Promise<AgentStepSample[]> {
  const runsOnce = !!q.runsOnce;
  const modes = evidenceModes(q.runsOnce);
  const rows = await prisma.step.findMany({
    where: {
      nodeId: q.nodeId,
      parentNodeId: null,
      run: { workflowId: q.workflowId, ...(q.versionIds ? { workflowVersionId: { in: q.versionIds } } : {}) },
      mode: { in: modes },
      status: { in: ['succeeded', 'failed'] },
    },
    orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
    take: q.limit,
    select: {
      mode: true,
      status: true,
      output: true,
      shadowOutput: true,
      handle: true,
      fallbackReason: true,
      durationMs: true,
      cost: true,
      run: { select: { workflowVersionId: true } },
      // A runs-once step's failed heal says why in its error (lib/nodes/browser.ts heal).
      error: runsOnce,
      // The summary note is always the step's last turn (agent-step.ts).
      agentTurns: {
        where: { kind: 'note' },
        orderBy: { seq: 'desc' },
        take: 1,
        select: { payload: true },
      },
    },
  });
  return rows.map((r) => {
    const note = r.agentTurns[0]?.payload as { summary?: AgentStepSummary } | undefined;
    return {
      mode: r.mode,
      status: r.status,
      output: r.output,
      shadowOutput: r.shadowOutput,
      handle: r.handle,
      fallbackReason: r.fallbackReason,
      durationMs: r.durationMs,
      cost: r.cost,
      summary: note?.summary ?? null,
      versionId: r.run.workflowVersionId,
      ...(runsOnce ? { healReason: healReasonOf(r.error) } : {}),
    };
  });
}

function healReasonOf(error: unknown): string | null {
  const details = isRec(error) && isRec(error.details) ? error.details : null;
  return typeof details?.healReason === 'string' ? details.healReason : null;
}

/**
 * A runs-once step's run as the gates read it: the step served (mode agent) unless its interface
 * agent gave up (fallback, with the heal's reason). There is no deterministic arm beside it, so
 * nothing is compared; latency is the whole step's and cost the heal's (0 for a replay), so the
 * cost gate is per run served, not per heal.
 */
function runsOnceGateSample(s: AgentStepSample): GateSample {
  const gaveUp = s.status === 'failed' && s.healReason ? s.healReason : null;
  return {
    mode: gaveUp ? 'fallback' : 'agent',
    agreed: null,
    fallbackReason: gaveUp,
    agentMs: s.durationMs,
    agentCostUsd: s.summary?.agentCost ?? s.cost ?? 0,
  };
}

/** A recorded step as the rollout gates read it (lib/workflow/gates.ts). */
export function gateSample(s: AgentStepSample): GateSample {
  if (s.healReason !== undefined) return runsOnceGateSample(s);
  const compared =
    s.mode === 'shadow' &&
    s.status === 'succeeded' &&
    s.shadowOutput !== null &&
    s.shadowOutput !== undefined;
  const reached = s.summary ? s.summary.modelCalls > 0 : s.mode === 'agent';
  return {
    mode: s.mode as GateSample['mode'],
    agreed: compared ? sameValue(deterministicAnswer(s), s.shadowOutput) : null,
    fallbackReason: s.fallbackReason,
    agentMs: reached ? (s.summary?.agentMs ?? s.durationMs) : null,
    agentCostUsd: reached ? (s.summary?.agentCost ?? s.cost) : null,
  };
}
