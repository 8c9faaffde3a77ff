import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow, deleteWorkflow as deleteWorkflowRow } from '@/lib/db/repositories/workflows';
import { createTempPostgres, postgresUrl, tempDataDir } from '@/lib/db/testing/databases';
import {
  MIN_SCHEDULE_INTERVAL_SECONDS,
  SCHEDULE_MIN_INTERVAL_ENV,
  minScheduleIntervalMs,
} from '@/lib/nodes/trigger-schedule';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { receiveWebhook, webhookInfo, WEBHOOK_SECRET_HEADER } from './hooks';
import { toErrorResponse } from './route';
import { rerun } from './runs';
import { createRuntime, type Runtime } from './runtime';
import { startInProcessScheduler, startScheduledRun } from './schedules';
import { createWorkflow as createWorkflowRoute, deleteWorkflow, patchWorkflow } from './workflows';

// Issue 12 item 8 and issue 14 item 4 through the server: schedule ticks deduplicated per node,
// each trigger firing its own branch, the rules of every run applied to ticks, and disabling or
// deleting a workflow stopping its schedules and cancelling what had not started.

const node = (id: string, type: string, config: Record<string, unknown> = {}): WorkflowNode => ({
  id,
  type,
  position: { x: 0, y: 0 },
  config,
});

function twoSchedules(cron = '0 9 * * *'): WorkflowDefinition {
  return {
    schemaVersion: 1,
    name: 'two schedules',
    nodes: [
      node('s1', 'trigger.schedule', { cron }),
      node('s2', 'trigger.schedule', { cron }),
      node('w1', 'trigger.webhook'),
      node('w2', 'trigger.webhook'),
      node('a', 'transform', { value: 'a' }),
      node('b', 'transform', { value: 'b' }),
      node('c', 'transform', { value: 'c' }),
      node('d', 'transform', { value: 'd' }),
    ],
    edges: [
      { id: 'e1', source: 's1', target: 'a' },
      { id: 'e2', source: 's2', target: 'b' },
      { id: 'e3', source: 'w1', target: 'c' },
      { id: 'e4', source: 'w2', target: 'd' },
    ],
  };
}

const KEY = Symbol.for('trellis.runtime');
const silent = () => {};

const modes: { name: string; open: () => Promise<{ db: Db; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'PGlite',
    open: async () => {
      const dir = tempDataDir();
      const db = await openDb({ dataDir: dir.dir });
      return { db, cleanup: async () => (await db.close(), dir.remove()) };
    },
  },
  ...(postgresUrl
    ? [
        {
          name: 'Postgres',
          open: async () => {
            const tmp = await createTempPostgres('schedules');
            const db = await openDb({ databaseUrl: tmp.url });
            return { db, cleanup: async () => (await db.close(), await tmp.drop()) };
          },
        },
      ]
    : []),
];

describe('minimum schedule interval', () => {
  it(`refuses a cron firing more often than MIN_SCHEDULE_INTERVAL_SECONDS (${MIN_SCHEDULE_INTERVAL_SECONDS}) unless ${SCHEDULE_MIN_INTERVAL_ENV} allows it`, () => {
    const saved = process.env[SCHEDULE_MIN_INTERVAL_ENV];
    try {
      delete process.env[SCHEDULE_MIN_INTERVAL_ENV];
      expect(minScheduleIntervalMs()).toBe(MIN_SCHEDULE_INTERVAL_SECONDS * 1000);
      const secs = validateDefinition(twoSchedules('*/5 * * * * *'));
      expect(secs.valid).toBe(false);
      expect(secs.problems.map((p) => p.path)).toContain('/nodes/0/config/cron');
      expect(secs.problems[0].message).toMatch(/at most one tick per 60 s/);
      // Once a minute, even written with a seconds field, is fine.
      expect(validateDefinition(twoSchedules('30 * * * * *')).valid).toBe(true);
      process.env[SCHEDULE_MIN_INTERVAL_ENV] = '5';
      expect(validateDefinition(twoSchedules('*/5 * * * * *')).valid).toBe(true);
      expect(validateDefinition(twoSchedules('* * * * * *')).valid).toBe(false);
      process.env[SCHEDULE_MIN_INTERVAL_ENV] = '0'; // below 1 s is not a setting: the default holds
      expect(minScheduleIntervalMs()).toBe(MIN_SCHEDULE_INTERVAL_SECONDS * 1000);
    } finally {
      if (saved === undefined) delete process.env[SCHEDULE_MIN_INTERVAL_ENV];
      else process.env[SCHEDULE_MIN_INTERVAL_ENV] = saved;
    }
  });
});

