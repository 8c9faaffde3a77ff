import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Db } from '@/lib/db/client';
import { beganAt, operationBegan } from '@/lib/db/change-feed';
import * as repo from '@/lib/db/repositories/workflows';
import { NotFoundError, TrellisError } from '@/lib/workflow/errors';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { json, readJson, type RouteContext } from './route';
import { assertBacklogRoom, assertWebhookRate } from './rate-limit';
import { getRuntime, type Runtime } from './runtime';
import { enqueueRun, incomingTraceparent } from './runs';

// POST /api/hooks/:workflowId[/:nodeId] — the `trigger.webhook` node. Authenticated by the
// workflow's own secret (Workflow.webhookSecret, generated the first time a workflow with a
// webhook trigger is read by its owner), never by the API token. The body becomes the run input.
// A workflow with several webhook triggers has one URL per node, and each fires only its branch.

/** Webhook bodies above this are refused with 413 before they are parsed. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;
/** A workflow that ends in an `output` node answers 200 with it if it finishes within this. */
export const WEBHOOK_WAIT_MS = 10_000;
export const WEBHOOK_SECRET_HEADER = 'x-trellis-webhook-secret';

const hasNode = (def: WorkflowDefinition, type: string) => def.nodes.some((n) => n.type === type);
const webhookNodes = (def: WorkflowDefinition) =>
  def.nodes.filter((n) => n.type === 'trigger.webhook').map((n) => n.id);

