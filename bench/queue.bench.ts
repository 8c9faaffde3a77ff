import { openDb, type Db } from '@/lib/db/client';
import { tempDataDir } from '@/lib/db/testing/databases';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import type { EngineEvent } from '@/lib/engine/events';
import { linearWorkflow, postgresReachable, tempQueueDb } from '@/lib/queue/testing/queue-db';
import { startQueueWorker, type QueueWorker } from '@/lib/queue/worker';
import { buildEngine, createRuntime, type Runtime } from '@/lib/server/runtime';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { BenchRow, BenchScenario } from './types';

// Durable queue figures. Start latency = what POST /api/workflows/:id/runs does (engine.startRun,
// which writes the run and its job in one transaction, + dispatcher.enqueue) until the first step
// is running in a worker. Workers run in this process (startQueueWorker, own pools and pg-boss),
// so both ends read one clock; across machines add the network.

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function firstStepWatcher() {
  const waiting = new Map<string, (t: number) => void>();
  const early = new Map<string, number>();
  return {
    onEvent(ev: EngineEvent) {
      if (ev.type !== 'step.started') return;
      const t = performance.now();
      const w = waiting.get(ev.runId);
      if (w) {
        waiting.delete(ev.runId);
        w(t);
      } else if (!early.has(ev.runId)) early.set(ev.runId, t);
    },
    firstStep(runId: string): Promise<number> {
      const t = early.get(runId);
      if (t !== undefined) return Promise.resolve(t);
      return new Promise((r) => waiting.set(runId, r));
    },
  };
}

async function startLatency(
  rt: Runtime,
  watcher: ReturnType<typeof firstStepWatcher>,
  def: WorkflowDefinition,
  wfId: string,
  n: number,
) {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const runId = await rt.engine.startRun({ definition: def, workflowId: wfId, input: { i } });
    await rt.dispatcher.enqueue(runId);
    const t1 = await watcher.firstStep(runId);
    lat.push(t1 - t0);
    await rt.dispatcher.settled(runId);
  }
  return lat;
}

async function throughput(rt: Runtime, def: WorkflowDefinition, wfId: string, runs: number) {
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < runs; i++) {
    const id = await rt.engine.startRun({ definition: def, workflowId: wfId, input: { i } });
    await rt.dispatcher.enqueue(id);
    ids.push(id);
  }
  await Promise.all(ids.map((id) => rt.dispatcher.settled(id)));
  return runs / ((performance.now() - t0) / 1000);
}

const postgres: BenchScenario = {
  name: 'queue-postgres',
  async run() {
    if (!(await postgresReachable())) return [];
    const rows: BenchRow[] = [];
    const tmp = await tempQueueDb('bench');
    const db = await openDb({ databaseUrl: tmp.url });
    const rt = await createRuntime({ db, databaseUrl: tmp.url, seed: false, webRunSlots: 0 });
    const watcher = firstStepWatcher();
    const workers: QueueWorker[] = [];
    const addWorker = async () =>
      workers.push(
        await startQueueWorker({
          databaseUrl: tmp.url,
          concurrency: 4,
          schedules: false,
          makeEngine: (wdb, store, onEvent) =>
            buildEngine(wdb, store, (ev) => {
              watcher.onEvent(ev);
              onEvent(ev);
            }),
        }),
      );
    try {
      await addWorker();
      const one = linearWorkflow(1);
      const wf1 = await createWorkflow(db.prisma, { name: 'one', definition: one });
      await startLatency(rt, watcher, one, wf1.id, 5); // warm-up
      const lat = await startLatency(rt, watcher, one, wf1.id, 60);
      rows.push(
        {
          scenario: 'queue-postgres',
          metric: 'start latency p50',
          value: pct(lat, 50),
          unit: 'ms',
          target: '≤ 15',
        },
        { scenario: 'queue-postgres', metric: 'start latency p99', value: pct(lat, 99), unit: 'ms' },
      );
      // Queue overhead: the same 1-step run through the queue vs executed directly on this database.
      const viaQueue: number[] = [];
      const direct: number[] = [];
      for (let i = 0; i < 30; i++) {
        let t0 = performance.now();
        const q = await rt.engine.startRun({ definition: one, workflowId: wf1.id, input: {} });
        await rt.dispatcher.enqueue(q);
        await rt.dispatcher.settled(q);
        viaQueue.push(performance.now() - t0);
        t0 = performance.now();
        const d = await rt.engine.startRun({ definition: one, input: {}, trigger: 'rerun:bench' }); // no job
        await rt.engine.executeRun(d);
        direct.push(performance.now() - t0);
      }
      rows.push({
        scenario: 'queue-postgres',
        metric: 'queue overhead per run (p50)',
        value: pct(viaQueue, 50) - pct(direct, 50),
        unit: 'ms',
      });
      const five = linearWorkflow(5);
      const wf5 = await createWorkflow(db.prisma, { name: 'five', definition: five });
      rows.push({
        scenario: 'queue-postgres',
        metric: 'runs/s, 1 worker (5-step runs)',
        value: await throughput(rt, five, wf5.id, 200),
        unit: 'runs/s',
      });
      await addWorker();
      rows.push({
        scenario: 'queue-postgres',
        metric: 'runs/s, 2 workers (5-step runs)',
        value: await throughput(rt, five, wf5.id, 200),
        unit: 'runs/s',
      });
    } finally {
      for (const w of workers) await w.stop(1_000);
      await rt.dispatcher.close?.();
      await db.close();
      await tmp.drop();
    }
    return rows;
  },
};

const embedded: BenchScenario = {
  name: 'queue-embedded',
  async run() {
    const dir = tempDataDir('trellis-bench-queue-');
    let db: Db | undefined;
    try {
      db = await openDb({ dataDir: dir.dir });
      const rt = await createRuntime({ db, dispatch: 'in-process', seed: false });
      const watcher = firstStepWatcher();
      rt.engine.subscribe((ev) => watcher.onEvent(ev));
      const one = linearWorkflow(1);
      const wf = await createWorkflow(db.prisma, { name: 'one', definition: one });
      await startLatency(rt, watcher, one, wf.id, 5);
      const lat = await startLatency(rt, watcher, one, wf.id, 60);
      const five = linearWorkflow(5);
      const wf5 = await createWorkflow(db.prisma, { name: 'five', definition: five });
      return [
        {
          scenario: 'queue-embedded',
          metric: 'start latency p50 (in-process)',
          value: pct(lat, 50),
          unit: 'ms',
        },
        {
          scenario: 'queue-embedded',
          metric: 'start latency p99 (in-process)',
          value: pct(lat, 99),
          unit: 'ms',
        },
        {
          scenario: 'queue-embedded',
          metric: 'runs/s (5-step runs)',
          value: await throughput(rt, five, wf5.id, 100),
          unit: 'runs/s',
        },
      ];
    } finally {
      await db?.close();
      dir.remove();
    }
  },
};

export const scenarios: BenchScenario[] = [postgres, embedded];
