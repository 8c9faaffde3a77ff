import { z } from 'zod';
import * as repo from '@/lib/db/repositories/workflows';
import { NotFoundError, ValidationError } from '@/lib/workflow/errors';
import { baseVersionOf, etagFor, versionConflict } from './version-etag';
import { definitionForSave } from './definition-input';
import { INT4_MAX } from './limits';
import { json, parseWith, readJson, type RouteContext } from './route';
import { getRuntime, type Runtime } from './runtime';
import { webhookInfo } from './hooks';
import { listExamples } from './examples';

type IdParams = { id: string };

export const createBody = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  definition: z.unknown(),
  /** `false` creates it inactive: its schedules and webhooks fire once someone switches it on. */
  enabled: z.boolean().optional(),
});
export const saveBody = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  definition: z.unknown(),
  /**
   * The version the client edited (GET's `version`). The save writes only while it is still the
   * latest, else answers 409 version_conflict. Absent (and no If-Match): the save always writes.
   */
  baseVersion: z.number().int().min(1).max(INT4_MAX).optional(),
});

export async function listWorkflows() {
  const { db } = await getRuntime();
  return json({ workflows: await repo.listWorkflows(db.prisma) });
}

export async function createWorkflow({ req }: RouteContext<unknown>) {
  const body = parseWith(createBody, await readJson(req));
  if (body.definition === undefined) {
    throw new ValidationError([{ path: '/definition', code: 'required', message: 'definition is required' }]);
  }
  const { definition, problems } = definitionForSave(body.definition);
  const name = body.name ?? definition.name;
  const { db } = await getRuntime();
  const created = await repo.createWorkflow(db.prisma, {
    name,
    definition: { ...definition, name },
    enabled: body.enabled ?? true,
  });
  return json({ ...created, problems }, 201);
}

export async function getWorkflow({ params }: RouteContext<IdParams>) {
  const { db } = await getRuntime();
  const wf = await repo.getWorkflow(db.prisma, params.id);
  if (!wf) throw new NotFoundError(`Workflow ${params.id}`);
  // Additive field (issue 5): the webhook URL and secret, when the workflow has a webhook trigger.
  const webhook = await webhookInfo(db, params.id, wf.definition);
  // The answer carries the webhook secret: no cache (browser, proxy) may keep a copy.
  const etag = { etag: etagFor(wf.version) };
  return webhook
    ? json({ ...wf, webhook }, 200, { 'cache-control': 'no-store', ...etag })
    : json(wf, 200, etag);
}

export async function saveWorkflow({ req, params }: RouteContext<IdParams>) {
  const body = parseWith(saveBody, await readJson(req));
  const baseVersion = baseVersionOf(body.baseVersion, req.headers.get('if-match'));
  const { definition, problems } = definitionForSave(body.definition);
  const name = body.name ?? definition.name;
  const { db } = await getRuntime();
  const saved = await repo.saveWorkflowVersion(db.prisma, params.id, {
    definition: { ...definition, name },
    name,
    baseVersion,
  });
  if (!saved) throw new NotFoundError(`Workflow ${params.id}`);
  if ('conflict' in saved) throw versionConflict(params.id, baseVersion!, saved.conflict);
  return json({ ...saved, problems }, 200, { etag: etagFor(saved.version) });
}

/**
 * A workflow that is deleted or disabled starts nothing more: its schedules stop (the scheduler
 * reads only enabled, live workflows, and checks again when a tick fires) and its runs that have
 * not started or are parked (queued, waiting) are cancelled. Running ones finish.
 */
export async function cancelPendingRuns(rt: Pick<Runtime, 'db' | 'engine'>, workflowId: string) {
  const runs = await rt.db.sql.query<{ id: string }>(
    `SELECT id FROM "Run" WHERE "workflowId" = $1 AND "parentRunId" IS NULL AND status = ANY($2::text[])`,
    [workflowId, PENDING_RUN_STATUSES],
  );
  let cancelled = 0;
  for (const r of runs) if (await rt.engine.cancelRun(r.id)) cancelled++;
  return cancelled;
}
const PENDING_RUN_STATUSES = ['queued', 'waiting'];

export async function deleteWorkflow({ params }: RouteContext<IdParams>) {
  const rt = await getRuntime();
  if (!(await repo.deleteWorkflow(rt.db.prisma, params.id))) throw new NotFoundError(`Workflow ${params.id}`);
  await cancelPendingRuns(rt, params.id);
  return new Response(null, { status: 204 });
}

export const patchBody = z.object({ enabled: z.boolean() });

/** PATCH /api/workflows/:id `{ enabled }`: a disabled workflow is not triggered (schedules, webhooks). */
export async function patchWorkflow({ req, params }: RouteContext<IdParams>) {
  const body = parseWith(patchBody, await readJson(req));
  const rt = await getRuntime();
  if (!(await repo.setWorkflowEnabled(rt.db.prisma, params.id, body.enabled)))
    throw new NotFoundError(`Workflow ${params.id}`);
  const cancelled = body.enabled ? 0 : await cancelPendingRuns(rt, params.id);
  return json({ id: params.id, enabled: body.enabled, cancelledRuns: cancelled });
}

export async function listVersions({ params }: RouteContext<IdParams>) {
  const { db } = await getRuntime();
  const versions = await repo.listVersions(db.prisma, params.id);
  if (!versions.length) throw new NotFoundError(`Workflow ${params.id}`);
  return json({ versions });
}

export async function getVersion({ params }: RouteContext<IdParams & { n: string }>) {
  const n = Number(params.n);
  if (!Number.isInteger(n) || n < 1 || n > INT4_MAX) throw new NotFoundError(`Version ${params.n}`);
  const { db } = await getRuntime();
  const v = await repo.getVersion(db.prisma, params.id, n);
  if (!v) throw new NotFoundError(`Workflow ${params.id} version ${n}`);
  return json(v);
}

export function examples() {
  return json({ examples: listExamples() });
}
