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
import { gatedServer, gatedWorkflow, meanOrderSkew, pgAvailable } from './testing/queue-db';
import { startQueueWorker, type QueueWorker } from './worker';

// Server mode: 40 runs posted at once through the runs API to one workflow, one worker. All are
// accepted; the workflow's concurrency limit (pg-boss group concurrency) keeps the rest `queued`,
// in order, and all succeed. The web process has WEB_SLOTS slots of its own (local-runs.ts): it
// drives the first runs itself and keeps a few more in its backlog, the burst beyond them goes to
// the worker through the queue, and the workflow's limit and the order hold across both. (Embedded mode: lib/server/burst.test.ts.)

const TOKEN = 'burst-queue-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;
const CONCURRENCY = 3;
/** More loops than slots, so the group limit (not the worker) is what holds runs back. */
const WORKER_CONCURRENCY = 6;
const BURST = 40;
/** Runs the web process drives itself; fewer than the workflow's slots, so the worker gets one too. */
const WEB_SLOTS = 2;

/** Server mode is slower to settle than embedded: a wider wait, polled less often. */
const until = (what: string, ok: () => Promise<boolean>) => untilWithin(what, ok, 90_000, 100);
const call = (h: Handler, url: string, body?: string, params: Record<string, string> = {}) =>
  callRoute(h, url, { body, params, token: TOKEN });

