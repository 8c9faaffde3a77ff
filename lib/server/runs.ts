import { z } from 'zod';
import type { Principal } from '@/lib/auth/store';
import * as runsRepo from '@/lib/db/repositories/runs';
import * as wfRepo from '@/lib/db/repositories/workflows';
import type { EngineEvent } from '@/lib/engine/events';
import { TERMINAL_RUN_STATUSES, type RunStatus } from '@/lib/engine/trace-store';
import { NotFoundError, TrellisError, ValidationError } from '@/lib/workflow/errors';
import { applyInputDefaults } from '@/lib/workflow/input-defaults';
import { authenticate } from '@/lib/auth/authenticate';
import { enqueueRun } from './enqueue';
import { dateInRange, INT4_MAX, MAX_RUN_INPUT_BYTES } from './limits';
import { assertRunCapacity } from './rate-limit';
import { json, parseWith, readJson, type RouteContext } from './route';
import { getRuntime, type Runtime } from './runtime';

export { enqueueRun };

/** `wait: true` answers with the finished run, or with 202 and the run id if it takes longer. */
export const RUN_WAIT_TIMEOUT_MS = 60_000;
/** SSE comment lines keep proxies from closing an idle stream. */
export const SSE_KEEPALIVE_MS = 15_000;

export const startBody = z.object({
  input: z.unknown().optional(),
  version: z.number().int().min(1).max(INT4_MAX).optional(),
  wait: z.boolean().optional(),
});

function assertInputSize(input: unknown) {
  const bytes = Buffer.byteLength(JSON.stringify(input ?? null));
  if (bytes > MAX_RUN_INPUT_BYTES) {
    throw new TrellisError(
      'payload_too_large',
      `Run input is ${bytes} bytes; the limit is ${MAX_RUN_INPUT_BYTES}`,
      {
        details: {
          problems: [{ path: '/input', code: 'too_large', message: `at most ${MAX_RUN_INPUT_BYTES} bytes` }],
        },
      },
    );
  }
}

/**
 * The run with the first page of its steps and the cursor to the rest (GET /api/runs/:id/steps).
 * Never unbounded: a 100,000-step run must not be read, serialized and sent in one answer.
 */
async function runView(runId: string, stepLimit = runsRepo.DEFAULT_STEP_PAGE_SIZE) {
  const { db } = await getRuntime();
  const run = await runsRepo.getRunWithSteps(db.prisma, runId, { stepLimit });
  if (!run) throw new NotFoundError(`Run ${runId}`);
  const { steps, stepsCursor, ...rest } = run;
  return { run: rest, steps, stepsCursor };
}

async function waitForRun(runId: string, timeoutMs: number): Promise<boolean> {
  const { dispatcher } = await getRuntime();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    const settled = await Promise.race([dispatcher.settled(runId).then(() => true), timeout]);
    return settled;
  } finally {
    clearTimeout(timer);
  }
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The caller's W3C `traceparent`, for the run's spans to continue (lib/telemetry). A malformed
 * one is ignored, as the W3C spec asks: it starts a new trace rather than failing the request.
 */
export function incomingTraceparent(req: Request): string | null {
  const raw = req.headers.get('traceparent')?.trim().toLowerCase();
  const m = raw ? TRACEPARENT.exec(raw) : null;
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return null;
  return raw!;
}

export async function startRun({ req, params }: RouteContext<{ id: string }>) {
  const body = parseWith(startBody, await readJson(req));
  assertInputSize(body.input);
  const rt = await getRuntime();
  const wf = await wfRepo.getWorkflow(rt.db.prisma, params.id);
  if (!wf) throw new NotFoundError(`Workflow ${params.id}`);
  await assertRunCapacity(rt.db.prisma, params.id);
  const v = await wfRepo.getVersion(rt.db.prisma, params.id, body.version ?? wf.version);
  if (!v) throw new NotFoundError(`Workflow ${params.id} version ${body.version}`);
  const runId = await enqueueRun(rt, {
    workflowId: params.id,
    versionId: v.id,
    version: v.version,
    definition: v.definition,
    input: applyInputDefaults(v.definition.inputSchema, body.input ?? {}),
    trigger: 'manual',
    traceContext: incomingTraceparent(req),
  });
  if (body.wait && (await waitForRun(runId, RUN_WAIT_TIMEOUT_MS))) return json(await runView(runId));
  return json({ runId }, 202);
}

