import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '@/lib/server/runtime';
import {
  callRoute,
  loadRoute,
  until as untilWithin,
  usePostgresRuntime,
  type Handler,
} from '@/lib/server/testing/route-harness';
import { RUN_QUEUE, WORKFLOW_CONCURRENCY_ENV } from './limits';
import { gatedServer, gatedWorkflow, pgAvailable } from './testing/queue-db';
import { startQueueWorker, type QueueWorker } from './worker';

// Server mode: a worker job fetched while the web process holds its workflow's only slot waits for
// the slot. The web process says when its run ends (SLOT_FREED_CHANNEL), so the waiting job starts
// then, not at its next poll. The worker's poll is set to ten minutes here: only the notification
// can start the second run within the test's wait.

const TOKEN = 'slot-wake-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;
const NO_POLL_MS = 600_000;

const until = (what: string, ok: () => Promise<boolean>) => untilWithin(what, ok, 30_000, 50);
const call = (h: Handler, url: string, body?: string, params: Record<string, string> = {}) =>
  callRoute(h, url, { body, params, token: TOKEN });

describe.skipIf(!pgAvailable)('a slot the web process frees wakes the worker job waiting for it', () => {
  let worker: QueueWorker | undefined;
  let gate: Awaited<ReturnType<typeof gatedServer>>;
  const prior = process.env[WORKFLOW_CONCURRENCY_ENV];
  beforeAll(() => {
    process.env[WORKFLOW_CONCURRENCY_ENV] = '1';
  });
  const ctx = usePostgresRuntime('slotwake', { queue: true, webRunSlots: 1 });

  beforeAll(async () => {
    gate = await gatedServer();
    worker = await startQueueWorker({
      databaseUrl: ctx.url,
      concurrency: 2,
      makeEngine: buildEngine,
      schedules: false,
      slotPollMs: NO_POLL_MS,
    });
  }, 120_000);

  afterAll(async () => {
    gate?.release();
    await worker?.stop(1_000);
    await gate?.server.close();
    if (prior === undefined) delete process.env[WORKFLOW_CONCURRENCY_ENV];
    else process.env[WORKFLOW_CONCURRENCY_ENV] = prior;
  });

  it('the second run starts when the first (driven by the web process) ends', async () => {
    const [workflows, runs] = await Promise.all(['workflows', 'workflows/[id]/runs'].map(loadRoute));
    const created = await call(
      workflows.POST,
      '/api/workflows',
      JSON.stringify({
        name: 'slot wake',
        definition: gatedWorkflow(gate.server.url, `127.0.0.1:${gate.server.port}`),
      }),
    );
    const wfId = (await created.json()).id as string;
    const post = async (n: number) => {
      const res = await call(runs.POST, `/api/workflows/${wfId}/runs`, JSON.stringify({ input: { n } }), {
        id: wfId,
      });
      expect(res.status).toBe(202);
      return (await res.json()).runId as string;
    };
    const first = await post(1);
    await until('the first run holds the slot', async () => gate.inFlight === 1);
    const second = await post(2);
    // The worker fetched the second run's job and waits for the slot the web process holds.
    await until('the second job fetched', async () => {
      const [job] = await ctx.db.sql.query<{ state: string }>(
        `SELECT state FROM pgboss.job WHERE name = $1 AND id::text = $2`,
        [RUN_QUEUE, second],
      );
      return job?.state === 'active';
    });
    const owner = async (runId: string) =>
      (
        await ctx.db.sql.query<{ owner: string | null; status: string }>(
          `SELECT "leaseOwner" AS owner, status FROM "Run" WHERE id = $1`,
          [runId],
        )
      )[0];
    expect((await owner(first)).owner).toMatch(/^web:/);
    expect(await owner(second)).toMatchObject({ owner: null, status: 'queued' });

    gate.release();
    await until('the second run finished', async () => (await owner(second)).status === 'succeeded');
    expect((await owner(second)).owner).toBe(worker!.workerId);
    expect((await owner(first)).status).toBe('succeeded');
  }, 60_000);
});