describe.each(modes)('schedules and triggers ($name)', (mode) => {
  let db: Db;
  let rt: Runtime;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ db, cleanup } = await mode.open());
    rt = await createRuntime({ db, dispatch: 'in-process', seed: false });
    (globalThis as Record<symbol, unknown>)[KEY] = Promise.resolve(rt);
  });
  afterAll(async () => {
    delete (globalThis as Record<symbol, unknown>)[KEY];
    await cleanup?.();
  });

  const succeededNodes = async (runId: string) => {
    await rt.dispatcher.settled(runId);
    const rows = await db.sql.query<{ nodeId: string }>(
      `SELECT "nodeId" FROM "Step" WHERE "runId" = $1 AND status = 'succeeded' ORDER BY "nodeId"`,
      [runId],
    );
    return rows.map((r) => r.nodeId);
  };

  it('a tick starts its own node branch once; the other node at the same instant is its own tick', async () => {
    const wf = await createWorkflow(db.prisma, { name: 'x', definition: twoSchedules() });
    const firedAt = new Date('2026-03-01T09:00:00Z');
    const r1 = await startScheduledRun(rt, { workflowId: wf.id, nodeId: 's1', firedAt }, silent);
    expect(r1).toBeTruthy();
    expect(await succeededNodes(r1!)).toEqual(['a', 's1']);
    // The same tick again (a retried job, a second pass) starts nothing.
    expect(await startScheduledRun(rt, { workflowId: wf.id, nodeId: 's1', firedAt }, silent)).toBeNull();
    const r2 = await startScheduledRun(rt, { workflowId: wf.id, nodeId: 's2', firedAt }, silent);
    expect(r2).toBeTruthy();
    expect(await succeededNodes(r2!)).toEqual(['b', 's2']);
    const runs = await db.sql.query<{ triggerNodeId: string }>(
      `SELECT "triggerNodeId" FROM "Run" WHERE "workflowId" = $1 ORDER BY "triggerNodeId"`,
      [wf.id],
    );
    expect(runs.map((r) => r.triggerNodeId)).toEqual(['s1', 's2']);
  });

  it('refuses ticks of a disabled, deleted or invalid workflow, and of a node that is no schedule', async () => {
    const firedAt = new Date('2026-03-01T09:00:00Z');
    const count = async (id: string) =>
      (await db.sql.query(`SELECT 1 FROM "Run" WHERE "workflowId" = $1`, [id])).length;
    const off = await createWorkflow(db.prisma, { name: 'off', definition: twoSchedules() });
    await db.sql.query(`UPDATE "Workflow" SET enabled = false WHERE id = $1`, [off.id]);
    expect(await startScheduledRun(rt, { workflowId: off.id, nodeId: 's1', firedAt }, silent)).toBeNull();
    const gone = await createWorkflow(db.prisma, { name: 'gone', definition: twoSchedules() });
    await deleteWorkflowRow(db.prisma, gone.id);
    expect(await startScheduledRun(rt, { workflowId: gone.id, nodeId: 's1', firedAt }, silent)).toBeNull();
    const ok = await createWorkflow(db.prisma, { name: 'ok', definition: twoSchedules() });
    expect(await startScheduledRun(rt, { workflowId: ok.id, nodeId: 'a', firedAt }, silent)).toBeNull();
    const bad = twoSchedules();
    bad.nodes[4].config = { value: '{{ input. }}' };
    const invalid = await createWorkflow(db.prisma, { name: 'bad', definition: bad });
    const logged: string[] = [];
    expect(
      await startScheduledRun(rt, { workflowId: invalid.id, nodeId: 's1', firedAt }, (s) => logged.push(s)),
    ).toBeNull();
    expect(logged.join('\n')).toMatch(/refused: .*problems/);
    for (const id of [off.id, gone.id, ok.id, invalid.id]) expect(await count(id)).toBe(0);
  });

  it('a workflow created inactive (as the editor creates examples) starts no tick until switched on', async () => {
    const firedAt = new Date('2026-03-02T09:00:00Z');
    const res = await createWorkflowRoute({
      req: new Request('http://x', {
        method: 'POST',
        body: JSON.stringify({ name: 'example', definition: twoSchedules(), enabled: false }),
      }),
      params: {},
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const [row] = await db.sql.query<{ enabled: boolean }>(`SELECT enabled FROM "Workflow" WHERE id = $1`, [
      id,
    ]);
    expect(row.enabled).toBe(false);
    expect(await startScheduledRun(rt, { workflowId: id, nodeId: 's1', firedAt }, silent)).toBeNull();
    await patchWorkflow({
      req: new Request('http://x', { method: 'PATCH', body: JSON.stringify({ enabled: true }) }),
      params: { id },
    });
    expect(await startScheduledRun(rt, { workflowId: id, nodeId: 's1', firedAt }, silent)).toBeTruthy();
  });

  it('the in-process scheduler fires every node of every tick once, and stops when the workflow is disabled', async () => {
    const saved = process.env[SCHEDULE_MIN_INTERVAL_ENV];
    process.env[SCHEDULE_MIN_INTERVAL_ENV] = '1';
    const wf = await createWorkflow(db.prisma, { name: 'tick', definition: twoSchedules('* * * * * *') });
    const stop = startInProcessScheduler(rt);
    try {
      const q = () =>
        db.sql.query<{ triggerNodeId: string; firedAt: string; n: number }>(
          `SELECT "triggerNodeId", input->>'firedAt' AS "firedAt", count(*)::int AS n FROM "Run"
            WHERE "workflowId" = $1 GROUP BY 1, 2`,
          [wf.id],
        );
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await q()).length < 6) await new Promise((r) => setTimeout(r, 200));
      const ticks = await q();
      expect(ticks.length).toBeGreaterThanOrEqual(6);
      for (const t of ticks) expect(t.n).toBe(1);
      expect(new Set(ticks.map((t) => t.triggerNodeId))).toEqual(new Set(['s1', 's2']));
      const res = await patchWorkflow({
        req: new Request('http://x', { method: 'PATCH', body: JSON.stringify({ enabled: false }) }),
        params: { id: wf.id },
      });
      expect(res.status).toBe(200);
      // The scheduler re-reads schedules every SCHEDULE_SYNC_MS and checks enabled at each tick.
      await new Promise((r) => setTimeout(r, 1_000));
      const before = (await q()).length;
      await new Promise((r) => setTimeout(r, 2_500));
      expect((await q()).length).toBe(before);
    } finally {
      stop();
      if (saved === undefined) delete process.env[SCHEDULE_MIN_INTERVAL_ENV];
      else process.env[SCHEDULE_MIN_INTERVAL_ENV] = saved;
    }
  }, 30_000);

  it('disabling or deleting a workflow cancels its queued and waiting runs, and leaves finished ones', async () => {
    const def: WorkflowDefinition = {
      schemaVersion: 1,
      name: 'waits',
      nodes: [node('m', 'trigger.manual'), node('ok', 'approval', { message: 'go?' })],
      edges: [{ id: 'e', source: 'm', target: 'ok' }],
    };
    for (const how of ['disable', 'delete'] as const) {
      const wf = await createWorkflow(db.prisma, { name: how, definition: def });
      const base = { definition: def, workflowId: wf.id, versionId: null, version: 1 };
      const waiting = await rt.engine.startRun(base);
      expect((await rt.engine.executeRun(waiting)).status).toBe('waiting');
      const queued = await rt.engine.startRun(base); // never handed to the dispatcher
      const done = await rt.engine.startRun({
        ...base,
        definition: { ...def, nodes: [def.nodes[0]], edges: [] },
      });
      expect((await rt.engine.executeRun(done)).status).toBe('succeeded');
      const res =
        how === 'disable'
          ? await patchWorkflow({
              req: new Request('http://x', { method: 'PATCH', body: JSON.stringify({ enabled: false }) }),
              params: { id: wf.id },
            })
          : await deleteWorkflow({ req: new Request('http://x'), params: { id: wf.id } });
      expect(res.status).toBeLessThan(300);
      const st = async (id: string) => (await rt.store.getRun(id))!.status;
      expect(await st(waiting)).toBe('cancelled');
      expect(await st(queued)).toBe('cancelled');
      expect(await st(done)).toBe('succeeded');
      const steps = await rt.store.listSteps(waiting);
      expect(steps.find((s) => s.nodeId === 'ok')?.status).toBe('cancelled');
    }
  });

  it('a subworkflow of a disabled saved workflow fails with workflow_disabled (issue 12 item 9)', async () => {
    const child = await createWorkflow(db.prisma, {
      name: 'child',
      definition: {
        schemaVersion: 1,
        name: 'child',
        nodes: [node('m', 'trigger.manual'), node('o', 'output', { value: 1 })],
        edges: [{ id: 'e', source: 'm', target: 'o' }],
      },
    });
    const def: WorkflowDefinition = {
      schemaVersion: 1,
      name: 'parent',
      nodes: [node('m', 'trigger.manual'), node('call', 'subworkflow', { workflowId: child.id, input: {} })],
      edges: [{ id: 'e', source: 'm', target: 'call' }],
    };
    expect((await rt.engine.runToCompletion({ definition: def })).status).toBe('succeeded');
    await patchWorkflow({
      req: new Request('http://x', { method: 'PATCH', body: JSON.stringify({ enabled: false }) }),
      params: { id: child.id },
    });
    const out = await rt.engine.runToCompletion({ definition: def });
    expect(out.status).toBe('failed');
    const call = (await rt.store.listSteps(out.runId)).find((s) => s.nodeId === 'call');
    expect(call?.error?.code).toBe('workflow_disabled');
  });

  it('each webhook trigger has its own URL and fires only its branch; a full rerun starts from it again', async () => {
    const wf = await createWorkflow(db.prisma, { name: 'hooks', definition: twoSchedules() });
    const info = await webhookInfo(db, wf.id, twoSchedules());
    expect(info?.nodes.map((n) => n.url)).toEqual([`/api/hooks/${wf.id}/w1`, `/api/hooks/${wf.id}/w2`]);
    const post = async (nodeId?: string) => {
      const req = new Request(`http://x${nodeId ? `/api/hooks/${wf.id}/${nodeId}` : `/api/hooks/${wf.id}`}`, {
        method: 'POST',
        body: '{"n":1}',
        headers: { 'content-type': 'application/json', [WEBHOOK_SECRET_HEADER]: info!.secret },
      });
      try {
        return await receiveWebhook({ req, params: { workflowId: wf.id, ...(nodeId ? { nodeId } : {}) } });
      } catch (err) {
        return toErrorResponse(err);
      }
    };
    const res = await post('w2');
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    expect(await succeededNodes(runId)).toEqual(['d', 'w2']);
    // Two webhook triggers and no node named: refused, naming the field; an unknown node: 404.
    const ambiguous = await post();
    expect(ambiguous.status).toBe(400);
    expect(JSON.stringify(await ambiguous.json())).toContain('/nodeId');
    expect((await post('a')).status).toBe(404);
    const again = await rerun({
      req: new Request('http://x', { method: 'POST', body: '{}' }),
      params: { id: runId },
    });
    const { runId: rerunId } = (await again.json()) as { runId: string };
    expect(await succeededNodes(rerunId)).toEqual(['d', 'w2']);
  });
});