/** The workflow's own webhook rate: the highest `ratePerSecond` of its webhook triggers, if any. */
export function workflowWebhookRate(def: WorkflowDefinition): number | undefined {
  const rates = def.nodes
    .filter((n) => n.type === 'trigger.webhook')
    .map((n) => (n.config as { ratePerSecond?: unknown } | undefined)?.ratePerSecond)
    .filter((r): r is number => typeof r === 'number' && Number.isInteger(r) && r > 0);
  return rates.length ? Math.max(...rates) : undefined;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

/** The secret of a workflow with a webhook trigger, created on first use; null when it has none. */
export async function ensureWebhookSecret(
  db: Db,
  workflowId: string,
  definition: WorkflowDefinition,
): Promise<string | null> {
  if (!hasNode(definition, 'trigger.webhook')) return null;
  // Set only when empty, so two first readers agree on one secret.
  const rows = await db.sql.query<{ webhookSecret: string }>(
    `UPDATE "Workflow" SET "webhookSecret" = COALESCE("webhookSecret", $2) WHERE id = $1 RETURNING "webhookSecret"`,
    [workflowId, newWebhookSecret()],
  );
  return rows[0]?.webhookSecret ?? null;
}

/** The field GET /api/workflows/:id adds for its owner: where to post and with which secret. */
export async function webhookInfo(db: Db, workflowId: string, definition: WorkflowDefinition) {
  const secret = await ensureWebhookSecret(db, workflowId, definition);
  if (!secret) return null;
  const nodes = webhookNodes(definition).map((nodeId) => ({
    nodeId,
    url: `/api/hooks/${workflowId}/${encodeURIComponent(nodeId)}`,
  }));
  // `url` fires the workflow's only webhook trigger; with several, each node has its own.
  return { url: `/api/hooks/${workflowId}`, header: WEBHOOK_SECRET_HEADER, secret, nodes };
}

/**
 * POST /api/workflows/:id/webhook/rotate — replaces the secret. Every webhook call reads the
 * secret from the database or from a cache that has caught up with the write (workflow-heads.ts,
 * change-feed.ts), so the old one is refused from the next request on. The answer
 * carries the new secret, so nothing may cache it.
 */
export async function rotateWebhookSecret({ params }: RouteContext<{ id: string }>) {
  const { db } = await getRuntime();
  const wf = await repo.getWorkflow(db.prisma, params.id);
  if (!wf) throw new NotFoundError(`Workflow ${params.id}`);
  if (!hasNode(wf.definition, 'trigger.webhook'))
    throw new TrellisError('conflict', 'The saved workflow has no webhook trigger: save one first');
  const secret = newWebhookSecret();
  await db.sql.query(`UPDATE "Workflow" SET "webhookSecret" = $2 WHERE id = $1`, [params.id, secret]);
  return json({ url: `/api/hooks/${params.id}`, header: WEBHOOK_SECRET_HEADER, secret }, 200, {
    'cache-control': 'no-store',
  });
}

function presentedSecret(req: Request): string | null {
  const h = req.headers.get(WEBHOOK_SECRET_HEADER);
  if (h) return h;
  const auth = req.headers.get('authorization');
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return new URL(req.url).searchParams.get('secret');
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so lengths match and the comparison time says nothing about the secret.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

interface WebhookTarget {
  secret: string | null;
  versionId: string;
  version: number;
  definition: WorkflowDefinition;
  /** Top-level runs of the workflow waiting to start. */
  queued: number;
}

/** Top-level runs of a workflow waiting to start: the backlog a webhook call is checked against. */
const QUEUED_RUNS = `SELECT count(*)::int AS queued FROM "Run"
  WHERE "workflowId" = $1 AND status = 'queued' AND "parentRunId" IS NULL`;

/**
 * The enabled workflow a webhook call fires, with its backlog. The workflow's head comes from
 * memory (workflow-heads.ts) when there is a change feed. Embedded mode knows the backlog too (the
 * in-process dispatcher); server mode counts it on the feed's session, and that round trip is
 * also the one that makes the head fresh (change-feed.ts readFresh). Without a feed, one round
 * trip reads both.
 */
async function webhookTarget(rt: Runtime, workflowId: string): Promise<WebhookTarget | undefined> {
  const since = operationBegan();
  const queued = rt.dispatcher.backlog?.(workflowId);
  if (rt.heads.cached && queued !== undefined) {
    const head = await rt.heads.get(workflowId);
    return head?.enabled ? { ...head, queued } : undefined;
  }
  const counted = rt.heads.cached
    ? await rt.db.changes?.readFresh?.<{ queued: number }>(QUEUED_RUNS, [workflowId])
    : null;
  if (counted) {
    const head = await rt.heads.get(workflowId, since);
    return head?.enabled ? { ...head, queued: counted[0]?.queued ?? 0 } : undefined;
  }
  const rows = await rt.db.sql.query<WebhookTarget>(
    // The backlog count rides along (one round trip per call, not two); it is only acted on after
    // the secret check.
    `SELECT w."webhookSecret" AS secret, v.id AS "versionId", v.version, v.definition,
            (SELECT count(*)::int FROM "Run" r
              WHERE r."workflowId" = w.id AND r.status = 'queued' AND r."parentRunId" IS NULL) AS queued
       FROM "Workflow" w JOIN "WorkflowVersion" v ON v."workflowId" = w.id AND v.version = w."latestVersion"
      WHERE w.id = $1 AND w.enabled AND w."deletedAt" IS NULL`,
    [workflowId],
  );
  return rows[0];
}

export function receiveWebhook(ctx: RouteContext<{ workflowId: string; nodeId?: string }>) {
  // One operation from arrival: the round trip that makes the workflow's head fresh also serves
  // the stored secrets its run reads (change-feed.ts beganAt).
  return beganAt(performance.now(), () => receive(ctx));
}

async function receive({ req, params }: RouteContext<{ workflowId: string; nodeId?: string }>) {
  const rt = await getRuntime();
  const wf = await webhookTarget(rt, params.workflowId);
  // One answer (401, same message) for "no such workflow", "disabled", "no webhook trigger" and
  // "wrong secret": a stranger cannot tell which workflow ids exist.
  const given = presentedSecret(req);
  if (
    !wf ||
    !wf.secret ||
    !hasNode(wf.definition, 'trigger.webhook') ||
    !given ||
    !sameSecret(given, wf.secret)
  ) {
    throw new TrellisError('unauthorized', 'Missing or wrong webhook secret');
  }
  const nodes = webhookNodes(wf.definition);
  const triggerNodeId = params.nodeId ?? (nodes.length === 1 ? nodes[0] : undefined);
  if (params.nodeId !== undefined && !nodes.includes(params.nodeId))
    throw new NotFoundError(`Webhook trigger ${params.nodeId} of workflow ${params.workflowId}`);
  if (triggerNodeId === undefined) {
    throw new TrellisError(
      'validation_error',
      `Workflow ${params.workflowId} has ${nodes.length} webhook triggers; post to /api/hooks/${params.workflowId}/<nodeId>`,
      {
        details: {
          problems: [{ path: '/nodeId', code: 'required', message: `one of ${nodes.join(', ')}` }],
        },
      },
    );
  }
  // Counted after the secret check, so strangers cannot use up a workflow's allowance.
  assertWebhookRate(params.workflowId, undefined, workflowWebhookRate(wf.definition));
  assertBacklogRoom(params.workflowId, wf.queued);
  const input = await readJson(req, MAX_WEBHOOK_BODY_BYTES);
  const runId = await enqueueRun(rt, {
    workflowId: params.workflowId,
    versionId: wf.versionId,
    version: wf.version,
    definition: wf.definition,
    input,
    trigger: 'webhook',
    triggerNodeId,
    traceContext: incomingTraceparent(req),
  });
  if (hasNode(wf.definition, 'output')) {
    let timer: NodeJS.Timeout | undefined;
    const out = await Promise.race([
      rt.dispatcher.settled(runId),
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), WEBHOOK_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (out?.status === 'succeeded') return json({ runId, status: out.status, output: out.output });
  }
  return json({ runId }, 202);
}
