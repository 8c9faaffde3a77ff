import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { PrismaClient } from '../generated/client';

// Workflows and their immutable versions. Saving never edits a version: it adds n+1 and moves
// Workflow.latestVersion, in one transaction, so concurrent saves get distinct numbers.

export interface WorkflowSummary {
  id: string;
  name: string;
  latestVersion: number;
  enabled: boolean;
  /** The latest version's definition description (examples carry one), else null. */
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastRun: { id: string; status: string; createdAt: Date } | null;
}

export interface WorkflowWithDefinition {
  id: string;
  /** Id of the WorkflowVersion row (runs record it). */
  versionId: string;
  name: string;
  enabled: boolean;
  version: number;
  definition: WorkflowDefinition;
  createdAt: Date;
  updatedAt: Date;
  versionCreatedAt: Date;
}

export async function createWorkflow(
  prisma: PrismaClient,
  input: { name: string; definition: WorkflowDefinition; webhookSecret?: string | null; enabled?: boolean },
): Promise<{ id: string; version: number }> {
  const wf = await prisma.workflow.create({
    data: {
      name: input.name,
      enabled: input.enabled ?? true,
      latestVersion: 1,
      webhookSecret: input.webhookSecret ?? null,
      versions: { create: { version: 1, definition: input.definition as object } },
    },
    select: { id: true },
  });
  return { id: wf.id, version: 1 };
}

export async function listWorkflows(prisma: PrismaClient): Promise<WorkflowSummary[]> {
  const rows = await prisma.workflow.findMany({
    where: { deletedAt: null },
    orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
    select: {
      id: true,
      name: true,
      latestVersion: true,
      enabled: true,
      createdAt: true,
      updatedAt: true,
      runs: {
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: 1,
        select: { id: true, status: true, createdAt: true },
      },
    },
  });
  // Only the description is read out of each latest definition, not the whole document.
  const described = rows.length
    ? await prisma.$queryRawUnsafe<{ id: string; description: string | null }[]>(
        `SELECT w.id, v.definition->>'description' AS description
           FROM "Workflow" w JOIN "WorkflowVersion" v
             ON v."workflowId" = w.id AND v.version = w."latestVersion"
          WHERE w."deletedAt" IS NULL`,
      )
    : [];
  const descriptions = new Map(described.map((d) => [d.id, d.description]));
  return rows.map(({ runs, ...w }) => ({
    ...w,
    description: descriptions.get(w.id) ?? null,
    lastRun: runs[0] ?? null,
  }));
}

export async function getWorkflow(prisma: PrismaClient, id: string): Promise<WorkflowWithDefinition | null> {
  const wf = await prisma.workflow.findFirst({ where: { id, deletedAt: null } });
  if (!wf) return null;
  const v = await prisma.workflowVersion.findUnique({
    where: { workflowId_version: { workflowId: id, version: wf.latestVersion } },
  });
  if (!v) return null;
  return {
    id: wf.id,
    versionId: v.id,
    name: wf.name,
    enabled: wf.enabled,
    version: v.version,
    definition: v.definition as unknown as WorkflowDefinition,
    createdAt: wf.createdAt,
    updatedAt: wf.updatedAt,
    versionCreatedAt: v.createdAt,
  };
}

/** The version a save was based on is no longer the latest: what it is now. */
export interface VersionMoved {
  conflict: { version: number; note: string | null; createdAt: Date };
}

type SaveInput = { definition: WorkflowDefinition; name?: string };

/**
 * Saves a new version; null when the workflow does not exist (or was deleted). With `baseVersion`
 * the save is a compare-and-set: it writes only while that is still the latest version, else
 * answers the version that replaced it and writes nothing.
 */
export async function saveWorkflowVersion(
  prisma: PrismaClient,
  id: string,
  input: SaveInput & { baseVersion?: undefined },
): Promise<{ id: string; version: number } | null>;
export async function saveWorkflowVersion(
  prisma: PrismaClient,
  id: string,
  input: SaveInput & { baseVersion?: number },
): Promise<{ id: string; version: number } | VersionMoved | null>;
export async function saveWorkflowVersion(
  prisma: PrismaClient,
  id: string,
  input: SaveInput & { baseVersion?: number },
): Promise<{ id: string; version: number } | VersionMoved | null> {
  return prisma.$transaction(async (tx) => {
    // The row update takes the lock that orders concurrent saves of one workflow; a second save of
    // the same base re-reads the row after the first commits and no longer matches.
    const updated = await tx.workflow.updateManyAndReturn({
      where: {
        id,
        deletedAt: null,
        ...(input.baseVersion === undefined ? {} : { latestVersion: input.baseVersion }),
      },
      data: {
        latestVersion: { increment: 1 },
        ...(input.name ? { name: input.name } : {}),
        // Removing the webhook trigger retires its secret: adding one back later gets a new
        // secret, so a secret that leaked while the trigger existed never works again.
        ...(input.definition.nodes.some((n) => n.type === 'trigger.webhook') ? {} : { webhookSecret: null }),
      },
      select: { latestVersion: true },
    });
    if (!updated.length) return input.baseVersion === undefined ? null : currentVersion(tx, id);
    const version = updated[0].latestVersion;
    await tx.workflowVersion.create({
      data: { workflowId: id, version, definition: input.definition as object },
    });
    return { id, version };
  });
}

