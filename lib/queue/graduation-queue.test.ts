import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { PrismaGraduationStore } from '@/lib/db/graduation-store';
import { createEngine } from '@/lib/engine/engine';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { FINAL_GRADUATION_STATUSES } from '@/lib/promotion/graduation-store';
import { INTERRUPTED } from '@/lib/promotion/job';
import { triageDefinition, triageTickets } from '@/lib/promotion/testing/triage';
import { proposeInWorker, replayBacktest } from '@/lib/server/backtest-host';
import { buildEngine, hostEngineOptions } from '@/lib/server/runtime';
import {
  callJson,
  loadRoute,
  until,
  usePostgresRuntime,
  type Body,
  type Handler,
} from '@/lib/server/testing/route-harness';
import { BACKTEST_QUEUE } from './limits';
import { pgAvailable } from './testing/queue-db';
import { startQueueWorker, type QueueWorker } from './worker';

// Server mode: POST …/graduation writes the proposal and its job and answers 202; a `trellis
// worker` asks the model and backtests the candidate, writing progress the web process reads;
// a cancel written by the web process reaches the worker that holds the job.
// (Embedded mode: lib/server/graduation.test.ts.)

const TOKEN = 'graduation-queue-token-0123456789';

describe.skipIf(!pgAvailable)('graduation proposals on the queue', () => {
  let mock: MockLlmServer;
  let worker: QueueWorker | undefined;
  const saved = { ...process.env };
  let r: Record<'graduation' | 'proposal' | 'cancel', Record<string, Handler>>;
  let wid = '';
  beforeAll(async () => {
    mock = await startMockLlmServer();
    Object.assign(process.env, {
      OPENAI_BASE_URL: mock.baseURL,
      OPENAI_API_KEY: 'mock',
      OPENAI_MODEL: 'scenario:echo',
      TRELLIS_API_TOKEN: TOKEN,
    });
  });
  const ctx = usePostgresRuntime('graduation', { queue: true });
  beforeAll(async () => {
    r = {
      graduation: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation'),
      proposal: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation/[gid]'),
      cancel: await loadRoute('workflows/[id]/nodes/[nodeId]/graduation/[gid]/cancel'),
    };
    const definition = triageDefinition();
    wid = (await createWorkflow(ctx.db.prisma, { name: 'Triage graduation', definition })).id;
    // History written directly (no run jobs): the worker only sees promotion jobs.
    const traces = new SqlTraceStore(ctx.db);
    const engine = createEngine({ store: traces, ...hostEngineOptions(ctx.db) });
    for (const t of triageTickets())
      await engine.runToCompletion({ definition, workflowId: wid, version: 1, input: { text: t.text } });
    await traces.flush();
  }, 120_000);
  afterAll(async () => {
    await worker?.stop(1_000);
    await mock?.close();
    process.env = saved;
  });

  const params = (gid?: string) => ({ id: wid, nodeId: 'label', ...(gid ? { gid } : {}) });
  const url = (rest = '') => `/api/workflows/${wid}/nodes/label/graduation${rest}`;
  const post = async (body: unknown) => {
    const res = await callJson(r.graduation.POST, url(), { body, params: params(), token: TOKEN });
    expect(res.status).toBe(202);
    return res.body.graduation as Body;
  };
  const get = async (gid: string) =>
    (await callJson(r.proposal.GET, url(`/${gid}`), { params: params(gid), token: TOKEN })).body
      .graduation as Body;
  const final = (g: Body) => FINAL_GRADUATION_STATUSES.includes(g.status);

  it('202 with a job; queued until a worker takes it; progress, then the proposal', async () => {
    const g = await post({ model: 'scenario:graduate', runs: { limit: 40 } });
    const jobs = await ctx.db.sql.query(`SELECT data FROM pgboss.job WHERE name = $1 AND id = $2`, [
      BACKTEST_QUEUE,
      g.id,
    ]);
    expect(jobs).toEqual([{ data: { graduationId: g.id } }]);
    expect((await get(g.id)).status).toBe('queued');

    worker = await startQueueWorker({
      databaseUrl: ctx.url,
      concurrency: 1,
      makeEngine: buildEngine,
      runBacktest: replayBacktest,
      runGraduation: proposeInWorker,
      schedules: false,
    });
    const seen = new Set<string>();
    let last: Body = g;
    await until(
      'the proposal to end',
      async () => {
        last = await get(g.id);
        seen.add(last.phase);
        return final(last);
      },
      90_000,
      20,
    );
    expect(last).toMatchObject({
      status: 'succeeded',
      phase: 'done',
      progress: { total: 40, done: 40 },
      proposal: { nodeType: 'code', cases: 40 },
    });
    expect(last.proposal.agreed).toBe(Math.round(last.proposal.agreement * 40));
    expect(seen.has('queued')).toBe(true);
  });

  it('a cancel from the web process stops the job on the worker', async () => {
    const before = mock.requests.length;
    const g = await post({ model: 'scenario:slow', runs: { limit: 40 } });
    await until('the slow model call', async () => mock.requests.length > before, 30_000);
    const res = await callJson(r.cancel.POST, url(`/${g.id}/cancel`), {
      method: 'POST',
      params: params(g.id),
      token: TOKEN,
    });
    expect(res.status).toBe(200);
    let last: Body = g;
    await until('the cancel', async () => final((last = await get(g.id))), 30_000);
    expect(last).toMatchObject({ status: 'cancelled', proposal: null, progress: { done: 0 } });
  });

  it('a retried job (its worker died) ends the proposal failed instead of asking again', async () => {
    const store = new PrismaGraduationStore(ctx.db);
    const g = await store.create({
      workflowId: wid,
      nodeId: 'label',
      version: 1,
      request: { runs: { limit: 5 } },
    });
    // As the dead worker left it: claimed, running, nobody driving it.
    expect(await store.claim(g.id, 5)).toBe(true);
    const before = mock.requests.length;
    await proposeInWorker(ctx.db, g.id, new AbortController().signal);
    expect(await store.get(g.id)).toMatchObject({
      status: 'failed',
      error: { message: INTERRUPTED },
      result: null,
    });
    expect(mock.requests.length).toBe(before);
  });
});
