import type { RolloutEventKind } from '@/lib/workflow/rollout';
import type { PrismaClient } from '../generated/client';

// The rollout activity log (RolloutEvent): one row per stage change, gate edit, automatic
// rollback or advance, kill switch, and graduation to a deterministic step. Rows are written in the transaction of the version they
// describe (workflows.ts deriveWorkflowVersion) and never edited.

export interface RolloutEventInput {
  workflowId: string;
  nodeId: string | null;
  kind: RolloutEventKind;
  fromStage: string | null;
  toStage: string | null;
  version: number;
  reason: string;
  evidence?: unknown;
  actor: string;
}

export interface RolloutEventRow extends RolloutEventInput {
  id: string;
  createdAt: Date;
}

type Writer = Pick<PrismaClient, 'rolloutEvent'>;

export async function insertRolloutEvents(db: Writer, rows: RolloutEventInput[]): Promise<void> {
  if (!rows.length) return;
  await db.rolloutEvent.createMany({
    data: rows.map((r) => ({ ...r, evidence: (r.evidence ?? undefined) as object | undefined })),
  });
}

/** Newest first; `before` is the createdAt/id cursor of the last row of the previous page. */
export async function listRolloutEvents(
  prisma: PrismaClient,
  workflowId: string,
  opts: { nodeId?: string; limit: number; before?: { createdAt: Date; id: string } },
): Promise<RolloutEventRow[]> {
  const rows = await prisma.rolloutEvent.findMany({
    where: {
      workflowId,
      AND: [
        // A node's log includes the workflow-wide actions (the kill switch) that moved it.
        ...(opts.nodeId ? [{ OR: [{ nodeId: opts.nodeId }, { nodeId: null }] }] : []),
        ...(opts.before
          ? [
              {
                OR: [
                  { createdAt: { lt: opts.before.createdAt } },
                  { createdAt: opts.before.createdAt, id: { lt: opts.before.id } },
                ],
              },
            ]
          : []),
      ],
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: opts.limit,
  });
  return rows.map((r) => ({ ...r, evidence: r.evidence ?? undefined, kind: r.kind as RolloutEventKind }));
}
