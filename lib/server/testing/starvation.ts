import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { createTempPostgres, tempDataDir } from '@/lib/db/testing/databases';
import { startQueueWorker, type QueueWorker } from '@/lib/queue/worker';
import { health } from '@/lib/server/health';
import { buildEngine, createRuntime, type Runtime } from '@/lib/server/runtime';
import type { WorkflowDefinition } from '@/lib/workflow/definition';

// Issue 14 item 1, shared by tests/load/run-starvation.test.ts (what is promised) and
// bench/starvation.bench.ts (how fast): a 100,000-step run (nested maps, 100 × 1,000 items)
// executes in this process while GET /api/health (the real handler behind a real HTTP server on
// 127.0.0.1) is sampled, then the run is cancelled. Embedded mode runs the engine in this process;
// server mode runs a queue worker in this process, so in both the run shares the event loop with
// the API.

export const SAMPLE_EVERY_MS = 20;
/**
 * Sampling stops early once the run has started this many steps, so the cancel always meets a
 * running run however fast the machine (the run has 100,101 steps).
 */
export const CANCEL_BY_STEP = 90_000;

export const bigRun: WorkflowDefinition = {
  schemaVersion: 1,
  name: '100k steps',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    {
      id: 'outer',
      type: 'map',
      position: { x: 0, y: 100 },
      config: {
        items: 'Array.from({ length: 100 }, (_, i) => i)',
        concurrency: 4,
        body: {
          nodes: [
            {
              id: 'inner',
              type: 'map',
              position: { x: 0, y: 0 },
              config: {
                items: 'Array.from({ length: 1000 }, (_, i) => i)',
                concurrency: 8,
                body: {
                  nodes: [{ id: 'x', type: 'transform', position: { x: 0, y: 0 }, config: { value: 1 } }],
                  edges: [],
                },
              },
            },
          ],
          edges: [],
        },
      },
    },
  ],
  edges: [{ id: 'e', source: 'start', target: 'outer' }],
};

export type StarvationMode = 'embedded' | 'server';

export interface StarvationHost {
  mode: StarvationMode;
  db: Db;
  rt: Runtime;
  healthUrl: string;
  close(): Promise<void>;
}

const KEYS = { runtime: Symbol.for('trellis.runtime'), db: Symbol.for('trellis.db') };
const g = globalThis as Record<symbol, unknown>;

async function serveHealth(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    health().then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (err) => {
        res.writeHead(500);
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/health`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * The runtime health() sees (installed as the process's runtime and database), on a fresh PGlite
 * folder or a fresh Postgres database at `postgresUrl` with a queue worker in this process.
 */
export async function openStarvationHost(
  mode: StarvationMode,
  postgresUrl?: string,
): Promise<StarvationHost> {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  let db: Db;
  let rt: Runtime;
  let worker: QueueWorker | undefined;
  if (mode === 'server') {
    const tmp = await createTempPostgres('starve', postgresUrl);
    cleanups.push(() => tmp.drop());
    db = await openDb({ databaseUrl: tmp.url });
    rt = await createRuntime({ db, databaseUrl: tmp.url, seed: false, webRunSlots: 0 });
    worker = await startQueueWorker({ databaseUrl: tmp.url, concurrency: 2, makeEngine: buildEngine });
  } else {
    const dir = tempDataDir();
    cleanups.push(() => dir.remove());
    db = await openDb({ dataDir: dir.dir });
    rt = await createRuntime({ db, dispatch: 'in-process', seed: false });
  }
  g[KEYS.runtime] = Promise.resolve(rt);
  g[KEYS.db] = Promise.resolve(db);
  const web = await serveHealth();
  return {
    mode,
    db,
    rt,
    healthUrl: web.url,
    async close() {
      delete g[KEYS.runtime];
      delete g[KEYS.db];
      await web.close();
      await worker?.stop(1_000).catch(() => {});
      await rt.dispatcher.close?.();
      await db.close();
      for (const c of cleanups.reverse()) await c();
    },
  };
}

export interface HealthSample {
  ms: number;
  status: number;
}

/** Health latencies sampled one after another; each request is timed from send to body. */
export async function sampleHealth(url: string, forMs: number, stop = () => false): Promise<HealthSample[]> {
  const out: HealthSample[] = [];
  const until = Date.now() + forMs;
  while (Date.now() < until && !stop()) {
    const t0 = performance.now();
    const res = await fetch(url);
    await res.text();
    out.push({ ms: performance.now() - t0, status: res.status });
    await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
  }
  return out;
}

export interface StarvationResult {
  idle: HealthSample[];
  busy: HealthSample[];
  /** Event-loop delay while `busy` was sampled, p99 and max, ms. */
  loopDelayP99: number;
  loopDelayMax: number;
  /** Steps recorded when sampling ended, and the run's status then. */
  stepsBeforeCancel: number;
  statusBeforeCancel: string | undefined;
  cancelAccepted: boolean;
  /** How long engine.cancelRun took to answer, ms. */
  cancelCallMs: number;
  /** The latest step start of the run minus the moment of the cancel, ms (≤ 0: none started after). */
  lastStartAfterCancelMs: number;
  /** Steps recorded `settleMs` after the cancel, and one second later. */
  stepsSettled: number;
  stepsLater: number;
  statusAfter: string | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the 100k-step run, waits until it writes steps, samples health for `sampleForMs`, then
 * cancels it and watches that nothing runs any more.
 */
export async function measureStarvation(
  host: StarvationHost,
  opts: { sampleForMs: number; settleMs: number },
): Promise<StarvationResult> {
  const { db, rt } = host;
  const wf = await createWorkflow(db.prisma, { name: bigRun.name, definition: bigRun });
  const idle = await sampleHealth(host.healthUrl, 1_000);
  const runId = await rt.engine.startRun({ definition: bigRun, workflowId: wf.id, version: 1 });
  let stepsStarted = 0;
  const unsubscribe = rt.events.subscribe(runId, (ev) => {
    if (ev.type === 'step.started') stepsStarted++;
  });
  await rt.dispatcher.enqueue(runId, wf.id);
  const stepCount = async () =>
    (
      await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Step" WHERE "runId" = $1`, [runId])
    )[0].n;
  // Wait until it is really running (steps are being written), then sample.
  const started = Date.now();
  while ((await stepCount()) < 200 && Date.now() - started < 30_000) await sleep(100);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const busy = await sampleHealth(host.healthUrl, opts.sampleForMs, () => stepsStarted >= CANCEL_BY_STEP);
  lag.disable();
  unsubscribe();
  const stepsBeforeCancel = await stepCount();
  const statusBeforeCancel = (await rt.store.getRun(runId))?.status;

  const cancelAt = Date.now();
  const cancelAccepted = await rt.engine.cancelRun(runId);
  const cancelCallMs = Date.now() - cancelAt;
  await sleep(opts.settleMs);
  await rt.store.flush();
  const [last] = await db.sql.query<{ at: Date }>(
    `SELECT max("startedAt") AS at FROM "Step" WHERE "runId" = $1`,
    [runId],
  );
  const stepsSettled = await stepCount();
  await sleep(1_000);
  return {
    idle,
    busy,
    loopDelayP99: lag.percentile(99) / 1e6,
    loopDelayMax: lag.max / 1e6,
    stepsBeforeCancel,
    statusBeforeCancel,
    cancelAccepted,
    cancelCallMs,
    lastStartAfterCancelMs: new Date(last.at).getTime() - cancelAt,
    stepsSettled,
    stepsLater: await stepCount(),
    statusAfter: (await rt.store.getRun(runId))?.status,
  };
}
