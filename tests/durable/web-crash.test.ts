import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { RUN_LEASE_MS, RUN_QUEUE, TAKEOVER_BOUND_MS } from '@/lib/queue/limits';
import { pgAvailable, tempQueueDb } from '@/lib/queue/testing/queue-db';
import {
  killGroup,
  recordingServer,
  recordingWorkflow,
  sleep,
  spawnWorker,
  type RecordingServer,
  type WorkerProc,
} from './harness';

// The short path's durability (lib/queue/local-runs.ts): a run the web process accepted and drives
// itself survives a kill -9 of that process. Its job was written deferred with the run, so once the
// web's lease has run out a worker claims the run and resumes it from the trace. The recording
// server counts each Idempotency-Key: the POSTs that finished before the kill are never sent again,
// the one in flight is sent again once with the same key (at-least-once, as with a worker's death),
// and the run ends `succeeded` once, each step succeeded once.

const root = path.resolve(import.meta.dirname, '../..');
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
/** recordingWorkflow's nodes: POSTs at odd positions, transforms between them. */
const STEPS = 7;
/** The POST in flight when the web process is killed (the server holds it until then). */
const IN_FLIGHT = 2;
/** Runs started after the first, which hold no slot when the web process dies. */
const MORE = 2;

describe.skipIf(!pgAvailable)('a run driven by the web process, which is killed mid-run', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let rec: RecordingServer;
  let web: WorkerProc | undefined;
  let worker: WorkerProc | undefined;

  beforeAll(async () => {
    tmp = await tempQueueDb('webcrash');
    db = await openDb({ databaseUrl: tmp.url });
    let n = 0;
    rec = await recordingServer(() => (++n === IN_FLIGHT ? 600_000 : 0));
  }, 60_000);

  afterAll(async () => {
    for (const p of [web, worker]) if (p) killGroup(p);
    await rec?.close();
    await db?.close();
    await tmp?.drop();
  });

  it('a worker resumes it after the lease; finished effects are not repeated, the run ends once', async () => {
    const def = recordingWorkflow(rec.url, STEPS);
    const wf = await createWorkflow(db.prisma, { name: 'web crash', definition: def });
    const child = spawn(process.execPath, [tsxCli, path.join(root, 'tests/durable/web-proc.ts')], {
      cwd: root,
      detached: true,
      // stdin: tests/durable/die-with-parent.ts.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: tmp.url,
        WEB_PROC_WORKFLOW: wf.id,
        WEB_PROC_MORE: String(MORE),
        // One slot: the runs after the first wait in the web's backlog.
        TRELLIS_WORKFLOW_CONCURRENCY: '1',
        TRELLIS_HTTP_ALLOW_PRIVATE: '1',
      },
    });
    const output: string[] = [];
    child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    web = { id: 'web', child, output, ready: Promise.resolve(), exited: new Promise(() => {}) };

    const started = Date.now();
    while (rec.total() < IN_FLIGHT) {
      if (Date.now() - started > 60_000) throw new Error(`web never called: ${output.join('')}`);
      await sleep(50);
    }
    const runId = /RUN (\S+)/.exec(output.join(''))![1];
    while (!/MORE .*\./.test(output.join(''))) await sleep(50);
    const more = /MORE (\S*)\./.exec(output.join(''))![1].split(',');
    expect(more).toHaveLength(MORE);
    // Not started, no lease: they wait in the web's backlog, their jobs deferred like the running
    // run's (a job due at once would be the queue's).
    const waiting = await db.sql.query<{
      id: string;
      status: string;
      leaseOwner: string | null;
      deferred: boolean;
    }>(
      `SELECT r.id, r.status, r."leaseOwner", j.start_after > now() AS deferred
         FROM "Run" r JOIN pgboss.job j ON j.name = $1 AND j.id::text = r.id WHERE r.id = ANY($2::text[])`,
      [RUN_QUEUE, more],
    );
    expect(Object.fromEntries(waiting.map((w) => [w.id, w]))).toEqual({
      [more[0]]: { id: more[0], status: 'queued', leaseOwner: null, deferred: true },
      [more[1]]: { id: more[1], status: 'queued', leaseOwner: null, deferred: true },
    });
    const before = await db.sql.query<{ status: string; leaseOwner: string }>(
      `SELECT status, "leaseOwner" FROM "Run" WHERE id = $1`,
      [runId],
    );
    // Driven by the web process, not a worker (there is none yet).
    expect(before[0]).toMatchObject({ status: 'running' });
    expect(before[0].leaseOwner).toMatch(/^web:/);
    killGroup(web);
    const killedAt = Date.now();

    worker = spawnWorker(tmp.url, 'rescuer', 2);
    await worker.ready;
    let run: { status: string; leaseOwner: string; finishedAt: Date | null } | undefined;
    while (run?.status !== 'succeeded') {
      if (Date.now() - killedAt > RUN_LEASE_MS + TAKEOVER_BOUND_MS)
        throw new Error(`not recovered: ${JSON.stringify(run)} ${worker.output.join('')}`);
      await sleep(200);
      [run] = await db.sql.query(`SELECT status, "leaseOwner", "finishedAt" FROM "Run" WHERE id = $1`, [
        runId,
      ]);
    }
    const recoveredMs = Date.now() - killedAt;
    expect(run.leaseOwner).toContain('rescuer');
    // The runs that waited: every one driven by the worker to its end.
    for (;;) {
      const left = await db.sql.query(
        `SELECT 1 FROM "Run" WHERE id = ANY($1::text[]) AND status <> 'succeeded'`,
        [more],
      );
      if (!left.length) break;
      if (Date.now() - killedAt > RUN_LEASE_MS + TAKEOVER_BOUND_MS)
        throw new Error(`waiting runs not recovered: ${worker.output.join('')}`);
      await sleep(200);
    }

    for (const id of [runId, ...more]) {
      const steps = await db.sql.query<{ nodeId: string; status: string; n: number }>(
        `SELECT "nodeId", status, count(*)::int AS n FROM "Step" WHERE "runId" = $1 GROUP BY "nodeId", status`,
        [id],
      );
      const succeeded = steps.filter((s) => s.status === 'succeeded');
      expect(succeeded).toHaveLength(STEPS + 1); // the trigger and every node, once each
      for (const s of succeeded) expect(s.n).toBe(1);
      expect(steps.filter((s) => s.status === 'running')).toEqual([]);
    }

    // The side effects: one key per POST of each run; only the one in flight at the kill was sent
    // twice (the first run's, whose POSTs came first).
    const posts = Math.ceil(STEPS / 2);
    const counts = [...rec.byKey.values()];
    console.log(
      `[web-crash] recovered ${recoveredMs} ms after kill -9; requests per key ${counts.join(',')}`,
    );
    expect(rec.byKey.size).toBe(posts * (1 + MORE));
    expect(counts.slice(0, posts)).toEqual(
      Array.from({ length: posts }, (_, i) => (i === IN_FLIGHT - 1 ? 2 : 1)),
    );
    expect(counts.slice(posts)).toEqual(Array(posts * MORE).fill(1));
    // No job left for this run (the worker completed it), and it ends once: a second look later
    // finds the same finish.
    await sleep(1_000);
    const jobs = await db.sql.query(
      `SELECT state FROM pgboss.job WHERE name = $1 AND data->>'runId' = ANY($2::text[]) AND state IN ('created', 'active', 'retry')`,
      [RUN_QUEUE, [runId, ...more]],
    );
    expect(jobs).toEqual([]);
    const [again] = await db.sql.query<{ finishedAt: Date }>(`SELECT "finishedAt" FROM "Run" WHERE id = $1`, [
      runId,
    ]);
    expect(again.finishedAt).toEqual(run.finishedAt);
  }, 120_000);
});