export const listQuery = z.object({
  workflowId: z.string().optional(),
  status: z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled']).optional(),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(runsRepo.MAX_RUN_PAGE_SIZE).optional(),
  from: z.coerce.date().refine(dateInRange, 'a date between years 1 and 9999').optional(),
  to: z.coerce.date().refine(dateInRange, 'a date between years 1 and 9999').optional(),
  q: z.string().trim().min(1).max(200).optional(),
  trigger: z.string().trim().min(1).max(200).optional(),
});

export async function listRuns({ req }: RouteContext<unknown>) {
  const url = new URL(req.url);
  const q = parseWith(listQuery, Object.fromEntries(url.searchParams));
  const { db } = await getRuntime();
  const page = await runsRepo.listRuns(db.prisma, q);
  return json({ runs: page.items, nextCursor: page.nextCursor });
}

export const runQuery = z.object({
  stepLimit: z.coerce.number().int().min(1).max(runsRepo.MAX_STEP_PAGE_SIZE).optional(),
});

export async function getRun({ req, params }: RouteContext<{ id: string }>) {
  const q = parseWith(runQuery, Object.fromEntries(new URL(req.url).searchParams));
  return json(await runView(params.id, q.stepLimit));
}

export const stepsQuery = z.object({
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(runsRepo.MAX_STEP_PAGE_SIZE).optional(),
});

export async function listRunSteps({ req, params }: RouteContext<{ id: string }>) {
  const q = parseWith(stepsQuery, Object.fromEntries(new URL(req.url).searchParams));
  const { db } = await getRuntime();
  if (!(await db.prisma.run.findUnique({ where: { id: params.id }, select: { id: true } })))
    throw new NotFoundError(`Run ${params.id}`);
  return json(await runsRepo.listSteps(db.prisma, params.id, q));
}

export async function getStep({ params }: RouteContext<{ id: string; stepId: string }>) {
  const { db, store } = await getRuntime();
  const step = await runsRepo.getStep(db.prisma, params.id, params.stepId);
  if (!step) throw new NotFoundError(`Step ${params.stepId}`);
  const { agentTurns, ...rest } = step;
  // Artifacts without their bytes: each is fetched on its own (GET /api/runs/:id/artifacts/:artifactId).
  const artifacts = await store.listArtifacts(params.stepId);
  return json({ step: rest, agentTurns, artifacts });
}

export async function cancelRun({ params }: RouteContext<{ id: string }>) {
  const { engine } = await getRuntime();
  await runView(params.id, 1);
  const ok = await engine.cancelRun(params.id);
  return json({ ok });
}

export const rerunBody = z.object({
  fromNodeId: z.string().min(1).optional(),
  /** `original` (default): the version the run used; `latest`: the workflow's newest version. */
  on: z.enum(['original', 'latest']).optional(),
});

/**
 * A rerun is a new run and obeys the rules of one: its workflow must still exist and be enabled,
 * and the workflow's backlog must have room. Runs of no saved workflow (ad-hoc) have neither.
 */
async function assertRerunAllowed(rt: Runtime, workflowId: string | null) {
  if (!workflowId) return;
  const wf = await rt.db.prisma.workflow.findUnique({
    where: { id: workflowId },
    select: { deletedAt: true, enabled: true },
  });
  if (!wf || wf.deletedAt) throw new NotFoundError(`Workflow ${workflowId}`);
  if (!wf.enabled)
    throw new TrellisError('conflict', `Workflow ${workflowId} is disabled; enable it to rerun its runs`, {
      details: { workflowId },
    });
  await assertRunCapacity(rt.db.prisma, workflowId);
}

