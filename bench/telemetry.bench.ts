import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { BenchRow, BenchScenario } from './types';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import type { TraceStore } from '@/lib/engine/trace-store';
import { wf } from '@/lib/engine/testing/harness';
import { telemetryConfigFromEnv, type Telemetry } from '@/lib/telemetry';
import { createTelemetry } from '@/lib/telemetry/otel-tracer';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { createSandboxServices } from '@/lib/sandbox';

// Per-step cost of OpenTelemetry export (issue 18: target < 5 % added). The same chain of no-op
// transforms runs with export off, on (an OTLP/HTTP sink in another process, like a real
// collector) and on with the collector down; off and on alternate, and the median of the rounds
// is reported, so a noisy neighbour on the box skews both sides alike.

const SINK_PORT = Number(process.env.BENCH_OTLP_PORT ?? 4173);
const ROUNDS = 5;

function chain(n: number): WorkflowDefinition {
  const nodes = [{ id: 't', type: 'trigger.manual' }];
  const edges: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ id: `n${i}`, type: 'transform', config: { value: '{{ input }}' } } as never);
    edges.push([i === 0 ? 't' : `n${i - 1}`, `n${i}`]);
  }
  return wf(nodes, edges, 'bench chain');
}

/** A collector stand-in in its own process: drains each POST and answers 200. */
async function startSink(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('http').createServer((q, s) => { q.resume(); q.on('end', () => s.end('{}')); }).listen(${SINK_PORT}, '127.0.0.1', () => console.log('ready'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`OTLP sink exited (${c}); is port ${SINK_PORT} free?`)));
  });
  return child;
}

async function pgliteStore(): Promise<{ store: TraceStore; close(): Promise<void> }> {
  const { openDb } = await import('@/lib/db/client');
  const { SqlTraceStore } = await import('@/lib/db/sql-trace-store');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-otel-'));
  const db = await openDb({ dataDir: dir });
  const store = new SqlTraceStore(db);
  return {
    store,
    async close() {
      await store.flush();
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function perStepUs(store: TraceStore, steps: number, runs: number, t?: Telemetry): Promise<number> {
  const engine = createEngine({ store, tracer: t?.tracer, services: createSandboxServices() });
  const def = chain(steps);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const out = await engine.runToCompletion({ definition: def, input: i });
    if (out.status !== 'succeeded') throw new Error(`run ${out.status}`);
  }
  const us = ((performance.now() - t0) * 1000) / (steps * runs);
  await t?.flush();
  return us;
}

async function compare(
  label: string,
  store: TraceStore,
  steps: number,
  runs: number,
  sinkUrl: string,
  deadUrl: string,
): Promise<BenchRow[]> {
  const config = (url: string) => telemetryConfigFromEnv({ TRELLIS_OTEL_ENDPOINT: url })!;
  await perStepUs(store, steps, 1); // warm-up: JIT, sandbox, store
  const off: number[] = [];
  const on: number[] = [];
  const down: number[] = [];
  let stats = { exported: 0, dropped: 0, failed: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    off.push(await perStepUs(store, steps, runs));
    const t = createTelemetry(config(sinkUrl));
    on.push(await perStepUs(store, steps, runs, t));
    await t.shutdown(); // exports what is still queued, so the counts are complete
    const s = t.stats();
    stats = {
      exported: stats.exported + s.exported,
      dropped: stats.dropped + s.dropped,
      failed: stats.failed + s.failed,
    };
    const d = createTelemetry({ ...config(deadUrl), exportTimeoutMillis: 1000 });
    down.push(await perStepUs(store, steps, runs, d));
    await d.shutdown();
  }
  const mOff = median(off);
  const mOn = median(on);
  const scenario = `otel ${label} (${steps}-step chain ×${runs})`;
  return [
    { scenario, metric: 'per step, export off', value: mOff, unit: 'µs' },
    { scenario, metric: 'per step, export on', value: mOn, unit: 'µs' },
    { scenario, metric: 'per step, collector down', value: median(down), unit: 'µs' },
    { scenario, metric: 'added by export', value: ((mOn - mOff) / mOff) * 100, unit: '%', target: '< 5 %' },
    { scenario, metric: 'spans exported', value: stats.exported, unit: 'spans' },
    { scenario, metric: 'spans dropped', value: stats.dropped, unit: 'spans', target: '0' },
  ];
}

export const scenarios: BenchScenario[] = [
  {
    name: 'telemetry overhead',
    async run() {
      const sink = await startSink();
      const sinkUrl = `http://127.0.0.1:${SINK_PORT}`;
      const deadUrl = `http://127.0.0.1:${SINK_PORT + 1}`;
      try {
        const rows = await compare('memory store', new MemoryTraceStore(), 200, 10, sinkUrl, deadUrl);
        const pg = await pgliteStore();
        try {
          rows.push(...(await compare('pglite store', pg.store, 200, 5, sinkUrl, deadUrl)));
        } finally {
          await pg.close();
        }
        return rows;
      } finally {
        sink.kill('SIGKILL');
      }
    },
  },
];
