import { z } from 'zod';
import { decodeRunCursor, encodeRunCursor } from '@/lib/db/repositories/runs';
import { listRolloutEvents } from '@/lib/db/repositories/rollout-events';
import { rolloutGatesSchema } from '@/lib/workflow/definition';
import { MAX_CANARY_PERCENT, MIN_CANARY_PERCENT } from '@/lib/workflow/limits';
import { STAGES, stageLabel, type StageState } from '@/lib/workflow/rollout';
import { NotFoundError, TrellisError } from '@/lib/workflow/errors';
import { json, parseWith, readJson, type RouteContext } from './route';
import { principalName } from './runs';
import { changeRollout, killSwitch, rolloutState } from './rollout';
import { getRuntime } from './runtime';

// GET/PUT /api/workflows/:id/rollout, POST …/rollout/kill, GET …/rollout/events (docs/api.md).

export const DEFAULT_ROLLOUT_EVENTS_PAGE = 50;
export const MAX_ROLLOUT_EVENTS_PAGE = 200;
export const MAX_ROLLOUT_REASON_LENGTH = 1_000;

export const rolloutQuery = z.object({ nodeId: z.string().min(1).optional() });

export const rolloutBody = z
  .object({
    nodeId: z.string().min(1),
    stage: z.enum(STAGES).optional(),
    canaryPercent: z.number().int().min(MIN_CANARY_PERCENT).max(MAX_CANARY_PERCENT).optional(),
    gates: rolloutGatesSchema.optional(),
    autoAdvance: z.boolean().optional(),
    /** Advance to canary or agent although the gates do not pass: the owner read the evidence. */
    confirm: z.boolean().optional(),
    reason: z.string().max(MAX_ROLLOUT_REASON_LENGTH).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.canaryPercent !== undefined && b.stage !== 'canary')
      ctx.addIssue({
        code: 'custom',
        path: ['canaryPercent'],
        message: 'canaryPercent goes with stage "canary"',
      });
    if (b.stage === undefined && b.gates === undefined && b.autoAdvance === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['stage'],
        message: 'Give a stage, gates or autoAdvance to change',
      });
  });

export const killBody = z.object({ reason: z.string().max(MAX_ROLLOUT_REASON_LENGTH).optional() }).strict();

export const eventsQuery = z.object({
  nodeId: z.string().min(1).optional(),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ROLLOUT_EVENTS_PAGE).optional(),
});

const ORDER: Record<StageState['stage'], number> = { workflow: 0, shadow: 1, canary: 2, agent: 3 };

export async function getRollout({ req, params }: RouteContext<{ id: string }>) {
  const q = parseWith(rolloutQuery, Object.fromEntries(new URL(req.url).searchParams));
  const { db } = await getRuntime();
  return json(await rolloutState(db.prisma, params.id, q));
}

export async function putRollout({ req, params, auth }: RouteContext<{ id: string }>) {
  const body = parseWith(rolloutBody, await readJson(req));
  const { db } = await getRuntime();
  const state = (await rolloutState(db.prisma, params.id, { nodeId: body.nodeId })).steps[0];
  const to: StageState | undefined = body.stage && {
    stage: body.stage,
    ...(body.stage === 'canary' ? { canaryPercent: body.canaryPercent ?? state.stage.canaryPercent } : {}),
  };
  // Serving the agent to more runs than the gates vouch for is a deliberate act (issue 20 §7).
  const advancing = to && ORDER[to.stage] >= ORDER.canary && ORDER[to.stage] > ORDER[state.stage.stage];
  if (advancing && state.verdict.status !== 'pass' && !body.confirm)
    throw new TrellisError(
      'conflict',
      `The gates of ${body.nodeId} do not pass (${state.verdict.status}); send confirm: true to move to ${stageLabel(to)} anyway`,
      { details: { reason: 'gates_not_passing', pointer: '/confirm', verdict: state.verdict } },
    );
  const who = principalName(auth);
  const saved = await changeRollout(db.prisma, params.id, body.nodeId, {
    to,
    gates: body.gates,
    autoAdvance: body.autoAdvance,
    kind: to && stageLabel(to) !== state.label ? 'stage' : 'gates',
    reason:
      body.reason ??
      (advancing && state.verdict.status !== 'pass'
        ? `Moved by ${who} against the gates (${state.verdict.status})`
        : `Changed by ${who}`),
    evidence: { verdict: state.verdict, served: state.served },
    actor: who,
  });
  if (!saved) return json({ changed: false, version: null });
  return json({ changed: true, version: saved.version, from: saved.from, to: saved.to, node: saved.node });
}

export async function postKill({ req, params, auth }: RouteContext<{ id: string }>) {
  const body = parseWith(killBody, await readJson(req));
  const { db } = await getRuntime();
  const who = principalName(auth);
  const saved = await killSwitch(db.prisma, params.id, who, body.reason ?? `Kill switch by ${who}`);
  return json(saved ? { changed: true, ...saved } : { changed: false, version: null, demoted: [] });
}

export async function getRolloutEvents({ req, params }: RouteContext<{ id: string }>) {
  const q = parseWith(eventsQuery, Object.fromEntries(new URL(req.url).searchParams));
  const { db } = await getRuntime();
  const wf = await db.prisma.workflow.findFirst({ where: { id: params.id }, select: { id: true } });
  if (!wf) throw new NotFoundError(`Workflow ${params.id}`);
  const limit = q.limit ?? DEFAULT_ROLLOUT_EVENTS_PAGE;
  const rows = await listRolloutEvents(db.prisma, params.id, {
    nodeId: q.nodeId,
    limit: limit + 1,
    before: q.cursor ? decodeRunCursor(q.cursor) : undefined,
  });
  const page = rows.slice(0, limit);
  return json({
    events: page,
    cursor: rows.length > limit ? encodeRunCursor(page[page.length - 1]) : null,
  });
}
