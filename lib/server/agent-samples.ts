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
}

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
  q: { workflowId: string; nodeId: string; limit: number; versionIds?: string[] },
): Promise<AgentStepSample[]> {
  const rows = await prisma.step.findMany({
    where: {
      nodeId: q.nodeId,
      parentNodeId: null,
      run: { workflowId: q.workflowId, ...(q.versionIds ? { workflowVersionId: { in: q.versionIds } } : {}) },
      mode: { in: ['agent', 'shadow', 'fallback'] },
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
    };
  });
}

/** A recorded step as the rollout gates read it (lib/workflow/gates.ts). */
export function gateSample(s: AgentStepSample): GateSample {
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
