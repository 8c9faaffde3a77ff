import { TrellisError } from '@/lib/workflow/errors';
import type { Prisma, PrismaClient } from '../generated/client';

// Run and step reads for the API. Lists never carry payloads (input/output/error of steps can be
// 256 KiB each); one step's payloads and agent turns come from getStep.

export const DEFAULT_RUN_PAGE_SIZE = 50;
export const MAX_RUN_PAGE_SIZE = 200;
/** Text search reads payloads of this many runs per query… */
export const TEXT_SEARCH_CHUNK = 500;
/** …and gives up after this many, so one search cannot scan 100,000 payloads. */
export const MAX_TEXT_SEARCH_SCAN = 20_000;

const runSummarySelect = {
  id: true,
  workflowId: true,
  workflowVersionId: true,
  version: true,
  status: true,
  trigger: true,
  triggerNodeId: true,
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
  // Why the version exists when the system wrote it (an automatic rollback): the run list shows it.
  workflowVersion: { select: { note: true } },
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

// Four-digit years, like the API's date filters (Date.UTC would map year 1 to 1901).
const MIN_CURSOR_MS = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_CURSOR_MS = Date.parse('9999-12-31T23:59:59.999Z');

export function decodeRunCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  // Out-of-range instants would only fail later, inside the database, as a 500.
  const t = createdAt.getTime();
  if (!id || Number.isNaN(t) || t < MIN_CURSOR_MS || t > MAX_CURSOR_MS || id.includes('\0'))
    throw new TrellisError('validation_error', 'Invalid cursor');
  return { createdAt, id };
}

export interface RunListFilter {
  workflowId?: string;
  status?: string;
  cursor?: string;
  limit?: number;
  /** Created at or after / before these instants. */
  from?: Date;
  to?: Date;
  /** Text that must appear in the run's input or output JSON (case-insensitive). */
  q?: string;
  /** How the run was started: `manual`, `webhook`, `schedule`, `rerun:<id>`, … (exact match). */
  trigger?: string;
}

