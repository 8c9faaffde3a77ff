import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { BenchRow, BenchScenario } from './types';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import type { TraceStore } from '@/lib/engine/trace-store';
import { wf } from '@/lib/engine/testing/harness';
import { shutdownSandbox } from '@/lib/sandbox';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { postgresReachable } from '@/lib/queue/testing/queue-db';
import { createSandboxServices } from '@/lib/sandbox';
import { mapWorkflow } from './http-workflows';

// Engine + trace cost per step, on the in-memory store, PGlite and (when reachable) Postgres.
// Nodes are no-op transforms whose templates take the sandbox's plain-reference fast path, so
// the figures are the scheduler's and the store's, not the sandbox's; except "map 10000x3
// expressions", the HTTP bench's map whose body steps evaluate real expressions (issue 21).

const execFileAsync = promisify(execFile);

const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

interface Target {
  name: string;
  open(): Promise<{ store: TraceStore; close(): Promise<void> }>;
}

const memory: Target = {
  name: 'memory',
  open: async () => ({ store: new MemoryTraceStore(), close: async () => {} }),
};

const pglite: Target = {
  name: 'pglite',
  async open() {
    const { openDb } = await import('@/lib/db/client');
    const { SqlTraceStore } = await import('@/lib/db/sql-trace-store');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-engine-'));
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
  },
};

