import { z } from 'zod';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { NotFoundError, TrellisError, ValidationError } from '@/lib/workflow/errors';
import { browserConfigSchema } from '@/lib/browser/schema';
import { json, parseWith, readJson, type RouteContext } from './route';
import { getRuntime } from './runtime';
import { versionConflict } from './version-etag';

// The browser step's API: its stored artifacts (screenshots), and accepting what a run did (a
// healed sequence, or a plain replay with its targets' fingerprints) as the step's new
// deterministic actions, saved as a new version so the next run needs no model.

/** GET /api/runs/:id/artifacts/:artifactId: the bytes, only through a step of that run. */
export async function getArtifact({ params }: RouteContext<{ id: string; artifactId: string }>) {
  const { db, store } = await getRuntime();
  const artifact = await store.getArtifact(params.artifactId).catch(() => null);
  const step =
    artifact &&
    (await db.prisma.step.findFirst({
      where: { id: artifact.stepId, runId: params.id },
      select: { id: true },
    }));
  if (!artifact || !step) throw new NotFoundError(`Artifact ${params.artifactId}`);
  return new Response(Buffer.from(artifact.bytes), {
    headers: {
      'content-type': artifact.mime,
      'content-length': String(artifact.size),
      // Immutable once written; private because it is behind auth.
      'cache-control': 'private, max-age=86400, immutable',
      'x-content-type-options': 'nosniff',
      // sandbox: a DOM snapshot is a page's HTML; opened, it is an opaque origin with no script.
      'content-security-policy':
        "sandbox; default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    },
  });
}

export const acceptBody = z.object({
  stepId: z
    .string()
    .min(1)
    .describe('A succeeded step of this node whose recorded actions become the new ones'),
});

/** POST /api/workflows/:id/nodes/:nodeId/browser-actions `{ stepId }` → a new version. */
export async function acceptBrowserActions({ req, params }: RouteContext<{ id: string; nodeId: string }>) {
  const body = parseWith(acceptBody, await readJson(req));
  const { db } = await getRuntime();
  const wf = await wfRepo.getWorkflow(db.prisma, params.id);
  if (!wf) throw new NotFoundError(`Workflow ${params.id}`);
  const step = await db.prisma.step.findFirst({
    where: { id: body.stepId, nodeId: params.nodeId, run: { workflowId: params.id } },
    select: { status: true, nodeType: true, output: true, mode: true },
  });
  if (!step) throw new NotFoundError(`Step ${body.stepId} of node ${params.nodeId}`);
  if (step.nodeType !== 'browser' || step.status !== 'succeeded')
    throw new ValidationError([
      {
        path: '/stepId',
        code: 'not_acceptable',
        message: 'only a succeeded browser step has actions to accept',
      },
    ]);
  const recorded = (step.output as { recorded?: unknown } | null)?.recorded;
  const actions = browserConfigSchema.shape.actions.safeParse(recorded);
  if (!actions.success || !Array.isArray(recorded))
    throw new ValidationError([
      { path: '/stepId', code: 'not_acceptable', message: 'the step recorded no valid action list' },
    ]);
  const index = wf.definition.nodes.findIndex((n) => n.id === params.nodeId);
  if (index < 0 || wf.definition.nodes[index].type !== 'browser')
    throw new TrellisError('conflict', `the latest version has no browser node ${params.nodeId}`);
  const nodes = [...wf.definition.nodes];
  // The recorded list as stored (defaults not expanded), so the saved config reads as written.
  nodes[index] = { ...nodes[index], config: { ...nodes[index].config, actions: recorded } };
  // Based on the version read above: a save landing in between is not silently replaced.
  const saved = await wfRepo.saveWorkflowVersion(db.prisma, params.id, {
    definition: { ...wf.definition, nodes },
    baseVersion: wf.version,
  });
  if (!saved) throw new NotFoundError(`Workflow ${params.id}`);
  if ('conflict' in saved) throw versionConflict(params.id, wf.version, saved.conflict);
  return json({ ...saved, healed: step.mode === 'healed', actions: recorded.length });
}
