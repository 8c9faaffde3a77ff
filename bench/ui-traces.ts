// `npx tsx bench/ui-traces.ts`: the run page with a 10,000-step run (a map over 9,997 items), in
// headless Chromium. The run is served from a fixture through page.route, so only the app is
// needed (BENCH_BASE_URL, default http://127.0.0.1:3000), not a database holding such a run.
//   layout : layoutWaterfall + nodeOutcomes over the 10,000 steps, in Node
//   paint  : API response → timeline rows painted (two animation frames later)
//   scroll : per-frame time while scrolling the virtualized timeline 600 px per frame
// Target (issue 7): first paint < 1 s. Not a *.bench.ts file: bench/run.ts runs without a server.
import { chromium } from '@playwright/test';
import { nodeOutcomes } from '@/components/traces/node-outcomes';
import type { StepSummary } from '@/components/traces/types';
import { layoutWaterfall } from '@/components/traces/waterfall-layout';
import { signIn } from '@/e2e/fixtures/sign-in';
import type { BenchRow, BenchScenario } from './types';
import { chromiumLaunchOptions } from '../scripts/find-chromium.mjs';

const BASE = process.env.BENCH_BASE_URL ?? process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3000';
const STEPS = 10_000;
const PAINT_TARGET_MS = 1000;
const ROUNDS = 3;
const SCROLL_FRAMES = 60;
const SCENARIO = `run page ${STEPS} steps`;

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

export function bigRun(n = STEPS) {
  const base = {
    parentNodeId: null,
    itemIndex: null,
    attempt: 1,
    mode: 'workflow',
    status: 'succeeded',
    handle: 'out',
    tokens: 0,
    cost: 0,
  };
  const steps: StepSummary[] = [
    {
      ...base,
      id: 's0',
      nodeId: 'start',
      nodeType: 'trigger.manual',
      startedAt: at(0),
      finishedAt: at(1),
      durationMs: 1,
    },
    {
      ...base,
      id: 's1',
      nodeId: 'each',
      nodeType: 'map',
      startedAt: at(2),
      finishedAt: at(2 + n),
      durationMs: n,
    },
  ];
  for (let i = 0; i < n - 3; i++) {
    const d = 5 + (i % 13);
    steps.push({
      ...base,
      id: `i${i}`,
      nodeId: 'body',
      nodeType: 'code',
      parentNodeId: 'each',
      itemIndex: i,
      status: i % 97 === 0 ? 'failed' : 'succeeded',
      startedAt: at(2 + i),
      finishedAt: at(2 + i + d),
      durationMs: d,
    });
  }
  steps.push({
    ...base,
    id: 's2',
    nodeId: 'done',
    nodeType: 'output',
    startedAt: at(n + 3),
    finishedAt: at(n + 4),
    durationMs: 1,
  });
  const run = {
    id: 'bench-big',
    workflowId: 'wf-bench-big',
    version: 1,
    status: 'succeeded',
    trigger: 'manual',
    createdAt: at(0),
    startedAt: at(0),
    finishedAt: at(n + 5),
    durationMs: n + 5,
    stepCount: steps.length,
    tokens: 0,
    cost: 0,
    workflow: { name: 'Big map' },
    input: {},
    output: null,
    error: null,
  };
  const definition = {
    schemaVersion: 1,
    name: 'Big map',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'each',
        type: 'map',
        position: { x: 0, y: 120 },
        config: { items: 'input.items', body: { nodes: [], edges: [] } },
      },
      { id: 'done', type: 'output', position: { x: 0, y: 240 }, config: { value: 1 } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'each' },
      { id: 'e2', source: 'each', target: 'done' },
    ],
  };
  return { run, steps, definition };
}

async function layoutRows(): Promise<BenchRow[]> {
  const { steps } = bigRun();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    layoutWaterfall(steps, at(0), T0);
    nodeOutcomes(steps);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return [
    {
      scenario: SCENARIO,
      metric: 'layout (node, median)',
      value: Math.round(times[2] * 10) / 10,
      unit: 'ms',
    },
  ];
}