export async function rerun({ req, params }: RouteContext<{ id: string }>) {
  // No body (or not JSON) means a full rerun; a body over the limit is still refused.
  const raw = await readJson(req).catch((e) => {
    if (e instanceof ValidationError) return {};
    throw e;
  });
  const body = parseWith(rerunBody, raw);
  const rt = await getRuntime();
  const { run } = await runView(params.id, 1);
  await assertRerunAllowed(rt, run.workflowId);
  let runId: string;
  if (body.on === 'latest' && body.fromNodeId) {
    // Reusing steps of one version inside another is not defined: node ids may mean other things.
    throw new ValidationError([
      {
        path: '/on',
        code: 'unsupported',
        message: 'a rerun from a step runs the version the run used; rerun the whole run on latest',
      },
    ]);
  }
  if (body.on === 'latest') {
    if (!run.workflowId) throw new NotFoundError(`Workflow of run ${params.id}`);
    const wf = await wfRepo.getWorkflow(rt.db.prisma, run.workflowId);
    if (!wf) throw new NotFoundError(`Workflow ${run.workflowId}`);
    // Enqueued like any start (and so validated): the latest version may have problems.
    const input = (await rt.store.getRun(params.id))?.input ?? {};
    const id = await enqueueRun(rt, {
      workflowId: wf.id,
      versionId: wf.versionId,
      version: wf.version,
      definition: wf.definition,
      input,
      trigger: `rerun:${params.id}`,
    });
    return json({ runId: id, version: wf.version }, 202);
  } else if (body.fromNodeId) {
    runId = await rt.engine.rerunFromNode(params.id, body.fromNodeId);
  } else {
    const definition = await rt.store.runDefinition(params.id);
    const original = await rt.store.getRun(params.id);
    runId = await rt.engine.startRun({
      definition,
      workflowId: run.workflowId,
      versionId: run.workflowVersionId,
      version: run.version,
      // The exact input of the original run, not its trace copy (capped, masked).
      input: (await rt.store.runInput(params.id)) ?? {},
      trigger: `rerun:${params.id}`,
      // The rerun starts from the trigger node that started the original, not from every root.
      triggerNodeId: original?.triggerNodeId ?? null,
    });
  }
  await rt.dispatcher.enqueue(runId, run.workflowId);
  return json({ runId }, 202);
}

export const approvalBody = z.object({ approved: z.boolean(), comment: z.string().max(10_000).optional() });

/** Who decided, as recorded in the approval step's output (`by`). */
export function principalName(auth: Principal | undefined): string {
  if (!auth) return 'unknown';
  if (auth.kind === 'session') return auth.email ?? `user:${auth.userId}`;
  if (auth.kind === 'api_token') return `api-token:${auth.tokenId}${auth.email ? ` (${auth.email})` : ''}`;
  return 'env-token';
}

export async function decideApproval({ req, params, auth }: RouteContext<{ id: string; nodeId: string }>) {
  const body = parseWith(approvalBody, await readJson(req));
  const rt = await getRuntime();
  // Throws 409 when another decision landed first, so only the winner resumes the run.
  await rt.engine.decideApproval(params.id, params.nodeId, {
    approved: body.approved,
    comment: body.comment,
    by: principalName(auth),
  });
  await rt.dispatcher.resume(params.id);
  return json({ ok: true });
}

/**
 * Every frame carries an id: the server time it was sent. A reconnecting EventSource sends the
 * last one back (Last-Event-ID) and gets only the steps that changed since, not the whole run.
 */
function sseFrame(event: string, data: unknown, id = Date.now()): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** How often an open stream re-checks its credential: a revoked token or logout ends it. */
export const STREAM_REAUTH_MS = 2_000;
/**
 * Steps are stamped by the process that ran them (a worker, in server mode) and written in
 * batches; a resume looks back this far before the last event id to cover both.
 */
export const SSE_RESUME_SLACK_MS = 5_000;

function lastEventTime(req: Request): Date | null {
  const raw = req.headers.get('last-event-id');
  if (!raw || !/^\d{1,15}$/.test(raw)) return null;
  const t = new Date(Number(raw) - SSE_RESUME_SLACK_MS);
  return dateInRange(t) ? t : null;
}

