import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from './client';
import { EMBEDDED_ROWS_PER_TRANSACTION, MAX_QUEUED_ROWS, SqlTraceStore } from './sql-trace-store';
import type { SqlExecutor, SqlQueryable } from './sql-executor';
import { tempDataDir } from './testing/databases';
import type { WorkflowDefinition } from '@/lib/workflow/definition';

// Issue 14 item 1: PGlite runs a statement synchronously on the event loop and holds its lock for
// the whole transaction, so the trace writer must not hand it a 1,000-row batch in one go. This
// watches the real PGlite executor: every transaction the store opens holds at most
// EMBEDDED_ROWS_PER_TRANSACTION step rows, the event loop turns between two of them, and the whole
// batch still lands (inserts before their updates, run totals right).

const definition: WorkflowDefinition = {
  schemaVersion: 1,
  name: 'chunks',
  nodes: [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} }],
  edges: [],
};

interface Tx {
  rows: number;
  /** Set once the event loop has had a turn after this transaction started. */
  turned: boolean;
  turnedBeforeNext?: boolean;
}

/** Trace rows a statement writes: step inserts and updates, agent turns (run totals are not rows). */
const traceRows = (q: string, p?: unknown[]) =>
  /json_to_recordset/.test(q) && !/^\s*UPDATE "Run"/.test(q)
    ? (JSON.parse(String(p?.[0])) as unknown[]).length
    : 0;

/** Rows of COPY text (a line each) a script reads: the step inserts of an embedded batch. */
const copyRows = (data: string) => data.split('\n').length - 1;

/**
 * The executor, recording how many recordset rows each write holds PGlite for: a transaction, or a
 * statement sent alone (a batch of new steps is one statement, isOneStatement).
 */
function watched(sql: SqlExecutor, txs: Tx[]): SqlExecutor {
  const unit = () => {
    const prev = txs.at(-1);
    if (prev) prev.turnedBeforeNext = prev.turned;
    const tx: Tx = { rows: 0, turned: false };
    txs.push(tx);
    setImmediate(() => (tx.turned = true));
    return tx;
  };
  return {
    kind: sql.kind,
    query: (q, p) => {
      const rows = traceRows(q, p);
      if (rows) unit().rows = rows;
      return sql.query(q, p);
    },
    exec: (s) => sql.exec(s),
    execWithBlob: (s, data) => {
      unit().rows = copyRows(data);
      return sql.execWithBlob!(s, data);
    },
    transaction(fn) {
      const tx = unit();
      return sql.transaction((inner) => {
        const counting: SqlQueryable = {
          async query(q, p) {
            tx.rows += traceRows(q, p);
            return inner.query(q, p);
          },
          exec: (s) => inner.exec(s),
          async execWithBlob(s, data) {
            tx.rows += copyRows(data);
            return inner.execWithBlob!(s, data);
          },
        };
        return fn(counting);
      });
    },
  };
}

const AT = new Date('2026-01-01T00:00:00.000Z');
const newRun = {
  workflowId: null,
  workflowVersionId: null,
  version: null,
  definition,
  input: null,
  trigger: 'manual',
};
const itemStep = (runId: string, i: number) => ({
  runId,
  nodeId: 'x',
  nodeType: 'transform',
  attempt: 1,
  mode: 'workflow' as const,
  input: { i },
  parentNodeId: 'map',
  itemIndex: i,
  startedAt: AT,
});

describe('the trace writer on PGlite', () => {
  let db: Db;
  let dir: ReturnType<typeof tempDataDir>;
  beforeAll(async () => {
    dir = tempDataDir();
    db = await openDb({ dataDir: dir.dir });
  });
  afterAll(async () => {
    await db?.close();
    dir?.remove();
  });

  it(`writes at most ${EMBEDDED_ROWS_PER_TRANSACTION} rows per transaction, with a turn of the event loop between them`, async () => {
    expect(EMBEDDED_ROWS_PER_TRANSACTION).toBe(200);
    const txs: Tx[] = [];
    const store = new SqlTraceStore({ sql: watched(db.sql, txs) });
    const run = await store.createRun(newRun);
    const ids: string[] = [];
    // 1,000 starts fill one batch (MAX_BATCH_ROWS); half of them finish after it was written.
    for (let i = 0; i < 1_000; i++) ids.push(await store.startStep(itemStep(run.id, i)));
    await store.flush();
    const firstBatch = txs.filter((t) => t.rows > 0);
    for (const id of ids.slice(0, 500))
      await store.finishStep(id, { status: 'succeeded', output: 1, finishedAt: AT });
    await store.flush();

    const written = txs.filter((t) => t.rows > 0);
    const secondBatch = written.slice(firstBatch.length);
    expect(written.reduce((n, t) => n + t.rows, 0)).toBe(1_500);
    expect(Math.max(...written.map((t) => t.rows))).toBeLessThanOrEqual(EMBEDDED_ROWS_PER_TRANSACTION);
    expect(firstBatch.length).toBe(Math.ceil(1_000 / EMBEDDED_ROWS_PER_TRANSACTION));
    expect(secondBatch.length).toBe(Math.ceil(500 / EMBEDDED_ROWS_PER_TRANSACTION));
    // Within a batch, the loop turns between two transactions (API queries get PGlite in between).
    for (const batch of [firstBatch, secondBatch])
      expect(batch.slice(0, -1).map((t) => t.turnedBeforeNext)).toEqual(batch.slice(1).map(() => true));

    const rows = await db.sql.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM "Step" WHERE "runId" = $1 GROUP BY status ORDER BY status`,
      [run.id],
    );
    expect(rows).toEqual([
      { status: 'running', n: 500 },
      { status: 'succeeded', n: 500 },
    ]);
    const [r] = await db.sql.query<{ stepCount: number }>(`SELECT "stepCount" FROM "Run" WHERE id = $1`, [
      run.id,
    ]);
    expect(r.stepCount).toBe(1_000);
  });

  it(`makes a step start wait once ${MAX_QUEUED_ROWS} rows wait to be written`, async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const gated: typeof db.sql = {
      ...db.sql,
      kind: db.sql.kind,
      // Every write of steps waits: in a transaction, or alone (a batch of new steps).
      query: async (q, p) => {
        if (/INSERT INTO "Step"/.test(q)) await gate;
        return db.sql.query(q, p);
      },
      execWithBlob: async (s, data) => {
        if (/COPY "Step"/.test(s)) await gate;
        return db.sql.execWithBlob!(s, data);
      },
      transaction: async (fn) => {
        await gate;
        return db.sql.transaction(fn);
      },
    };
    const store = new SqlTraceStore({ sql: gated });
    const run = await store.createRun(newRun);
    for (let i = 0; i < MAX_QUEUED_ROWS; i++) await store.startStep(itemStep(run.id, i));
    let started = false;
    const next = store.startStep(itemStep(run.id, MAX_QUEUED_ROWS)).then(() => (started = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(started).toBe(false); // the writer holds every row so far: the engine waits for it
    open();
    await next;
    await store.flush();
    const [r] = await db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Step" WHERE "runId" = $1`,
      [run.id],
    );
    expect(r.n).toBe(MAX_QUEUED_ROWS + 1);
  });
});