/** Newest first, keyset-paginated over (createdAt, id) so pages stay stable while runs are added. */
export async function listRuns(prisma: PrismaClient, opts: RunListFilter = {}): Promise<RunPage> {
  const limit = Math.min(Math.max(1, Math.floor(opts.limit ?? DEFAULT_RUN_PAGE_SIZE)), MAX_RUN_PAGE_SIZE);
  const after = opts.cursor ? decodeRunCursor(opts.cursor) : null;
  const where: Prisma.RunWhereInput = {
    ...(opts.workflowId ? { workflowId: opts.workflowId } : {}),
    ...(opts.status ? { status: opts.status } : {}),
    ...(opts.trigger ? { trigger: opts.trigger } : {}),
    ...(opts.from || opts.to
      ? { createdAt: { ...(opts.from ? { gte: opts.from } : {}), ...(opts.to ? { lt: opts.to } : {}) } }
      : {}),
    ...(after
      ? {
          OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
        }
      : {}),
  };
  if (opts.q) {
    // Text search reads payloads, so it walks runs newest first in bounded chunks of ids that
    // match the other filters, and stops once a page is full: cost grows with how far back the
    // matches are, never with the table size at once.
    const pattern = `%${opts.q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    const found: string[] = [];
    let chunkAfter = after;
    for (
      let scanned = 0;
      found.length <= limit && scanned < MAX_TEXT_SEARCH_SCAN;
      scanned += TEXT_SEARCH_CHUNK
    ) {
      const chunk = await prisma.run.findMany({
        where: {
          ...where,
          ...(chunkAfter
            ? {
                OR: [
                  { createdAt: { lt: chunkAfter.createdAt } },
                  { createdAt: chunkAfter.createdAt, id: { lt: chunkAfter.id } },
                ],
              }
            : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: TEXT_SEARCH_CHUNK,
        select: { id: true, createdAt: true },
      });
      if (!chunk.length) break;
      const hits = await prisma.$queryRawUnsafe<{ id: string }[]>(
        `SELECT id FROM "Run" WHERE id = ANY($1::text[]) AND (input::text ILIKE $2 OR output::text ILIKE $2)`,
        chunk.map((r) => r.id),
        pattern,
      );
      const hitSet = new Set(hits.map((h) => h.id));
      for (const r of chunk) if (hitSet.has(r.id)) found.push(r.id);
      chunkAfter = chunk[chunk.length - 1];
      if (chunk.length < TEXT_SEARCH_CHUNK) break;
    }
    const rows = await prisma.run.findMany({
      where: { id: { in: found.slice(0, limit + 1) } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: runSummarySelect,
    });
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeRunCursor(items[items.length - 1]) : null };
  }
  const rows = await prisma.run.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    select: runSummarySelect,
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeRunCursor(items[items.length - 1]) : null };
}

/** The run with its own input/output/error and its steps without payloads, in start order. */
export async function getRunWithSteps(
  prisma: PrismaClient,
  runId: string,
  opts: { stepLimit?: number } = {},
) {
  const take = opts.stepLimit === undefined ? undefined : clampStepPage(opts.stepLimit) + 1;
  const run = await prisma.run.findUnique({
    where: { id: runId },
    select: {
      ...runSummarySelect,
      input: true,
      output: true,
      error: true,
      steps: { orderBy: [{ startedAt: 'asc' }, { id: 'asc' }], select: stepSummarySelect, take },
    },
  });
  if (!run || take === undefined) return run && { ...run, stepsCursor: null };
  const { steps, ...rest } = run;
  const page = steps.slice(0, take - 1);
  return {
    ...rest,
    steps: page,
    stepsCursor: steps.length >= take ? encodeStepCursor(page[page.length - 1]) : null,
  };
}

/** A 10,000-step run loads in pages: the first with the run, the rest behind it. */
export const DEFAULT_STEP_PAGE_SIZE = 1_000;
export const MAX_STEP_PAGE_SIZE = 5_000;

function clampStepPage(n: number): number {
  return Math.min(Math.max(1, Math.floor(n)), MAX_STEP_PAGE_SIZE);
}

function encodeStepCursor(step: { startedAt: Date; id: string }): string {
  return Buffer.from(`${step.startedAt.toISOString()}|${step.id}`).toString('base64url');
}

/** The run's payload-free steps in start order, keyset-paginated over (startedAt, id). */
export async function listSteps(
  prisma: PrismaClient,
  runId: string,
  opts: { cursor?: string; limit?: number } = {},
): Promise<{ steps: StepSummary[]; nextCursor: string | null }> {
  const limit = clampStepPage(opts.limit ?? DEFAULT_STEP_PAGE_SIZE);
  const after = opts.cursor ? decodeRunCursor(opts.cursor) : null; // same (instant, id) encoding
  const rows = await prisma.step.findMany({
    where: {
      runId,
      ...(after
        ? {
            OR: [
              { startedAt: { gt: after.createdAt } },
              { startedAt: after.createdAt, id: { gt: after.id } },
            ],
          }
        : {}),
    },
    orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
    take: limit + 1,
    select: stepSummarySelect,
  });
  const steps = rows.slice(0, limit);
  return { steps, nextCursor: rows.length > limit ? encodeStepCursor(steps[steps.length - 1]) : null };
}

/**
 * Steps that started or finished at or after `since`, oldest first, at most `limit`: what a
 * reconnecting event stream missed, without resending the whole run.
 */
export async function stepsChangedSince(
  prisma: PrismaClient,
  runId: string,
  since: Date,
  limit = DEFAULT_STEP_PAGE_SIZE,
): Promise<{ steps: StepSummary[]; truncated: boolean }> {
  const take = clampStepPage(limit);
  const rows = await prisma.step.findMany({
    where: { runId, OR: [{ startedAt: { gte: since } }, { finishedAt: { gte: since } }] },
    orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
    take: take + 1,
    select: stepSummarySelect,
  });
  return { steps: rows.slice(0, take), truncated: rows.length > take };
}

/**
 * One step with its payloads (trace copies) and agent turns; null when it does not belong to the
 * run. The exact output is the engine's alone: it may hold what the trace masks.
 */
export async function getStep(prisma: PrismaClient, runId: string, stepId: string) {
  return prisma.step.findFirst({
    where: { id: stepId, runId },
    omit: { executableOutput: true },
    include: { agentTurns: { orderBy: [{ seq: 'asc' }, { createdAt: 'asc' }] } },
  });
}
