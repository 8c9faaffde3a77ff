import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { receiveWebhook, webhookInfo, WEBHOOK_SECRET_HEADER } from '@/lib/server/hooks';
import { buildEngine, createRuntime, type Runtime } from '@/lib/server/runtime';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { pgAvailable, tempQueueDb } from './testing/queue-db';
import { startQueueWorker, type QueueWorker } from './worker';

// Issue 21: SQL round trips of one run in server mode, counted (not timed) so they cannot creep
// back. A webhook → 3 transforms → output run goes through the web process (secret, run row and
// job in one transaction, the wait for the result) and a worker (fetch, claim, engine, trace,
// events, job completion), both in this process; every statement any pg client of the process
// sends is counted. Measured when this test was written: 23–24 statements per run besides fetches
// (51 in all before: 19 pg-boss fetches per run at 4–10 loops, a 6-statement claim transaction, an
// endLease per finished run, a read of the run by the webhook's wait).

/** Statements per run, fetches and background work aside; the trace batches and event batches
 * vary by one or two with timing, the rest is fixed. */
const RUN_STATEMENTS_BUDGET = 26;
/** pg-boss fetches per run: the NOTIFY wakes one loop; the loop that ran the job looks again. */
const FETCHES_PER_RUN_BUDGET = 3;
/** More loops than fetches allowed: pg-boss's own wake-up (every idle loop per NOTIFY) fails. */
const LOOPS = 6;
const RUNS = 20;
const KEY = Symbol.for('trellis.runtime');

const FETCH = /active_group_count_map|WITH next AS/;
/** Timers of pg-boss (supervision, maintenance, instance heartbeats) and lease renewals. */
const BACKGROUND =
  /SET LOCAL|pgboss\.(version|instance|queue)\b|WITH due AS|WITH budget|locked_parents|relname|WHERE id = ANY\(\$1::text\[\]\) AND "leaseOwner"/;

const chain = {
  schemaVersion: 1,
  name: 'round trips',
  nodes: [
    { id: 'hook', type: 'trigger.webhook', position: { x: 0, y: 0 }, config: {} },
    ...[1, 2, 3].map((i) => ({
      id: `t${i}`,
      type: 'transform',
      position: { x: 0, y: i * 100 },
      config: { value: { i } },
    })),
    { id: 'out', type: 'output', position: { x: 0, y: 400 }, config: { value: { ok: true } } },
  ],
  edges: ['hook', 't1', 't2', 't3'].map((s, i) => ({
    id: `e${i}`,
    source: s,
    target: i < 3 ? `t${i + 1}` : 'out',
  })),
} as WorkflowDefinition;

const seen: { text: string; worker: boolean }[] = [];
let counting = false;
const query = pg.Client.prototype.query;

describe.skipIf(!pgAvailable)('SQL round trips per run (server mode)', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let rt: Runtime | undefined;
  let worker: QueueWorker | undefined;

  beforeAll(async () => {
    // Every pool (web, worker, pg-boss, Prisma's adapter) sends through pg.Client#query.
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      // Worker sessions carry their id (fencing.ts workerDatabaseUrl); the web's do not.
      const options = (this as unknown as { connectionParameters?: { options?: string } })
        .connectionParameters?.options;
      if (counting && typeof text === 'string')
        seen.push({ text, worker: !!options?.includes('trellis.worker') });
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    tmp = await tempQueueDb('roundtrips');
    db = await openDb({ databaseUrl: tmp.url });
    rt = await createRuntime({ db, databaseUrl: tmp.url, dispatch: 'queue', seed: false });
    (globalThis as Record<symbol, unknown>)[KEY] = Promise.resolve(rt);
    worker = await startQueueWorker({
      databaseUrl: tmp.url,
      concurrency: LOOPS,
      makeEngine: buildEngine,
      schedules: false,
      pollSeconds: 600,
    });
  }, 120_000);
  afterAll(async () => {
    pg.Client.prototype.query = query;
    delete (globalThis as Record<symbol, unknown>)[KEY];
    await worker?.stop(1_000);
    await rt?.dispatcher.close?.();
    await db?.close();
    await tmp?.drop();
  });

  it(`a webhook run costs at most ${RUN_STATEMENTS_BUDGET} statements and ${FETCHES_PER_RUN_BUDGET} fetches, one claim, no lease end`, async () => {
    const wf = await createWorkflow(db.prisma, { name: chain.name, definition: chain });
    const secret = (await webhookInfo(db, wf.id, chain))!.secret;
    const call = async () => {
      const res = await receiveWebhook({
        req: new Request(`http://x/api/hooks/${wf.id}`, {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json', [WEBHOOK_SECRET_HEADER]: secret },
        }),
        params: { workflowId: wf.id },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'succeeded', output: { ok: true } });
    };
    // Warm: the first runs read settings and caches once per process.
    for (let i = 0; i < 3; i++) await call();
    // The loop that ran the last job looks again after it; let that settle before counting.
    await new Promise((r) => setTimeout(r, 200));
    counting = true;
    for (let i = 0; i < RUNS; i++) await call();
    await new Promise((r) => setTimeout(r, 200));
    counting = false;

    const fetches = seen.filter((s) => FETCH.test(s.text)).length;
    const own = seen.filter((s) => !FETCH.test(s.text) && !BACKGROUND.test(s.text));
    const claims = own.filter((s) => s.text.includes('trellis_claim_run_slot')).length;
    const leaseEnds = own.filter((s) => /SET "leaseUntil" = NULL/.test(s.text)).length;
    const webReads = own.filter((s) => !s.worker && /^SELECT id, "workflowId"/.test(s.text.trim())).length;
    console.log(
      `per run: ${(own.length / RUNS).toFixed(2)} statements, ${(fetches / RUNS).toFixed(2)} fetches (${LOOPS} loops)`,
    );
    expect(claims).toBe(RUNS); // one statement (trellis_claim_run_slot), not a transaction
    expect(leaseEnds).toBe(0); // a finished run's lease runs out by itself
    expect(webReads).toBe(0); // the webhook's wait answers from the run.finished event
    expect(fetches).toBeLessThanOrEqual(FETCHES_PER_RUN_BUDGET * RUNS);
    expect(own.length).toBeLessThanOrEqual(RUN_STATEMENTS_BUDGET * RUNS);
  }, 120_000);
});