async function browserRows(): Promise<BenchRow[]> {
  const { run, steps, definition } = bigRun();
  const runBody = JSON.stringify({ run, steps });
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await signIn(page, BASE);
    // Served like the API does: the first page of steps with the run, the rest by cursor.
    const page1 = (limit: number) =>
      JSON.stringify({ run, steps: steps.slice(0, limit), stepsCursor: String(limit) });
    await page.route(/\/api\/(runs\/bench-big|workflows\/wf-bench-big)/, (r) => {
      const url = new URL(r.request().url());
      const p = url.pathname;
      if (p.endsWith('/runs/bench-big')) {
        const limit = Number(url.searchParams.get('stepLimit'));
        return r.fulfill({ contentType: 'application/json', body: limit ? page1(limit) : runBody });
      }
      if (p.endsWith('/runs/bench-big/steps')) {
        const from = Number(url.searchParams.get('cursor'));
        const to = from + Number(url.searchParams.get('limit'));
        return r.fulfill({
          contentType: 'application/json',
          body: JSON.stringify({
            steps: steps.slice(from, to),
            nextCursor: to < steps.length ? String(to) : null,
          }),
        });
      }
      if (p.includes('/versions/'))
        return r.fulfill({
          contentType: 'application/json',
          body: JSON.stringify({ version: 1, definition, createdAt: at(0) }),
        });
      return r.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({ step: { ...steps[1], input: {}, output: [] }, agentTurns: [] }),
      });
    });
    const timeline = page.getByRole('list', { name: 'Step timeline' });
    // Warm-up: the first visit may compile the route (dev); time the later ones.
    await page.goto(`${BASE}/runs/bench-big`);
    await timeline.getByRole('button').first().waitFor({ timeout: 120_000 });
    const paints: number[] = [];
    const frames: number[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      const response = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/api/runs/bench-big'));
      await page.goto(`${BASE}/runs/bench-big`);
      await response;
      const t = Date.now();
      await timeline.getByRole('button').first().waitFor();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      paints.push(Date.now() - t);
      // A string, not a function: tsx's keepNames would inject a __name helper the page lacks.
      const gaps = (await page.evaluate(`(async () => {
        const list = document.querySelector('[role=list][aria-label="Step timeline"]').parentElement;
        const out = [];
        let last = performance.now();
        for (let i = 0; i < ${SCROLL_FRAMES}; i++) {
          list.scrollTop += 600;
          await new Promise((r) => requestAnimationFrame(r));
          const now = performance.now();
          out.push(now - last);
          last = now;
        }
        return out;
      })()`)) as number[];
      frames.push(...gaps);
    }
    paints.sort((a, b) => a - b);
    frames.sort((a, b) => a - b);
    const rendered = await page.locator('[role=list][aria-label="Step timeline"] [role=listitem]').count();
    return [
      {
        scenario: SCENARIO,
        metric: 'first paint after response (median)',
        value: paints[Math.floor(ROUNDS / 2)],
        unit: 'ms',
        target: `< ${PAINT_TARGET_MS}`,
      },
      {
        scenario: SCENARIO,
        metric: 'scroll frame p50',
        value: Math.round(frames[Math.floor(frames.length / 2)]),
        unit: 'ms',
      },
      {
        scenario: SCENARIO,
        metric: 'scroll frame p95',
        value: Math.round(frames[Math.floor(frames.length * 0.95)]),
        unit: 'ms',
      },
      { scenario: SCENARIO, metric: 'timeline rows in the DOM', value: rendered, unit: 'rows' },
    ];
  } finally {
    await browser.close();
  }
}

export async function runTracesBench(): Promise<BenchRow[]> {
  return [...(await layoutRows()), ...(await browserRows())];
}

export const scenarios: BenchScenario[] = [{ name: 'ui-traces', run: runTracesBench }];

if (import.meta.url === `file://${process.argv[1]}`) {
  runTracesBench().then(
    (rows) => console.table(rows),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
