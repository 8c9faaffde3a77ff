// `npm run bench:http`: the whole path users feel — webhook → queue → worker → trace → reply — on
// the built app (issue 21). Starts the app itself on a fresh data folder (embedded, PGlite), then,
// when DATABASE_URL is set, on a fresh Postgres database with one `trellis worker` (server mode).
// Creates the workflows through the API, drives them over HTTP and samples the RSS of the
// processes. Prints one table per mode with min / median / p90 and the issue's target.
// Figures are for reading, not asserting; take them on a quiet machine (see bench/README.md).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildIsStale, serverEnv } from '../scripts/start.mjs';
import { ensureCli } from '../scripts/build-cli.mjs';
import { createFreshDatabase } from '../scripts/stack.mjs';
import { percentileOf } from '../lib/workflow/stats';
import { chainWorkflow, codeItemsWorkflow, mapWorkflow, parallelWorkflow } from './http-workflows';

const root = path.resolve(import.meta.dirname, '..');
/** Ports: the web server, one per mode so a lingering server of one mode cannot answer the other. */
const WEB_PORT = Number(process.env.BENCH_HTTP_PORT ?? 3370);
const READY_TIMEOUT_MS = 120_000;
/** Calls per sequential latency scenario (after WARMUP calls that are not counted). */
const SEQUENTIAL_CALLS = Number(process.env.BENCH_HTTP_CALLS ?? 200);
const WARMUP = 20;
/** The throughput scenario: this many calls, this many in flight, ROUNDS times. */
const BURST_CALLS = 200;
const IN_FLIGHT = 20;
const ROUNDS = 3;
/** Chain lengths whose latencies give the fixed cost (intercept) and the cost per step (slope). */
const CHAIN_LENGTHS = [1, 10, 50, 100, 250, 500];
const CHAIN_CALLS = 20;
const PARALLEL_CALLS = 40;
const HEAVY_CALLS = 3;
const ITEMS = Number(process.env.BENCH_HTTP_ITEMS ?? 10_000);
/** Worker concurrency in server mode (one worker process). */
const WORKER_CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 10);
const RSS_SAMPLE_MS = 25;
/** BENCH_HTTP_ONLY=map,cold…: run only these scenarios (profiling one of them). */
const ONLY = process.env.BENCH_HTTP_ONLY?.split(',');
const want = (key: string) => !ONLY || ONLY.includes(key);
/** Extra node flags for the web and worker processes, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const IDLE_SETTLE_MS = 3_000;
/** Microseconds on the monotonic clock V8 stamps its CPU profiles with (both read CLOCK_MONOTONIC). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const EMAIL = 'bench@trellis.test';
const PASSWORD = 'bench-password-trellis';

interface Row {
  scenario: string;
  unit: string;
  samples: number[];
  target: string;
}

// ---------------------------------------------------------------------------------------------
// Processes and their memory

/**
 * Calls `each` with the pid and the /proc/<pid>/stat fields after the command of every process in
 * the group (the server and anything it spawned); a process gone meanwhile is skipped.
 */
function forEachInGroup(pgid: number, each: (pid: string, fields: string[]) => void): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 5 (pgrp) comes after the command in parentheses, which may itself hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) each(entry, fields);
    } catch {
      /* gone meanwhile */
    }
  }
}

/** Resident set of every process in the group, in MB. */
function groupRssMb(pgid: number): number {
  let kb = 0;
  forEachInGroup(pgid, (pid) => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) kb += Number(m[1]);
  });
  return kb / 1024;
}

/** CPU time (user + system) of every process in the group so far, in ms. */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  // Fields 14 and 15 (utime, stime), in clock ticks; Linux reports 100 per second.
  forEachInGroup(pgid, (_pid, fields) => void (ticks += Number(fields[11]) + Number(fields[12])));
  return ticks * (1000 / CLOCK_TICKS_PER_SECOND);
}
const CLOCK_TICKS_PER_SECOND = 100;

/** Samples a process group's RSS until stopped; returns the peak. */
function rssSampler(pgid: number) {
  let peak = groupRssMb(pgid);
  const t = setInterval(() => (peak = Math.max(peak, groupRssMb(pgid))), RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, groupRssMb(pgid));
    },
  };
}

function startProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, label: string): ChildProcess {
  const child = spawn(cmd, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  // Kept for a failure message; the app logs a line per run otherwise nobody reads.
  let tail = '';
  const keep = (b: Buffer) => (tail = (tail + b.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('exit', (code) => {
    if (code && !stopping.has(child)) console.error(`[bench:http] ${label} exited ${code}:\n${tail}`);
  });
  return child;
}

const stopping = new Set<ChildProcess>();
const started = new Set<ChildProcess>();
// A bench stopped half-way (Ctrl-C, a timeout) must not leave a server holding the port.
process.on('exit', () => started.forEach(stopGroup));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
function stopGroup(child: ChildProcess | null): void {
  if (!child?.pid) return;
  stopping.add(child);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

async function stopGently(child: ChildProcess): Promise<void> {
  stopping.add(child);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
}

// ---------------------------------------------------------------------------------------------
// HTTP

class Client {
  private auth = '';
  constructor(readonly base: string) {}

  async api<T>(method: string, p: string, body?: unknown): Promise<T> {
    const r = await fetch(this.base + p, {
      method,
      headers: {
        'content-type': 'application/json',
        origin: this.base,
        ...(this.auth ? { authorization: this.auth } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  /** Owner (setup), then an API token: every later call is authenticated like a script's. */
  async signIn(): Promise<void> {
    const r = await fetch(`${this.base}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.base },
      body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
    });
    if (!r.ok) throw new Error(`setup: ${r.status} ${await r.text()}`);
    const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0];
    const t = await fetch(`${this.base}/api/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.base, cookie },
      body: JSON.stringify({ name: 'bench' }),
    });
    if (!t.ok) throw new Error(`token: ${t.status} ${await t.text()}`);
    this.auth = `Bearer ${((await t.json()) as { token: string }).token}`;
  }

  /** Saves a workflow and returns how to call its webhook. */
  async createHook(definition: unknown): Promise<Hook> {
    const wf = await this.api<{ id: string }>('POST', '/api/workflows', { definition });
    const got = await this.api<{ webhook?: { url: string; secret: string } }>(
      'GET',
      `/api/workflows/${wf.id}`,
    );
    if (!got.webhook) throw new Error(`workflow ${wf.id} has no webhook`);
    return { client: this, url: this.base + got.webhook.url, secret: got.webhook.secret };
  }
}

interface Hook {
  client: Client;
  url: string;
  secret: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** How often a run that outlived the webhook's wait is looked at. */
const POLL_MS = 50;

/**
 * One webhook call, until the run has finished: the reply when it came within the webhook's wait,
 * else the run is polled. Returns the wall time in ms.
 */
async function call(hook: Hook, input: unknown = {}): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(hook.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-trellis-webhook-secret': hook.secret },
    body: JSON.stringify(input),
  });
  const body = (await r.json()) as { runId?: string; status?: string; error?: unknown };
  if (r.status === 200 && body.status === 'succeeded') return performance.now() - t0;
  if (r.status !== 202 || !body.runId) throw new Error(`webhook ${r.status}: ${JSON.stringify(body)}`);
  for (;;) {
    // One step row, not a page of them: the poll must not load the server it measures.
    const { run } = await hook.client.api<{ run: { status: string; error?: unknown } }>(
      'GET',
      `/api/runs/${body.runId}?stepLimit=1`,
    );
    if (TERMINAL.has(run.status)) {
      if (run.status !== 'succeeded')
        throw new Error(`run ${body.runId} ${run.status}: ${JSON.stringify(run.error)}`);
      return performance.now() - t0;
    }
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

async function sequential(hook: Hook, n: number, warmup = 0): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call(hook);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await call(hook));
  return out;
}

/** `total` calls with `inFlight` at a time; runs per second over the whole burst. */
async function burst(hook: Hook, total: number, inFlight: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < total) await call(hook);
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table

const median = (xs: number[]) => percentileOf(xs, 50)!;

/** Least squares over (x, y): the intercept and the slope. */
function fitLine(points: [number, number][]): { intercept: number; slope: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function printTable(title: string, rows: Row[]): void {
  const head = ['scenario', 'unit', 'n', 'min', 'median', 'p90', 'target'];
  const body = rows.map((r) => [
    r.scenario,
    r.unit,
    String(r.samples.length),
    fmt(Math.min(...r.samples)),
    fmt(median(r.samples)),
    fmt(percentileOf(r.samples, 90)!),
    r.target,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const numeric = new Set([2, 3, 4, 5]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ');
  console.log(`\n${title}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
}

/** CPU and commits per run: counted, so they mean something on a loaded machine too. */
function printCosts(costs: Cost[]): void {
  if (!costs.length) return;
  console.log('\nper run (CPU of the process groups, transactions committed in the bench database)');
  for (const c of costs)
    console.log(
      `${c.scenario}: CPU web ${fmt(c.webCpuMs)} ms + worker ${fmt(c.workerCpuMs)} ms` +
        (c.commits === null ? '' : `, ${fmt(c.commits)} commits`) +
        ` (${c.runs} runs)`,
    );
}

// ---------------------------------------------------------------------------------------------
// One mode

interface Mode {
  name: string;
  env: NodeJS.ProcessEnv;
  worker: boolean;
  /** Server mode: committed transactions of the bench database so far (pg_stat_database). */
  commits?: () => Promise<number>;
  cleanup: () => Promise<void>;
}

/** Figures per run of one scenario that do not depend on the machine's load: CPU and commits. */
interface Cost {
  scenario: string;
  runs: number;
  webCpuMs: number;
  workerCpuMs: number;
  commits: number | null;
}

/** Postgres publishes its transaction counters at most once a second (PGSTAT_MIN_INTERVAL). */
const STATS_SETTLE_MS = 1_200;

async function waitReady(base: string, needWorker: boolean): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) {
        const h = (await r.json()) as { workers?: number };
        if (!needWorker || (h.workers ?? 0) > 0) return;
      }
    } catch {
      /* not up yet */
    }
    if (Date.now() - started > READY_TIMEOUT_MS) throw new Error(`${base} did not become ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runMode(mode: Mode): Promise<{ rows: Row[]; costs: Cost[] }> {
  const base = `http://127.0.0.1:${WEB_PORT}`;
  const nextBin = path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');
  const web = startProcess(
    process.execPath,
    [...NODE_ARGS, nextBin, 'start', '-p', String(WEB_PORT), '-H', '127.0.0.1'],
    mode.env,
    'web',
  );
  // As deployed: the bundled CLI (bin/trellis.mjs), built in main() so no build runs in the worker.
  const worker = mode.worker
    ? startProcess(
        process.execPath,
        [...NODE_ARGS, 'bin/trellis.mjs', 'worker', '--concurrency', String(WORKER_CONCURRENCY)],
        mode.env,
        'worker',
      )
    : null;
  const rows: Row[] = [];
  const costs: Cost[] = [];
  /** Runs `work` (which makes `runs` runs) and records its CPU and commits per run. */
  const metered = async <T>(scenario: string, runs: number, work: () => Promise<T>): Promise<T> => {
    await new Promise((r) => setTimeout(r, mode.commits ? STATS_SETTLE_MS : 0));
    const c0 = await mode.commits?.();
    const w0 = groupCpuMs(web.pid!);
    const k0 = worker ? groupCpuMs(worker.pid!) : 0;
    const t0 = monotonicUs();
    const out = await work();
    const t1 = monotonicUs();
    const w1 = groupCpuMs(web.pid!);
    const k1 = worker ? groupCpuMs(worker.pid!) : 0;
    // The scenario's window on the clock of a --cpu-prof profile, for bench/cpuprofile.ts --window.
    if (NODE_ARGS.length) console.error(`[bench:http] window ${scenario}: ${t0}-${t1}`);
    await new Promise((r) => setTimeout(r, mode.commits ? STATS_SETTLE_MS : 0));
    const c1 = await mode.commits?.();
    costs.push({
      scenario,
      runs,
      webCpuMs: (w1 - w0) / runs,
      workerCpuMs: (k1 - k0) / runs,
      commits: c0 === undefined || c1 === undefined ? null : (c1 - c0) / runs,
    });
    return out;
  };
  const row = (scenario: string, unit: string, samples: number[], target: string) => {
    rows.push({ scenario, unit, samples, target });
    console.error(`[bench:http] ${mode.name}: ${scenario} median ${fmt(median(samples))} ${unit}`);
  };
  try {
    await waitReady(base, mode.worker);
    const client = new Client(base);
    await client.signIn();
    const cold = await client.createHook(chainWorkflow(1, true));
    const chain5 = await client.createHook(chainWorkflow(3));
    const chains = new Map<number, Hook>();
    for (const n of CHAIN_LENGTHS) chains.set(n, await client.createHook(chainWorkflow(n)));
    const parallel = await client.createHook(parallelWorkflow(100));
    const codeItems = await client.createHook(codeItemsWorkflow(ITEMS));
    const mapped = await client.createHook(mapWorkflow(ITEMS));

    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const idle = [groupRssMb(web.pid!), ...(worker ? [groupRssMb(worker.pid!)] : [])];

    if (want('cold')) {
      const t0 = monotonicUs();
      row('first expression after start (cold)', 'ms', [await call(cold)], '≤ 20');
      if (NODE_ARGS.length) console.error(`[bench:http] window cold: ${t0}-${monotonicUs()}`);
    }
    if (want('chain'))
      row(
        '5-node chain, one call at a time',
        'ms',
        await metered('5-node chain, one at a time', SEQUENTIAL_CALLS + WARMUP, () =>
          sequential(chain5, SEQUENTIAL_CALLS, WARMUP),
        ),
        'p50 ≤ 8',
      );

    if (want('fixed')) {
      const perLength: [number, number][] = [];
      for (const [n, hook] of chains) perLength.push([n, median(await sequential(hook, CHAIN_CALLS, 3))]);
      const fit = fitLine(perLength);
      // The medians the line is fitted to: a bend (long chains costing more per step) shows here.
      console.error(
        `[bench:http] chain medians: ${perLength.map(([n, ms]) => `${n} → ${ms.toFixed(1)} ms`).join(', ')}`,
      );
      row('fixed cost per run (intercept, chains of 1–500)', 'ms', [fit.intercept], '≤ 6');
      row('per step, no-op transform with trace row (slope)', 'ms', [fit.slope], '≤ 0.05');
    }

    if (want('burst')) {
      const rates: number[] = [];
      await metered(`5-node chain, ${IN_FLIGHT} in flight`, BURST_CALLS * ROUNDS, async () => {
        for (let i = 0; i < ROUNDS; i++) rates.push(await burst(chain5, BURST_CALLS, IN_FLIGHT));
      });
      row(
        `5-node chain, ${IN_FLIGHT} in flight (${BURST_CALLS} calls × ${ROUNDS})`,
        'runs/s',
        rates,
        '≥ 300',
      );
    }

    if (want('parallel'))
      row(
        '100 parallel branches joined by merge',
        'ms',
        await metered('100 parallel branches', PARALLEL_CALLS + 3, () =>
          sequential(parallel, PARALLEL_CALLS, 3),
        ),
        '≤ 15',
      );

    const heavy = async (hook: Hook, label: string, target: string, rssTarget: string) => {
      const times: number[] = [];
      const peaks: number[] = [];
      for (let i = 0; i < HEAVY_CALLS; i++) {
        const samplers = [rssSampler(web.pid!), ...(worker ? [rssSampler(worker.pid!)] : [])];
        times.push(await call(hook));
        peaks.push(Math.max(...samplers.map((s) => s.stop())));
      }
      row(label, 'ms', times, target);
      if (rssTarget) row(`${label}: peak RSS (largest process)`, 'MB', peaks, rssTarget);
    };
    if (want('code'))
      await heavy(codeItems, `code makes ${ITEMS} items, 3 code steps map them`, '≤ 250', '≤ 250');
    if (want('map')) await heavy(mapped, `map over ${ITEMS} items, 3 transforms per item`, '≤ 3000', '');

    if (worker) {
      row('idle RSS after start: web', 'MB', [idle[0]], '≤ 150');
      row('idle RSS after start: worker', 'MB', [idle[1]], '≤ 150');
    } else row('idle RSS after start: web', 'MB', [idle[0]], '≤ 250');
    return { rows, costs };
  } finally {
    // With BENCH_NODE_ARGS (a CPU profile is written at exit) the processes get to exit cleanly.
    if (NODE_ARGS.length) await Promise.all([web, worker].map((c) => c && stopGently(c)));
    stopGroup(web);
    stopGroup(worker);
    await mode.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (buildIsStale()) {
    console.error('[bench:http] building (sources newer than .next)…');
    const b = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    if (b.status !== 0) process.exit(b.status ?? 1);
  }
  await ensureCli();
  const only = process.argv[2]; // "embedded" or "server": one mode only
  const { DATABASE_URL, ...rest } = process.env;
  // With the node flags `npm start` and `npm run worker` give them (SERVER_NODE_FLAGS).
  const baseEnv: NodeJS.ProcessEnv = serverEnv({
    ...rest,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    TRELLIS_DATA_DIR: '',
  });
  const modes: (() => Promise<Mode>)[] = [];
  if (only !== 'server')
    modes.push(async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-http-'));
      return {
        name: 'embedded (PGlite)',
        env: { ...baseEnv, TRELLIS_DATA_DIR: dir },
        worker: false,
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    });
  if (DATABASE_URL && only !== 'embedded')
    modes.push(async () => {
      const db = await createFreshDatabase(DATABASE_URL, 'trellis_bench');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-http-'));
      return {
        name: `server mode (Postgres, web + 1 worker × ${WORKER_CONCURRENCY})`,
        env: { ...baseEnv, DATABASE_URL: db.url, TRELLIS_DATA_DIR: dir },
        worker: true,
        commits: async () => {
          const { default: pg } = await import('pg');
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          try {
            const r = await c.query<{ n: string }>(
              `SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`,
            );
            return Number(r.rows[0].n);
          } finally {
            await c.end();
          }
        },
        cleanup: async () => {
          await db.drop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    });
  if (!DATABASE_URL && only !== 'embedded')
    console.error('[bench:http] DATABASE_URL is not set: embedded mode only.');
  for (const make of modes) {
    const mode = await make();
    const { rows, costs } = await runMode(mode);
    printTable(mode.name, rows);
    printCosts(costs);
  }
}

await main();