/** The latest version's number, note and time, as a conflict names it; null when the workflow is gone. */
export function latestVersionInfo(prisma: PrismaClient, id: string): Promise<VersionMoved | null> {
  return currentVersion(prisma, id);
}

async function currentVersion(tx: Tx | PrismaClient, id: string): Promise<VersionMoved | null> {
  const wf = await tx.workflow.findFirst({ where: { id, deletedAt: null }, select: { latestVersion: true } });
  if (!wf) return null;
  const v = await tx.workflowVersion.findUnique({
    where: { workflowId_version: { workflowId: id, version: wf.latestVersion } },
    select: { version: true, note: true, createdAt: true },
  });
  return { conflict: v ?? { version: wf.latestVersion, note: null, createdAt: new Date(0) } };
}

export async function listVersions(
  prisma: PrismaClient,
  id: string,
): Promise<{ version: number; createdAt: Date; note: string | null }[]> {
  return prisma.workflowVersion.findMany({
    where: { workflowId: id, workflow: { deletedAt: null } },
    orderBy: { version: 'desc' },
    select: { version: true, createdAt: true, note: true },
  });
}

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * Saves version n+1 derived from the latest one, under the workflow row's lock, so the change is
 * decided on the version it replaces (compare-and-set: two processes rolling back the same step
 * write one version, the second sees the first's result). `derive` returns null to write nothing;
 * `after` runs in the same transaction (the activity row of the change).
 */
export async function deriveWorkflowVersion<T>(
  prisma: PrismaClient,
  id: string,
  derive: (latest: {
    version: number;
    definition: WorkflowDefinition;
  }) => { definition: WorkflowDefinition; note: string; result: T } | null,
  after?: (tx: Tx, saved: { version: number; result: T }) => Promise<void>,
): Promise<{ version: number; result: T } | null | 'not_found'> {
  return prisma.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ latestVersion: number }[]>`
      SELECT "latestVersion" FROM "Workflow" WHERE id = ${id} AND "deletedAt" IS NULL FOR UPDATE`;
    if (!locked.length) return 'not_found' as const;
    const current = await tx.workflowVersion.findUnique({
      where: { workflowId_version: { workflowId: id, version: locked[0].latestVersion } },
      select: { version: true, definition: true },
    });
    if (!current) return 'not_found' as const;
    const next = derive({
      version: current.version,
      definition: current.definition as unknown as WorkflowDefinition,
    });
    if (!next) return null;
    const version = current.version + 1;
    await tx.workflow.update({ where: { id }, data: { latestVersion: version } });
    await tx.workflowVersion.create({
      data: { workflowId: id, version, definition: next.definition as object, note: next.note },
    });
    const saved = { version, result: next.result };
    await after?.(tx, saved);
    return saved;
  });
}

export async function getVersion(
  prisma: PrismaClient,
  id: string,
  version: number,
): Promise<{ id: string; version: number; definition: WorkflowDefinition; createdAt: Date } | null> {
  const v = await prisma.workflowVersion.findFirst({
    where: { workflowId: id, version, workflow: { deletedAt: null } },
  });
  return (
    v && {
      id: v.id,
      version: v.version,
      definition: v.definition as unknown as WorkflowDefinition,
      createdAt: v.createdAt,
    }
  );
}

/** Enables or disables a live workflow (a disabled one is not triggered); false when it does not exist. */
export async function setWorkflowEnabled(
  prisma: PrismaClient,
  id: string,
  enabled: boolean,
): Promise<boolean> {
  const r = await prisma.workflow.updateMany({ where: { id, deletedAt: null }, data: { enabled } });
  return r.count === 1;
}

/**
 * Soft delete (default) hides the workflow and keeps its runs readable; hard delete removes it with
 * its versions, runs, steps and agent turns (foreign keys cascade). Returns whether it existed.
 */
export async function deleteWorkflow(
  prisma: PrismaClient,
  id: string,
  opts: { hard?: boolean } = {},
): Promise<boolean> {
  if (opts.hard) return (await prisma.workflow.deleteMany({ where: { id } })).count === 1;
  const r = await prisma.workflow.updateMany({
    where: { id, deletedAt: null },
    data: { deletedAt: new Date(), enabled: false },
  });
  return r.count === 1;
}
