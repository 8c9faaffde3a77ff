import { TrellisError } from '@/lib/workflow/errors';
import type { Prisma, PrismaClient } from '../generated/client';

// Run and step reads for the API. Lists never carry payloads (input/output/error of steps can be
// 256 KiB each); one step's payloads and agent turns come from getStep.

export const DEFAULT_RUN_PAGE_SIZE = 50;
export const MAX_RUN_PAGE_SIZE = 200;

const runSummarySelect = {
  id: true,
  workflowId: true,
  workflowVersionId: true,
  version: true,
  status: true,
  trigger: true,
  parentRunId: true,
  parentStepId: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  durationMs: true,
  stepCount: true,
  tokens: true,
  cost: true,
  workflow: { select: { name: true } },
} satisfies Prisma.RunSelect;

const stepSummarySelect = {
  id: true,
  runId: true,
  nodeId: true,
  nodeType: true,
  parentNodeId: true,
  itemIndex: true,
  attempt: true,
  mode: true,
  status: true,
  handle: true,
  fallbackReason: true,
  startedAt: true,
  finishedAt: true,
  durationMs: true,
  tokens: true,
  cost: true,
} satisfies Prisma.StepSelect;

export type RunSummary = Prisma.RunGetPayload<{ select: typeof runSummarySelect }>;
export type StepSummary = Prisma.StepGetPayload<{ select: typeof stepSummarySelect }>;

export interface RunPage {
  items: RunSummary[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export function encodeRunCursor(run: { createdAt: Date; id: string }): string {
  return Buffer.from(`${run.createdAt.toISOString()}|${run.id}`).toString('base64url');
}

export function decodeRunCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw new TrellisError('validation_error', 'Invalid cursor');
  return { createdAt, id };
}

/** Newest first, keyset-paginated over (createdAt, id) so pages stay stable while runs are added. */
export async function listRuns(
  prisma: PrismaClient,
  opts: { workflowId?: string; status?: string; cursor?: string; limit?: number } = {},
): Promise<RunPage> {
  const limit = Math.min(Math.max(1, Math.floor(opts.limit ?? DEFAULT_RUN_PAGE_SIZE)), MAX_RUN_PAGE_SIZE);
  const after = opts.cursor ? decodeRunCursor(opts.cursor) : null;
  const rows = await prisma.run.findMany({
    where: {
      ...(opts.workflowId ? { workflowId: opts.workflowId } : {}),
      ...(opts.status ? { status: opts.status } : {}),
      ...(after
        ? {
            OR: [
              { createdAt: { lt: after.createdAt } },
              { createdAt: after.createdAt, id: { lt: after.id } },
            ],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    select: runSummarySelect,
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeRunCursor(items[items.length - 1]) : null };
}

/** The run with its own input/output/error and its steps without payloads, in start order. */
export async function getRunWithSteps(prisma: PrismaClient, runId: string) {
  return prisma.run.findUnique({
    where: { id: runId },
    select: {
      ...runSummarySelect,
      input: true,
      output: true,
      error: true,
      steps: { orderBy: [{ startedAt: 'asc' }, { id: 'asc' }], select: stepSummarySelect },
    },
  });
}

/** One step with its payloads and agent turns; null when it does not belong to the run. */
export async function getStep(prisma: PrismaClient, runId: string, stepId: string) {
  return prisma.step.findFirst({
    where: { id: stepId, runId },
    include: { agentTurns: { orderBy: [{ seq: 'asc' }, { createdAt: 'asc' }] } },
  });
}