const postgres: Target = {
  name: 'postgres',
  async open() {
    const { openDb } = await import('@/lib/db/client');
    const { SqlTraceStore } = await import('@/lib/db/sql-trace-store');
    const name = `trellis_bench_engine_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    const db = await openDb({ databaseUrl: url.toString(), poolSize: 10 });
    const store = new SqlTraceStore(db);
    return {
      store,
      async close() {
        await store.flush();
        await db.close();
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  },
};

function chain(n: number): WorkflowDefinition {
  const nodes = [{ id: 't', type: 'trigger.manual' }];
  const edges: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ id: `n${i}`, type: 'transform', config: { value: '{{ input }}' } } as never);
    edges.push([i === 0 ? 't' : `n${i - 1}`, `n${i}`]);
  }
  return wf(nodes, edges, 'chain');
}

function fanOut(n: number): WorkflowDefinition {
  const nodes: { id: string; type: string; config?: Record<string, unknown> }[] = [
    { id: 't', type: 'trigger.manual' },
  ];
  const edges: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ id: `b${i}`, type: 'transform', config: { value: '{{ input }}' } });
    edges.push(['t', `b${i}`], [`b${i}`, 'm']);
  }
  nodes.push(
    { id: 'm', type: 'merge', config: { mode: 'all' } },
    { id: 'o', type: 'output', config: { value: 'done' } },
  );
  edges.push(['m', 'o']);
  return wf(nodes, edges, 'fan-out');
}

const mapDef = wf(
  [
    { id: 't', type: 'trigger.manual' },
    {
      id: 'm',
      type: 'map',
      config: {
        items: 'input.items',
        concurrency: 50,
        body: {
          nodes: [
            { id: 'a', type: 'transform', position: { x: 0, y: 0 }, config: { value: '{{ item }}' } },
            {
              id: 'b',
              type: 'transform',
              position: { x: 0, y: 0 },
              config: { value: '{{ steps.a.output }}' },
            },
            {
              id: 'c',
              type: 'transform',
              position: { x: 0, y: 0 },
              config: { value: '{{ steps.b.output }}' },
            },
          ],
          edges: [
            { id: 'x1', source: 'a', target: 'b' },
            { id: 'x2', source: 'b', target: 'c' },
          ],
        },
      },
    },
    { id: 'o', type: 'output', config: { value: 'done' } },
  ],
  [
    ['t', 'm'],
    ['m', 'o'],
  ],
  'map',
);

const fiveSteps = chain(4); // trigger + 4 transforms

/** The HTTP bench's expression-heavy map (bench/http-workflows.ts), started by hand instead of a webhook. */
function manual(def: ReturnType<typeof mapWorkflow>): WorkflowDefinition {
  const [, ...rest] = def.nodes;
  return {
    ...def,
    nodes: [{ id: 'hook', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} }, ...rest],
  } as WorkflowDefinition;
}
const exprMapDef = manual(mapWorkflow(10_000));

interface CaseResult {
  ms: number;
  peakRssMb: number;
  peakHeapMb: number;
}

type CaseName = 'chain' | 'branches' | 'map' | 'mapexpr' | 'runs';

// Each case runs in a fresh process so its peak RSS is its own (PGlite alone holds hundreds of
// MB of WebAssembly memory that a shared process never gives back).
async function runCase(name: CaseName, store: TraceStore): Promise<CaseResult> {
  const engine = createEngine({ store, services: createSandboxServices() });
  let peakHeap = 0;
  const heapTimer = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 10);
  try {
    const t0 = performance.now();
    if (name === 'chain') {
      const out = await engine.runToCompletion({ definition: chain(1000), input: 1 });
      if (out.status !== 'succeeded') throw new Error(`chain ${out.status}`);
    } else if (name === 'branches') {
      const out = await engine.runToCompletion({ definition: fanOut(100), input: 1 });
      if (out.status !== 'succeeded') throw new Error(`branches ${out.status}`);
    } else if (name === 'map') {
      const items = Array.from({ length: 10_000 }, (_, i) => i);
      const out = await engine.runToCompletion({ definition: mapDef, input: { items } });
      if (out.status !== 'succeeded') throw new Error(`map ${out.status}: ${JSON.stringify(out.error)}`);
    } else if (name === 'mapexpr') {
      const out = await engine.runToCompletion({ definition: exprMapDef, input: {} });
      if (out.status !== 'succeeded') throw new Error(`mapexpr ${out.status}: ${JSON.stringify(out.error)}`);
    } else {
      const outs = await Promise.all(
        Array.from({ length: 200 }, (_, i) => engine.runToCompletion({ definition: fiveSteps, input: i })),
      );
      if (outs.some((r) => r.status !== 'succeeded')) throw new Error('a run failed');
    }
    const ms = performance.now() - t0;
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    return { ms, peakRssMb: process.resourceUsage().maxRSS / 1024, peakHeapMb: peakHeap / 1024 / 1024 };
  } finally {
    clearInterval(heapTimer);
  }
}

const TARGETS: Record<string, Target> = { memory, pglite, postgres };

async function inChild(name: CaseName, target: string): Promise<CaseResult> {
  const file = fileURLToPath(import.meta.url);
  const tsx = path.resolve(path.dirname(file), '../node_modules/.bin/tsx');
  const { stdout } = await execFileAsync(tsx, [file, '--case', name, target], {
    cwd: path.resolve(path.dirname(file), '..'),
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as CaseResult;
}

function rows(
  scenario: string,
  target: string,
  r: CaseResult,
  steps: number,
  extra: BenchRow[] = [],
): BenchRow[] {
  const label = `${scenario} [${target}]`;
  return [
    { scenario: label, metric: 'wall', value: r.ms, unit: 'ms' },
    {
      scenario: label,
      metric: 'per step',
      value: r.ms / steps,
      unit: 'ms',
      ...(target === 'postgres' ? { target: '<= 0.3' } : {}),
    },
    { scenario: label, metric: 'peak RSS (process)', value: r.peakRssMb, unit: 'MB' },
    { scenario: label, metric: 'peak JS heap', value: r.peakHeapMb, unit: 'MB' },
    ...extra,
  ];
}

async function targets(): Promise<string[]> {
  return ['memory', 'pglite', ...((await postgresReachable(PG_URL)) ? ['postgres'] : [])];
}

const STEPS: Record<CaseName, number> = {
  chain: 1001,
  branches: 103,
  map: 30_003,
  mapexpr: 30_004,
  runs: 1000,
};

function scenario(
  name: CaseName,
  title: string,
  extra?: (target: string, r: CaseResult) => BenchRow[],
): BenchScenario {
  return {
    name: `engine: ${title}`,
    async run() {
      const out: BenchRow[] = [];
      for (const t of await targets()) {
        const r = await inChild(name, t);
        out.push(...rows(title, t, r, STEPS[name], extra?.(t, r)));
      }
      return out;
    },
  };
}

export const scenarios: BenchScenario[] = [
  scenario('chain', 'chain 1000'),
  scenario('branches', '100 branches'),
  scenario('map', 'map 10000x3', (t, r) => [
    { scenario: `map 10000x3 [${t}]`, metric: 'wall (target)', value: r.ms, unit: 'ms', target: '< 5000' },
    {
      scenario: `map 10000x3 [${t}]`,
      metric: 'peak RSS (target)',
      value: r.peakRssMb,
      unit: 'MB',
      target: '< 300',
    },
  ]),
  scenario('mapexpr', 'map 10000x3 expressions'),
  scenario('runs', '200 runs x 5', (t, r) => [
    { scenario: `200 runs x 5 [${t}]`, metric: 'runs/s', value: 200 / (r.ms / 1000), unit: 'runs/s' },
  ]),
];

export async function teardown(): Promise<void> {
  await shutdownSandbox();
}

// Child entry: tsx bench/engine.bench.ts --case <name> <target>
if (
  process.argv[2] === '--case' &&
  process.argv[1] &&
  fileURLToPath(import.meta.url) === path.resolve(process.argv[1])
) {
  const [, , , name, target] = process.argv;
  const h = await TARGETS[target].open();
  try {
    // Warm-up outside the measurement: sandbox pool, prepared statements, JIT.
    await createEngine({ store: h.store, services: createSandboxServices() }).runToCompletion({
      definition: chain(10),
      input: 1,
    });
    const r = await runCase(name as CaseName, h.store);
    console.log(JSON.stringify(r));
  } finally {
    await h.close();
    await shutdownSandbox();
  }
  process.exit(0);
}