describe.skipIf(!pgAvailable)('bursts queue (server mode, one worker)', () => {
  let worker: QueueWorker | undefined;
  let gate: Awaited<ReturnType<typeof gatedServer>>;
  const prior = process.env[WORKFLOW_CONCURRENCY_ENV];
  // Before the runtime opens: the queue reads the limit when it creates the workflow's group.
  beforeAll(() => {
    process.env[WORKFLOW_CONCURRENCY_ENV] = String(CONCURRENCY);
  });
  const ctx = usePostgresRuntime('burst', { queue: true, webRunSlots: WEB_SLOTS });

  beforeAll(async () => {
    // The order slots were granted: a claim sets the lease of a run that had none, under the
    // workflow's advisory lock, so the sequence numbers follow the claims (test instrumentation).
    await ctx.db.sql.query(`CREATE TABLE claim_log (seq bigserial PRIMARY KEY, run_id text UNIQUE)`);
    await ctx.db.sql.query(`CREATE FUNCTION log_claim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO claim_log (run_id) VALUES (NEW.id) ON CONFLICT DO NOTHING; RETURN NEW; END $$`);
    await ctx.db.sql.query(`CREATE TRIGGER log_claim AFTER UPDATE ON "Run" FOR EACH ROW
      WHEN (OLD."leaseUntil" IS NULL AND NEW."leaseUntil" IS NOT NULL) EXECUTE FUNCTION log_claim()`);
    gate = await gatedServer();
    worker = await startQueueWorker({
      databaseUrl: ctx.url,
      concurrency: WORKER_CONCURRENCY,
      makeEngine: buildEngine,
      schedules: false,
    });
  }, 120_000);

  afterAll(async () => {
    gate?.release();
    await worker?.stop(1_000);
    await gate?.server.close();
    if (prior === undefined) delete process.env[WORKFLOW_CONCURRENCY_ENV];
    else process.env[WORKFLOW_CONCURRENCY_ENV] = prior;
  });

  it(`${BURST} runs posted at once: all accepted, ${CONCURRENCY} running and the rest 'queued', started in order, all succeed`, async () => {
    const [workflows, runs, runList] = await Promise.all(
      ['workflows', 'workflows/[id]/runs', 'runs'].map(loadRoute),
    );
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

    const byStatus = async () => {
      const res = await call(runList.GET, `/api/runs?workflowId=${wfId}&limit=100`);
      const count: Record<string, number> = {};
      for (const r of (await res.json()).runs as { status: string }[])
        count[r.status] = (count[r.status] ?? 0) + 1;
      return count;
    };
    await until(`${CONCURRENCY} calls held`, async () => {
      return gate.inFlight >= CONCURRENCY;
    });
    // A slot is free once the worker has fetched the next job; give it the chance to overstep.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(gate.inFlight).toBe(CONCURRENCY);
    expect(await byStatus()).toEqual({ running: CONCURRENCY, queued: BURST - CONCURRENCY });
    const jobs = await ctx.db.sql.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM pgboss.job WHERE name = $1 AND group_id = $2 GROUP BY state`,
      [RUN_QUEUE, wfId],
    );
    // Jobs: the ones the worker runs, plus at most one per other worker loop that won a race for a
    // slot and waits for the next one (claimRunSlot); the rest not even fetched. The web's runs
    // keep theirs deferred (`created`) for recovery.
    const jobStates = Object.fromEntries(jobs.map((j) => [j.state, j.n]));
    expect(jobStates.active).toBeGreaterThanOrEqual(CONCURRENCY - WEB_SLOTS);
    expect(jobStates.active).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    expect(jobStates.active + jobStates.created).toBe(BURST);

    // The first runs are the web's (at most WEB_SLOTS: a run whose claim comes after others of the
    // burst were queued leaves them their place); the burst beyond them went to the worker.
    const owners = async () =>
      Object.fromEntries(
        (
          await ctx.db.sql.query<{ web: boolean; n: number }>(
            `SELECT "leaseOwner" LIKE 'web:%' AS web, count(*)::int AS n FROM "Run"
              WHERE "workflowId" = $1 AND "leaseOwner" IS NOT NULL GROUP BY 1`,
            [wfId],
          )
        ).map((r) => [r.web ? 'web' : 'worker', r.n]),
      );
    const held = await owners();
    expect(held.web).toBeGreaterThanOrEqual(1);
    expect(held.web).toBeLessThanOrEqual(WEB_SLOTS);
    expect(held.worker).toBe(CONCURRENCY - held.web);

    gate.release();
    await until('all runs finished', async () => (await byStatus()).succeeded === BURST);
    expect(gate.maxInFlight).toBe(CONCURRENCY);
    // The web process drove its own runs and those that waited in its backlog (at most one per
    // slot of the workflow it held, taking that slot as its run ended); the rest stayed with the
    // worker. Either way in order (below): a run waiting here never overtakes a worker's.
    const after = await owners();
    expect(after.web + after.worker).toBe(BURST);
    expect(after.web).toBeGreaterThanOrEqual(held.web);
    // No job is left behind: the web's were deleted with their runs' final status.
    expect(
      await ctx.db.sql.query(
        `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'created'`,
        [RUN_QUEUE],
      ),
    ).toEqual([{ n: 0 }]);
    // Accepted order: when each run's transaction wrote its row and job (the job's created_on, in
    // microseconds; the run's createdAt has milliseconds, and 40 posts share some). That is when the
    // transaction began; 40 concurrent posts commit in a slightly different order, and a job is
    // fetchable only once committed, so no order below matches it exactly.
    const order = async (by: string) =>
      (
        await ctx.db.sql.query<{ n: number }>(
          `SELECT (r.input->>'n')::int AS n FROM "Run" r LEFT JOIN pgboss.job j ON j.id::text = r.id AND j.name = $1
            WHERE r."workflowId" = $2 ORDER BY ${by}`,
          [RUN_QUEUE, wfId],
        )
      ).map((r) => String(r.n));
    // The web's runs have no job any more (deleted with their final status): their row's time.
    const accepted = await order(`COALESCE(j.created_on, r."createdAt")`);
    expect(accepted).toHaveLength(BURST);
    expect(await ctx.db.sql.query(`SELECT count(*)::int AS n FROM claim_log`)).toEqual([{ n: BURST }]);
    // Slots granted (claims), runs started (`startedAt`, written by the engine after the claim) and
    // calls made: each close to the accepted order on average. One run can be far off — commit
    // jitter, or a claimed run waiting its turn on the worker's event loop while quick runs on the
    // other slots overtake it (CI once saw one run overtaken by 13 of 40) — so the measure is the
    // mean displacement: ~2 measured here; 40 shuffled runs average 13.3 (the lowest of 1,000
    // shuffles 9.4), last-in-first-out 20.
    const claimed = await order(`(SELECT seq FROM claim_log c WHERE c.run_id = r.id)`);
    const started = await order(`r."startedAt", j.created_on`);
    expect(gate.order).toHaveLength(BURST);
    for (const seen of [claimed, started, gate.order])
      expect(meanOrderSkew(accepted, seen)).toBeLessThanOrEqual(2 * CONCURRENCY);
  }, 240_000);
});
