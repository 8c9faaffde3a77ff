import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_CONCURRENCY_ENV } from '@/lib/queue/limits';
import { gatedServer, gatedWorkflow, maxOrderSkew } from '@/lib/queue/testing/queue-db';
import { callRoute, loadRoute, until, useEmbeddedRuntime, type Handler } from './testing/route-harness';

// Embedded mode: a burst of 40 runs on one workflow is accepted whole and queues under the
// workflow's concurrency limit; the runs start in the order they were accepted and all succeed.
// (Server mode: lib/queue/burst.test.ts.)

const CONCURRENCY = 3;
const BURST = 40;
const { token } = useEmbeddedRuntime('burst', {
  env: { [WORKFLOW_CONCURRENCY_ENV]: String(CONCURRENCY) },
  timeoutMs: 120_000,
});

const call = (h: Handler, url: string, body?: string, params: Record<string, string> = {}) =>
  callRoute(h, url, { body, params, token });

describe('bursts queue (embedded)', () => {
  let gate: Awaited<ReturnType<typeof gatedServer>>;
  let workflows: Record<string, Handler>;
  let runs: Record<string, Handler>;
  let runList: Record<string, Handler>;

  beforeAll(async () => {
    gate = await gatedServer();
    [workflows, runs, runList] = await Promise.all(
      ['workflows', 'workflows/[id]/runs', 'runs'].map(loadRoute),
    );
  }, 120_000);

  afterAll(async () => {
    gate?.release();
    await gate?.server.close();
  });

  it(`${BURST} runs posted at once are all accepted, wait in 'queued' beyond ${CONCURRENCY} running, start in order and all succeed`, async () => {
    const created = await call(
      workflows.POST,
      '/api/workflows',
      JSON.stringify({
        name: 'burst',
        definition: gatedWorkflow(gate.server.url, `127.0.0.1:${gate.server.port}`),
      }),
    );
    expect(created.status).toBe(201);
    const wfId = (await created.json()).id as string;
    const posted = await Promise.all(
      Array.from({ length: BURST }, (_, n) =>
        call(runs.POST, `/api/workflows/${wfId}/runs`, JSON.stringify({ input: { n } }), { id: wfId }),
      ),
    );
    expect(posted.map((r) => r.status)).toEqual(Array(BURST).fill(202));
    const ids = await Promise.all(posted.map(async (r) => (await r.json()).runId as string));
    expect(new Set(ids).size).toBe(BURST);

    const byStatus = async () => {
      const res = await call(runList.GET, `/api/runs?workflowId=${wfId}&limit=100`);
      const list = (await res.json()).runs as { id: string; status: string }[];
      const count: Record<string, number> = {};
      for (const r of list) count[r.status] = (count[r.status] ?? 0) + 1;
      return count;
    };
    // The slots are held by runs blocked on the gated server; everything else waits, visibly.
    await until(`${CONCURRENCY} calls held`, async () => gate.inFlight === CONCURRENCY);
    const full = await byStatus();
    expect(full).toEqual({ running: CONCURRENCY, queued: BURST - CONCURRENCY });
    const queuedOnly = await call(runList.GET, `/api/runs?workflowId=${wfId}&status=queued&limit=100`);
    expect((await queuedOnly.json()).runs).toHaveLength(BURST - CONCURRENCY);
    await new Promise((r) => setTimeout(r, 300));
    expect(gate.inFlight).toBe(CONCURRENCY); // nobody jumps the limit while slots are full

    gate.release();
    await until('all runs finished', async () => (await byStatus()).succeeded === BURST);
    expect(gate.maxInFlight).toBe(CONCURRENCY);
    expect(gate.order).toHaveLength(BURST);

    // Accepted order is the order the run rows were written; started order the order the gated
    // server saw the calls. Two slots freed together may start in either order, never further apart.
    const { getRuntime } = await import('./runtime');
    const { db } = await getRuntime();
    const rows = await db.prisma.run.findMany({
      where: { workflowId: wfId },
      orderBy: { createdAt: 'asc' },
      select: { input: true, startedAt: true, createdAt: true, status: true },
    });
    const accepted = rows.map((r) => String((r.input as { n: number }).n));
    expect(maxOrderSkew(accepted, gate.order)).toBeLessThan(CONCURRENCY);
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
  }, 120_000);

  it('rerun obeys the rules of a start: a full backlog is 429, a disabled workflow 409, a deleted one 404', async () => {
    gate.release();
    const rerun = await loadRoute('runs/[id]/rerun');
    const created = await call(
      workflows.POST,
      '/api/workflows',
      JSON.stringify({
        name: 'rerun rules',
        definition: gatedWorkflow(gate.server.url, `127.0.0.1:${gate.server.port}`),
      }),
    );
    const wfId = (await created.json()).id as string;
    const first = await call(
      runs.POST,
      `/api/workflows/${wfId}/runs`,
      JSON.stringify({ input: { n: 1 }, wait: true }),
      {
        id: wfId,
      },
    );
    expect(first.status).toBe(200);
    const runId = (await first.json()).run.id as string;
    const again = (body = '{}') => call(rerun.POST, `/api/runs/${runId}/rerun`, body, { id: runId });
    const ok = await again();
    expect(ok.status).toBe(202);
    const { getRuntime } = await import('./runtime');
    const { db, dispatcher } = await getRuntime();
    expect((await dispatcher.settled((await ok.json()).runId))?.status).toBe('succeeded');

    const { DEFAULT_RUN_BACKLOG_PER_WORKFLOW } = await import('./rate-limit');
    await db.prisma.run.createMany({
      data: Array.from({ length: DEFAULT_RUN_BACKLOG_PER_WORKFLOW }, () => ({
        workflowId: wfId,
        status: 'queued',
        trigger: 'manual',
        leaseOwner: 'rerun-test',
      })),
    });
    for (const body of ['{}', JSON.stringify({ fromNodeId: 'call' })]) {
      const full = await again(body);
      expect(full.status).toBe(429);
      expect((await full.json()).error.code).toBe('rate_limited');
    }
    await db.prisma.run.updateMany({ where: { leaseOwner: 'rerun-test' }, data: { status: 'cancelled' } });

    await db.prisma.workflow.update({ where: { id: wfId }, data: { enabled: false } });
    const disabled = await again();
    expect(disabled.status).toBe(409);
    expect((await disabled.json()).error.message).toMatch(/disabled/);
    await db.prisma.workflow.update({ where: { id: wfId }, data: { enabled: true } });

    const del = await loadRoute('workflows/[id]');
    expect(
      (
        await del.DELETE(
          new Request(`http://127.0.0.1:3999/api/workflows/${wfId}`, {
            method: 'DELETE',
            headers: { authorization: `Bearer ${token}` },
          }),
          { params: Promise.resolve({ id: wfId }) },
        )
      ).status,
    ).toBe(204);
    const deleted = await again(JSON.stringify({ fromNodeId: 'call' }));
    expect(deleted.status).toBe(404);
    // Nothing was started by the refused reruns: the one accepted rerun and the original only.
    const started = await db.prisma.run.count({ where: { workflowId: wfId, leaseOwner: null } });
    expect(started).toBe(2);
  }, 120_000);
});
