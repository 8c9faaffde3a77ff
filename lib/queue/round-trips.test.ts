import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { receiveWebhook, webhookInfo, WEBHOOK_SECRET_HEADER } from '@/lib/server/hooks';
import { buildEngine, createRuntime, type Runtime } from '@/lib/server/runtime';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { DEFAULT_WORKFLOW_CONCURRENCY } from './limits';
import { pgAvailable, tempQueueDb } from './testing/queue-db';
import { startQueueWorker, type QueueWorker } from './worker';

// Issue 21: SQL round trips of one run in server mode, counted (not timed) so they cannot creep
// back. A webhook → 3 transforms → output run, every statement any pg client of this process sends
// counted, on two paths:
// - the short path (default): the web process claims the run in the transaction that writes it
//   and its job (deferred, for recovery), drives it on its own fenced sessions, and deletes the job
//   with the final status (local-runs.ts). Measured when written: 14.3 statements, 2.05 committing
//   transactions per run (the run + claim + job; the steps + final status + job delete); 12.3
//   since the webhook's workflow, the stored secrets and the rollout watcher's workflow come from
//   caches fed by the change feed (lib/db/change-feed.ts: the backlog count on its session makes
//   them fresh for the whole call, instead of the workflow's row and definition, and three Prisma
//   reads).
// - the queue (webRunSlots 0, or when the web has no free slot): run row and job in one
//   transaction, a worker's fetch, claim, engine, trace, events, job completion. 23.8 statements
//   besides fetches (the job's insert and completion included), 7.35 commits; 21.1 with the caches
//   of the change feed in the web process and the worker (51 statements in all
//   before issue 21: 19 pg-boss fetches per run at 4–10 loops, a 6-statement claim transaction, an
//   endLease per finished run, a read of the run by the wait).
// Commits are what a run waits on (each flushes the WAL), so they are counted apart: a
// transaction (or a statement outside one) that writes.

/** Statements per run on the short path: the webhook's backlog count, the run's transaction (5),
 * the trace batch with the final status, the job's delete and the slot's NOTIFY (6). */
const LOCAL_STATEMENTS_BUDGET = 13;
/** Committing transactions per run on the short path: the run's, and its trace batch's. */
const LOCAL_COMMITS_BUDGET = 2.2;
/**
 * Round trips per run on the short path (statements sent while nothing else was unanswered on their
 * session, i.e. waits): the backlog count; BEGIN + run insert + claim, the job, COMMIT; BEGIN +
 * steps + final status, the job's delete + the slot's NOTIFY, COMMIT (the sessions of runs driven
 * here pipeline: sql-executor.ts). 12 before, one per statement.
 */
const LOCAL_ROUND_TRIPS_BUDGET = 7.2;
/** Statements per run through the queue, fetches and background work aside; the trace batches and
 * event batches vary by one or two with timing, the rest is fixed. */
const RUN_STATEMENTS_BUDGET = 22;
/** pg-boss fetches per run: the NOTIFY wakes one loop; the loop that ran the job looks again. */
const FETCHES_PER_RUN_BUDGET = 3;
/** More loops than fetches allowed: pg-boss's own wake-up (every idle loop per NOTIFY) fails. */
const LOOPS = 6;
/** The burst: more calls in flight than the workflow's default limit (DEFAULT_WORKFLOW_CONCURRENCY). */
const BURST_IN_FLIGHT = 20;
const BURST_ROUNDS = 5;
/**
 * Per run at BURST_IN_FLIGHT: the web process drives the burst itself, a run beyond the workflow's
 * slots waiting in its backlog (deferred job) and claimed in the transaction that ends one of its
 * runs. Measured when written: 10.8–12.6 statements, 1.22–1.68 commits (the claim rides in an
 * ending run's batch, and batches of several ending runs share a commit), 0 of 103 runs on the
 * worker; 9.1 statements with the change feed's caches; 22.4 and 5.3 before, when the burst
 * beyond the web's slots went through the queue to a worker (94 of 103 runs).
 */
const BURST_COMMITS_BUDGET = 2;
const BURST_STATEMENTS_BUDGET = 12;
const RUNS = 20;
const KEY = Symbol.for('trellis.runtime');

const FETCH = /active_group_count_map|WITH next AS/;
/** Timers of pg-boss (supervision, maintenance, instance heartbeats) and lease renewals. */
const BACKGROUND =
  /SET LOCAL|pgboss\.(version|instance|queue)\b|WITH due AS|WITH budget|locked_parents|relname|WHERE id = ANY\(\$1::text\[\]\) AND "leaseOwner"/;