type StepEvent = Extract<EngineEvent, { type: 'step.started' | 'step.finished' | 'step.failed' }>;

function stepEventData(ev: StepEvent) {
  const status = ev.type === 'step.started' ? 'running' : ev.type === 'step.failed' ? 'failed' : ev.status;
  return {
    stepId: ev.stepId,
    nodeId: ev.nodeId,
    parentNodeId: ev.parentNodeId,
    itemIndex: ev.itemIndex,
    status,
    ...(ev.type === 'step.started' ? { attempt: ev.attempt } : {}),
    ...(ev.type === 'step.failed' ? { attempt: ev.attempt, error: ev.error, willRetry: ev.willRetry } : {}),
    ...(ev.type === 'step.finished' ? { handle: ev.handle, durationMs: ev.durationMs } : {}),
  };
}

export async function runEvents({ req, params }: RouteContext<{ id: string }>) {
  const rt = await getRuntime();
  await runView(params.id, 1); // 404 before the stream starts
  const resumeFrom = lastEventTime(req);
  const encoder = new TextEncoder();
  const terminal = (s: string) => TERMINAL_RUN_STATUSES.includes(s as RunStatus);
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let closed = false;
      const send = (s: string) => {
        if (!closed) controller.enqueue(encoder.encode(s));
      };
      const close = () => {
        if (closed) return;
        closed = true;
        cleanup();
        controller.close();
      };
      // Subscribe before reading the snapshot, and hold events until it is sent, so nothing
      // that happens in between is lost.
      let held: EngineEvent[] | null = [];
      const deliver = (ev: EngineEvent) => {
        if (ev.type === 'run.finished') {
          send(sseFrame('run', { runId: ev.runId, status: ev.status, output: ev.output, error: ev.error }));
          if (terminal(ev.status)) close();
        } else if (ev.type === 'run.started') {
          send(sseFrame('run', { runId: ev.runId, status: 'running' }));
        } else send(sseFrame('step', stepEventData(ev)));
      };
      const unsubscribe = rt.events.subscribe(params.id, (ev) => (held ? held.push(ev) : deliver(ev)));
      const keepalive = setInterval(() => send(': keepalive\n\n'), SSE_KEEPALIVE_MS);
      // Revocation ends streams: the credential that opened it is checked again while it is open.
      let checking = false;
      const reauth = setInterval(() => {
        if (checking || closed) return;
        checking = true;
        authenticate(req)
          .then(
            (p) => p,
            () => null,
          )
          .then((p) => {
            checking = false;
            if (p || closed) return;
            send(
              sseFrame('end', {
                reason: 'unauthorized',
                message: 'The credential of this stream was revoked',
              }),
            );
            close();
          });
      }, STREAM_REAUTH_MS);
      const onAbort = () => close();
      req.signal.addEventListener('abort', onAbort);
      cleanup = () => {
        unsubscribe();
        clearInterval(keepalive);
        clearInterval(reauth);
        req.signal.removeEventListener('abort', onAbort);
      };
      // Steps this process has run may still sit in the trace store's write batch.
      await rt.store.flush();
      let status: string;
      if (resumeFrom) {
        const { run } = await runView(params.id, 1);
        const changed = await runsRepo.stepsChangedSince(rt.db.prisma, params.id, resumeFrom);
        status = run.status;
        // `resumed`: these steps are a delta to merge; `truncated`: more changed, reload the list.
        send(
          sseFrame('snapshot', { run, steps: changed.steps, resumed: true, truncated: changed.truncated }),
        );
      } else {
        // The first page only, with its cursor: the rest is read from /api/runs/:id/steps.
        const snapshot = await runView(params.id);
        status = snapshot.run.status;
        send(sseFrame('snapshot', snapshot));
      }
      const pending = held;
      held = null;
      for (const ev of pending) deliver(ev);
      if (terminal(status)) close();
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
    },
  });
}
