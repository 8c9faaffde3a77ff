import type { BenchRow, BenchScenario } from './types';
import { openDb, type Db } from '@/lib/db/client';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { createTempPostgres, tempDataDir } from '@/lib/db/testing/databases';

// Trace write cost on both databases: steps started and finished as fast as the engine could,
// measured until durable (flush). Postgres runs only when DATABASE_URL or the local server answers.

const STEPS = 5_000;
const CONCURRENT_RUNS = 20;

async function traceRows(label: string, db: Db): Promise<BenchRow[]> {
  const store = new SqlTraceStore(db);
  const definition = { schemaVersion: 1 as const, name: 'bench', nodes: [], edges: [] };
  const runs = await Promise.all(
    Array.from({ length: CONCURRENT_RUNS }, () =>
      store.createRun({
        workflowId: null,
        workflowVersionId: null,
        version: null,
        definition,
        input: {},
        trigger: 'bench',
      }),
    ),
  );
  const payload = {
    status: 200,
    body: { items: Array.from({ length: 10 }, (_, i) => ({ i, name: `item ${i}` })) },
  };
  // Warm-up: JIT, prepared plans.
  for (let i = 0; i < 200; i++) {
    const id = await store.startStep({
      runId: runs[0].id,
      nodeId: `w${i}`,
      nodeType: 'transform',
      attempt: 1,
      mode: 'workflow',
      input: payload,
      startedAt: new Date(),
    });
    await store.finishStep(id, { status: 'succeeded', output: payload, finishedAt: new Date() });
  }
  await store.flush();

  const t0 = performance.now();
  await Promise.all(
    runs.map(async (run, r) => {
      for (let i = 0; i < STEPS / CONCURRENT_RUNS; i++) {
        const id = await store.startStep({
          runId: run.id,
          nodeId: `n${r}_${i}`,
          nodeType: 'transform',
          attempt: 1,
          mode: 'workflow',
          input: payload,
          startedAt: new Date(),
        });
        await store.finishStep(id, { status: 'succeeded', output: payload, finishedAt: new Date() });
      }
    }),
  );
  const queuedMs = performance.now() - t0;
  await store.flush();
  const totalMs = performance.now() - t0;

  // The unbatched alternative for comparison: one committed INSERT and one UPDATE per step.
  const N = 300;
  const t1 = performance.now();
  for (let i = 0; i < N; i++) {
    const id = crypto.randomUUID();
    await db.sql.query(
      `INSERT INTO "Step" (id, "runId", "nodeId", "nodeType", attempt, mode, status, input, "startedAt") VALUES ($1,$2,$3,'transform',1,'workflow','running',$4::jsonb,now())`,
      [id, runs[0].id, `u${i}`, JSON.stringify(payload)],
    );
    await db.sql.query(
      `UPDATE "Step" SET status='succeeded', output=$2::jsonb, "finishedAt"=now() WHERE id=$1`,
      [id, JSON.stringify(payload)],
    );
  }
  const unbatchedMs = (performance.now() - t1) / N;
  await store.close();
  const scenario = `trace writes (${label})`;
  return [
    { scenario, metric: 'steps durable/s', value: Math.round(STEPS / (totalMs / 1000)), unit: 'steps/s' },
    {
      scenario,
      metric: 'per step (start+finish, until durable)',
      value: +(totalMs / STEPS).toFixed(4),
      unit: 'ms',
      ...(label === 'postgres' ? { target: '≤ 0.3 ms incl. engine' } : {}),
    },
    { scenario, metric: 'per step caller-side (queued)', value: +(queuedMs / STEPS).toFixed(4), unit: 'ms' },
    { scenario, metric: 'per step unbatched (INSERT+UPDATE)', value: +unbatchedMs.toFixed(3), unit: 'ms' },
  ];
}

async function openTimes(): Promise<BenchRow[]> {
  const tmp = tempDataDir('trellis-bench-');
  try {
    const t0 = performance.now();
    const cold = await openDb({ dataDir: tmp.dir });
    const coldMs = performance.now() - t0;
    await cold.close();
    const t1 = performance.now();
    const warm = await openDb({ dataDir: tmp.dir });
    const warmMs = performance.now() - t1;
    await warm.close();
    return [
      {
        scenario: 'PGlite open',
        metric: 'cold (fresh dir, initdb + migrations)',
        value: Math.round(coldMs),
        unit: 'ms',
      },
      { scenario: 'PGlite open', metric: 'warm (existing dir)', value: Math.round(warmMs), unit: 'ms' },
    ];
  } finally {
    tmp.remove();
  }
}

const LOCAL_POSTGRES = 'postgresql://postgres@127.0.0.1:5432/postgres';

async function postgresUrl(): Promise<string | null> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  try {
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: LOCAL_POSTGRES, connectionTimeoutMillis: 1000 });
    await c.connect();
    await c.end();
    return LOCAL_POSTGRES;
  } catch {
    return null;
  }
}

export const scenarios: BenchScenario[] = [
  { name: 'db: PGlite open times', run: openTimes },
  {
    name: 'db: trace writes on PGlite',
    async run() {
      const tmp = tempDataDir('trellis-bench-');
      const db = await openDb({ dataDir: tmp.dir });
      try {
        return await traceRows('pglite', db);
      } finally {
        await db.close();
        tmp.remove();
      }
    },
  },
  {
    name: 'db: trace writes on Postgres',
    async run() {
      const url = await postgresUrl();
      if (!url) return [];
      const temp = await createTempPostgres('bench', url);
      const db = await openDb({ databaseUrl: temp.url });
      try {
        return await traceRows('postgres', db);
      } finally {
        await db.close();
        await temp.drop();
      }
    },
  },
];