/** A run's own job statements (send, complete, delete); they mention pgboss.queue like the timers. */
const JOB = /^\s*(WITH \w+ AS \(\s*)?(INSERT INTO|DELETE FROM|UPDATE) pgboss\.job/i;
const background = (text: string) => !JOB.test(text) && (BACKGROUND.test(text) || FETCH.test(text));
/** A read of what the change feed's caches hold (a workflow, its versions, the stored secrets). */
const CACHED_TABLES = /FROM "(public"\.")?(Workflow|WorkflowVersion|Secret)"/;
/** A statement that writes (a transaction holding one commits with a WAL flush). */
const WRITES = /\b(INSERT INTO|UPDATE|DELETE FROM)\b|pg_notify|trellis_claim/i;

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

interface Seen {
  text: string;
  worker: boolean;
  /** Sent while no earlier statement of its session was unanswered: the caller waits a round trip. */
  roundTrip: boolean;
  /** This statement committed a write: a COMMIT of a writing transaction, or a write outside one. */
  commit: boolean;
}
const seen: Seen[] = [];
let counting = false;
const query = pg.Client.prototype.query;
/** Per connection: the open transaction's statements so far. */
const open = new WeakMap<object, string[]>();
/** Per connection: statements sent and not answered yet. */
const unanswered = new WeakMap<object, number>();

function record(client: object, text: string, worker: boolean): void {
  const tx = open.get(client);
  const t = text.trim();
  const roundTrip = !unanswered.get(client);
  if (/^BEGIN/i.test(t))
    return void (open.set(client, []), seen.push({ text, worker, commit: false, roundTrip }));
  if (/^(COMMIT|ROLLBACK)/i.test(t)) {
    open.delete(client);
    // A background transaction's COMMIT is background too.
    const bg = !!tx?.some(background);
    const wrote = /^COMMIT/i.test(t) && !!tx?.some((q) => WRITES.test(q));
    return void seen.push({
      text: bg ? `${text} -- SET LOCAL (background)` : text,
      worker,
      commit: wrote,
      roundTrip,
    });
  }
  tx?.push(text);
  seen.push({ text, worker, commit: !tx && WRITES.test(text), roundTrip });
}

describe.skipIf(!pgAvailable)('SQL round trips per run (server mode)', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let local: Runtime | undefined;
  let queued: Runtime | undefined;
  let worker: QueueWorker | undefined;

  beforeAll(async () => {
    // Every pool (web, worker, pg-boss, Prisma's adapter) sends through pg.Client#query.
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      // Worker sessions carry their id (fencing.ts workerDatabaseUrl); the web's do not.
      const options = (this as unknown as { connectionParameters?: { options?: string } })
        .connectionParameters?.options;
      if (counting && typeof text === 'string') record(this, text, !!options?.includes('trellis.worker'));
      unanswered.set(this, (unanswered.get(this) ?? 0) + 1);
      const answered = () => void unanswered.set(this, (unanswered.get(this) ?? 1) - 1);
      const result = (query as (...a: unknown[]) => unknown).apply(this, args);
      if (result instanceof Promise) result.then(answered, answered);
      else answered(); // a callback query: counted as answered at once (no such caller on the path)
      return result;
    } as typeof query;
    tmp = await tempQueueDb('roundtrips');
    db = await openDb({ databaseUrl: tmp.url });
    local = await createRuntime({ db, databaseUrl: tmp.url, dispatch: 'queue', seed: false });
    queued = await createRuntime({
      db,
      databaseUrl: tmp.url,
      dispatch: 'queue',
      seed: false,
      webRunSlots: 0,
    });
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
    await local?.dispatcher.close?.();
    await queued?.dispatcher.close?.();
    await db?.close();
    await tmp?.drop();
  });

  /**
   * RUNS webhook calls through `rt` (after a warm-up), each answered with the run's output,
   * `inFlight` at a time (`rounds` × RUNS calls in all).
   */
  async function count(
    rt: Runtime,
    inFlight = 1,
    rounds = 1,
  ): Promise<{ own: Seen[]; fetches: number; runs: number; wfId: string }> {
    (globalThis as Record<symbol, unknown>)[KEY] = Promise.resolve(rt);
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
    seen.length = 0;
    counting = true;
    const runs = RUNS * rounds;
    let next = 0;
    const lane = async () => {
      while (next < runs) {
        next++;
        await call();
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    await new Promise((r) => setTimeout(r, 200));
    counting = false;
    const own = seen.filter((s) => !background(s.text));
    const commits = own.filter((s) => s.commit).length;
    const fetches = seen.filter((s) => FETCH.test(s.text)).length;
    const roundTrips = own.filter((s) => s.roundTrip).length;
    console.log(
      `per run (${inFlight} in flight): ${(own.length / runs).toFixed(2)} statements, ${(roundTrips / runs).toFixed(2)} round trips, ${(commits / runs).toFixed(2)} commits, ${(fetches / runs).toFixed(2)} fetches (${LOOPS} loops)`,
    );
    return { own, fetches, runs, wfId: wf.id };
  }

  it(`the short path: a webhook run the web process drives costs at most ${LOCAL_STATEMENTS_BUDGET} statements, ${LOCAL_ROUND_TRIPS_BUDGET} round trips and ${LOCAL_COMMITS_BUDGET} commits, no fetch`, async () => {
    const { own, fetches } = await count(local!);
    const claims = own.filter((s) => s.text.includes('trellis_admit_new_run')).length;
    const jobDeletes = own.filter((s) => /DELETE FROM pgboss\./.test(s.text)).length;
    expect(claims).toBe(RUNS); // claimed in the run's own transaction
    expect(jobDeletes).toBe(RUNS); // the job kept for recovery goes with the final status
    expect(own.filter((s) => s.text.includes('trellis_claim_run_slot'))).toEqual([]); // no worker took one
    expect(fetches).toBe(0); // the job was deferred: no NOTIFY, no fetch
    expect(own.filter((s) => CACHED_TABLES.test(s.text))).toEqual([]); // served from memory
    // The run's stored secrets are as fresh as the webhook's backlog count made them (beganAt).
    expect(own.filter((s) => s.text === 'SELECT 1')).toEqual([]);
    expect(own.filter((s) => s.commit).length).toBeLessThanOrEqual(LOCAL_COMMITS_BUDGET * RUNS);
    expect(own.length).toBeLessThanOrEqual(LOCAL_STATEMENTS_BUDGET * RUNS);
    expect(own.filter((s) => s.roundTrip).length).toBeLessThanOrEqual(LOCAL_ROUND_TRIPS_BUDGET * RUNS);
  }, 120_000);

  it(`through the queue: a webhook run costs at most ${RUN_STATEMENTS_BUDGET} statements and ${FETCHES_PER_RUN_BUDGET} fetches, one claim, no lease end`, async () => {
    const { own, fetches } = await count(queued!);
    const claims = own.filter((s) => s.text.includes('trellis_claim_run_slot')).length;
    const leaseEnds = own.filter((s) => /SET "leaseUntil" = NULL/.test(s.text)).length;
    const webReads = own.filter((s) => !s.worker && /^SELECT id, "workflowId"/.test(s.text.trim())).length;
    expect(claims).toBe(RUNS); // one statement (trellis_claim_run_slot), not a transaction
    expect(leaseEnds).toBe(0); // a finished run's lease runs out by itself
    expect(webReads).toBe(0); // the webhook's wait answers from the run.finished event
    expect(own.filter((s) => CACHED_TABLES.test(s.text))).toEqual([]); // web and worker: from memory
    expect(fetches).toBeLessThanOrEqual(FETCHES_PER_RUN_BUDGET * RUNS);
    expect(own.length).toBeLessThanOrEqual(RUN_STATEMENTS_BUDGET * RUNS);
  }, 120_000);

  it(`a burst (${BURST_IN_FLIGHT} in flight, one workflow at its default limit): at most ${BURST_COMMITS_BUDGET} commits and ${BURST_STATEMENTS_BUDGET} statements per run`, async () => {
    const { own, runs, wfId } = await count(local!, BURST_IN_FLIGHT, BURST_ROUNDS);
    const owners = await db.sql.query<{ web: boolean; n: number }>(
      `SELECT "leaseOwner" LIKE 'web:%' AS web, count(*)::int AS n FROM "Run" WHERE "workflowId" = $1 GROUP BY 1`,
      [wfId],
    );
    const byWorker = owners.find((o) => !o.web)?.n ?? 0;
    console.log(`burst: ${byWorker} of ${runs + 3} runs driven by the worker`);
    // Only runs accepted before the web process held the workflow's slots can reach the worker.
    expect(byWorker).toBeLessThanOrEqual(BURST_IN_FLIGHT - DEFAULT_WORKFLOW_CONCURRENCY);
    expect(own.filter((s) => s.text.includes('trellis_claim_backlog')).length).toBeGreaterThan(0);
    expect(own.filter((s) => s.commit).length).toBeLessThanOrEqual(BURST_COMMITS_BUDGET * runs);
    expect(own.length).toBeLessThanOrEqual(BURST_STATEMENTS_BUDGET * runs);
  }, 120_000);
});
