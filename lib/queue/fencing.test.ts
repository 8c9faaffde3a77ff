import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { migrate } from '@/lib/db/migrate';
import { pgliteExecutor, type SqlQueryable } from '@/lib/db/sql-executor';
import { LEASE_LOST, claimRun, workerDatabaseUrl } from './fencing';
import { pgAvailable, tempQueueDb } from './testing/queue-db';

// The fence holds at COMMIT, not only when a row is written: a worker that wrote trace rows while
// it held the lease and then lost the lease before its COMMIT (paused, cut off) commits nothing.
// Here the two workers are two sessions and the pause is simply not sending COMMIT yet.

async function runRow(q: SqlQueryable, owner: string | null, parentRunId: string | null = null) {
  const id = randomUUID();
  await q.query(
    `INSERT INTO "Run" (id, status, trigger, "parentRunId", "leaseOwner", "leaseUntil")
     VALUES ($1, 'running', 'manual', $2, $3, now() + interval '1 minute')`,
    [id, parentRunId, owner],
  );
  return id;
}

const stepInsert = `INSERT INTO "Step" (id, "runId", "nodeId", "nodeType", mode, status, "startedAt")
  VALUES ($1, $2, 'n', 'http.request', 'workflow', 'running', now())`;

describe('fence at commit on PGlite', () => {
  let client: PGlite;
  let sql: ReturnType<typeof pgliteExecutor>;
  beforeAll(async () => {
    client = new PGlite();
    sql = pgliteExecutor(client);
    await migrate(sql);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('a step written while the lease was held fails its COMMIT once the lease moved', async () => {
    const runId = await runRow(sql, 'worker-a');
    await sql.exec(`SET trellis.worker = 'worker-a'`);
    try {
      const step = randomUUID();
      // One session only: the takeover is played inside the transaction, after the write.
      await expect(
        sql.transaction(async (tx) => {
          await tx.query(stepInsert, [step, runId]);
          await tx.query(`UPDATE "Run" SET "leaseOwner" = 'worker-b' WHERE id = $1`, [runId]);
        }),
      ).rejects.toThrow(LEASE_LOST);
      expect(await sql.query(`SELECT 1 FROM "Step" WHERE id = $1`, [step])).toHaveLength(0);
      // Its own run commits.
      const mine = await runRow(sql, 'worker-a');
      await sql.transaction((tx) => tx.query(stepInsert, [randomUUID(), mine]));
      expect(await sql.query(`SELECT 1 FROM "Step" WHERE "runId" = $1`, [mine])).toHaveLength(1);
    } finally {
      await sql.exec(`RESET trellis.worker`);
    }
    // Sessions without the setting (embedded mode, the web process) are not fenced.
    await sql.query(stepInsert, [randomUUID(), runId]);
  });

  // A run is checked once per transaction (migration 20261130053000_fence_once_per_run): the memo
  // must neither outlive its transaction nor let another run's rows through.
  it('checks each run of a batch, and again in the next transaction', async () => {
    await sql.exec(`SET trellis.worker = 'worker-a'`);
    try {
      const mine = await runRow(sql, 'worker-a');
      const taken = await runRow(sql, 'worker-b');
      // Rows of the own run first (remembered as checked), then one of a run another worker holds.
      await expect(
        sql.transaction(async (tx) => {
          for (let i = 0; i < 3; i++) await tx.query(stepInsert, [randomUUID(), mine]);
          await tx.query(stepInsert, [randomUUID(), taken]);
          await tx.query(stepInsert, [randomUUID(), mine]);
        }),
      ).rejects.toThrow(LEASE_LOST);
      expect(await sql.query(`SELECT 1 FROM "Step" WHERE "runId" = ANY($1)`, [[mine, taken]])).toEqual([]);
      // Checked and committed in one transaction; taken over; the next transaction is checked again.
      await sql.transaction((tx) => tx.query(stepInsert, [randomUUID(), mine]));
      await sql.query(`UPDATE "Run" SET "leaseOwner" = 'worker-b' WHERE id = $1`, [mine]);
      await expect(sql.transaction((tx) => tx.query(stepInsert, [randomUUID(), mine]))).rejects.toThrow(
        LEASE_LOST,
      );
      expect(await sql.query(`SELECT 1 FROM "Step" WHERE "runId" = $1`, [mine])).toHaveLength(1);
    } finally {
      await sql.exec(`RESET trellis.worker`);
    }
  });
});

describe.skipIf(!pgAvailable)('fence at commit on Postgres', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  const clients: pg.Client[] = [];

  /** A session of a worker (its DATABASE_URL), as one connection so a transaction can stay open. */
  async function session(workerId: string, idleMs?: number) {
    const c = new pg.Client({ connectionString: workerDatabaseUrl(tmp.url, workerId, idleMs) });
    c.on('error', () => {}); // a session the server ends reports it through its next query
    await c.connect();
    clients.push(c);
    const q: SqlQueryable = {
      query: async <T>(text: string, params?: unknown[]) => (await c.query(text, params)).rows as T[],
      exec: async (text: string) => void (await c.query(text)),
    };
    return q;
  }
  const expire = (runId: string) =>
    db.sql.query(`UPDATE "Run" SET "leaseUntil" = now() - interval '1 second' WHERE id = $1`, [runId]);

  beforeAll(async () => {
    tmp = await tempQueueDb('fence');
    db = await openDb({ databaseUrl: tmp.url, poolSize: 3 });
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => {});
    await db?.close();
    await tmp?.drop();
  });

  it("rows of a run (its steps, its child runs' steps, agent turns) written before a takeover fail at COMMIT", async () => {
    const runId = await runRow(db.sql, 'worker-a');
    const child = await runRow(db.sql, null, runId);
    const earlier = randomUUID();
    await db.sql.query(stepInsert, [earlier, runId]);
    const a = await session('worker-a');
    const b = await session('worker-b');
    const [s1, s2] = [randomUUID(), randomUUID()];
    await a.query('BEGIN');
    await a.query(stepInsert, [s1, runId]);
    await a.query(stepInsert, [s2, child]);
    await a.query(
      `INSERT INTO "AgentTurn" (id, "stepId", seq, kind, payload) VALUES ($1, $2, 1, 'model', '{}')`,
      [randomUUID(), earlier],
    );
    // a is "paused" here, its writes checked by nothing yet; b takes the run over.
    await expire(runId);
    expect(await claimRun(b, runId, 'worker-b')).toMatchObject({ claimed: true });
    await expect(a.query('COMMIT')).rejects.toThrow(LEASE_LOST);
    expect(await db.sql.query(`SELECT id FROM "Step" WHERE "runId" = ANY($1)`, [[runId, child]])).toEqual([
      { id: earlier },
    ]);
    expect(await db.sql.query(`SELECT 1 FROM "AgentTurn" WHERE "stepId" = $1`, [earlier])).toHaveLength(0);
    // A child run's status is the top-level run's owner's to change.
    await expect(a.query(`UPDATE "Run" SET status = 'succeeded' WHERE id = $1`, [child])).rejects.toThrow(
      LEASE_LOST,
    );
    expect(
      await b.query(`UPDATE "Run" SET status = 'succeeded' WHERE id = $1 RETURNING id`, [child]),
    ).toHaveLength(1);
  });

  it('the commit-time check holds the lease row: a takeover waits for the commit and then sees its rows', async () => {
    const runId = await runRow(db.sql, 'worker-a');
    await expire(runId); // the fence compares owners; an expired lease is what lets b claim
    // a's idle timeout well above this test's pauses: the lock must be the fence's, not cut short.
    const a = await session('worker-a', 60_000);
    const b = await session('worker-b');
    const step = randomUUID();
    await a.query('BEGIN');
    await a.query(stepInsert, [step, runId]);
    // Runs the deferred check now instead of inside COMMIT, to look at the state between the two.
    await a.query('SET CONSTRAINTS ALL IMMEDIATE');
    await b.query(`SET lock_timeout = '300ms'`);
    await expect(claimRun(b, runId, 'worker-b')).rejects.toMatchObject({ code: '55P03' });
    await a.query('COMMIT');
    expect(await claimRun(b, runId, 'worker-b')).toMatchObject({ claimed: true });
    expect(await b.query(`SELECT status FROM "Step" WHERE id = $1`, [step])).toEqual([{ status: 'running' }]);
  });

  it('a worker session left idle in a transaction is ended, so its row locks do not hold up a takeover', async () => {
    const runId = await runRow(db.sql, 'worker-a');
    const a = await session('worker-a', 300);
    const b = await session('worker-b');
    await a.query('BEGIN');
    await a.query(`UPDATE "Run" SET "stepCount" = "stepCount" + 1 WHERE id = $1`, [runId]);
    await expire(runId);
    await b.query(`SET lock_timeout = '10s'`);
    // Waits at most until the server ends a's transaction (300 ms idle), then takes the run.
    expect(await claimRun(b, runId, 'worker-b')).toMatchObject({ claimed: true });
    await expect(a.query('COMMIT')).rejects.toThrow();
    expect(await db.sql.query(`SELECT "stepCount" FROM "Run" WHERE id = $1`, [runId])).toEqual([
      { stepCount: 0 },
    ]);
  });
});
