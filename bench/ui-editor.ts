// `npm run bench:ui`: the canvas editor with a 1,000-node workflow, in headless Chromium (issue 21).
//   open : navigation start → the editor is interactive (first node card painted, spinner gone)
//   drag : one node in the middle of the visible graph, dragged until it has been drawn at a new
//          place in DRAG_FRAMES animation frames. Every frame (requestAnimationFrame) reads the
//          node's transform; only frames where it changed count. fps = moved frames per second,
//          frame = time between two moved frames (what the eye sees while dragging).
// Both on the view the editor opens on and with the whole graph in view (Fit View: every card
// on screen). Each view: BENCH_UI_ROUNDS timed drags (default 3, the median is reported), then one
// traced drag whose renderer main-thread CPU time per moved frame is reported by phase (thread
// time, so load from other processes on this shared machine stretches it far less than fps).
// Starts the app itself (`next start`, built when stale, on a fresh embedded data folder; server
// mode when DATABASE_URL is set) on BENCH_UI_PORT, unless BENCH_BASE_URL names a running one.
// Profiling the traced drag of the opening view: BENCH_UI_TRACE=file.json keeps its trace (open
// it in the Performance panel), BENCH_UI_PROFILE=file.cpuprofile writes a CPU profile,
// BENCH_UI_COUNT=1 counts calls of the functions named in BENCH_UI_COUNT_FNS (V8 precise
// coverage; names survive in a dev server, `next dev`, not in a production build).
// Not a *.bench.ts file on purpose: bench/run.ts runs without a server, this one needs the app.
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium, type CDPSession, type Page } from '@playwright/test';
import { largeDefinition } from '@/lib/workflow/fixtures/large-definition';
import { signIn } from '@/e2e/fixtures/sign-in';
import {
  countReactRenders,
  readRenders,
  resetRenders,
  type RenderCounts,
} from '@/e2e/fixtures/react-renders';
import type { BenchRow, BenchScenario } from './types';
import { chromiumLaunchOptions } from '../scripts/find-chromium.mjs';
import { buildIfStale, startStack } from '../scripts/stack.mjs';

const PORT = Number(process.env.BENCH_UI_PORT ?? 3380);
const NODES = 1000;
const OPEN_TARGET_MS = 2000;
const DRAG_TARGET_FPS = 50;
const DRAG_TARGET_P95_MS = 25;
/** Frames in which the dragged node must have been drawn at a new place. */
export const DRAG_FRAMES = 60;
/** Gives up after this many pointer moves (a drag that stopped moving the node). */
const MAX_MOVES = DRAG_FRAMES * 10;
/**
 * Pointer step in screen pixels: the canvas snaps to a 16 px grid and opens at zoom ≤ 1, so a
 * 20 px step always lands the node on a new grid cell (smaller steps would not move it every time).
 */
const STEP_PX = 20;
/** The pointer walks a square of SIDE steps per side, so the node stays in the middle of the view. */
const SIDE = 8;
const ROUNDS = Number(process.env.BENCH_UI_ROUNDS ?? 3);
/** After each drag: its settled change (history, validation) happens outside the next one. */
const SETTLE_MS = 800;
/**
 * React's work is counted from this pointer move on: the drag has started by then (the card is
 * selected, the inspector open), so the counts are those of a drag frame, not of its start.
 */
const COUNT_FROM_MOVE = 3;

async function createWorkflow(page: Page, base: string): Promise<string> {
  const definition = { ...largeDefinition(NODES), name: `UI bench ${NODES} nodes` };
  const res = await page.request.post(`${base}/api/workflows`, {
    data: { name: definition.name, definition },
    headers: { origin: new URL(base).origin },
  });
  if (!res.ok()) throw new Error(`creating the bench workflow failed: ${res.status()} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function deleteWorkflow(page: Page, base: string, id: string) {
  await page.request
    .delete(`${base}/api/workflows/${id}`, { headers: { origin: new URL(base).origin } })
    .catch(() => {});
}

/** The step card whose centre is nearest the centre of the canvas. */
async function middleNode(page: Page): Promise<string> {
  // A string, not a function: tsx's keepNames would inject a __name helper the page lacks.
  return (await page.evaluate(`(() => {
    const pane = document.querySelector('.react-flow').getBoundingClientRect();
    const cx = pane.left + pane.width / 2, cy = pane.top + pane.height / 2;
    let best = null, bestD = Infinity;
    for (const el of document.querySelectorAll('.react-flow__node-step')) {
      const r = el.getBoundingClientRect();
      const d = Math.hypot(r.left + r.width / 2 - cx, r.top + r.height / 2 - cy);
      if (d < bestD) { bestD = d; best = el.dataset.id; }
    }
    return best;
  })()`)) as string;
}

/** Where to grab the card now: its title row (snapping may have left it a little aside). */
async function grabPoint(page: Page, id: string): Promise<[number, number]> {
  const box = await page.locator(`.react-flow__node[data-id="${id}"]`).boundingBox();
  if (!box) throw new Error(`node ${id} is not on screen`);
  return [box.x + box.width / 2, box.y + Math.min(14, box.height / 4)];
}

/** The pointer position after `i` steps around a square that starts and ends at (x0, y0). */
function pathAt(i: number, x0: number, y0: number): [number, number] {
  const k = i % (4 * SIDE);
  const side = Math.floor(k / SIDE);
  const s = (k % SIDE) * STEP_PX;
  const L = SIDE * STEP_PX;
  if (side === 0) return [x0 + s, y0];
  if (side === 1) return [x0 + L, y0 + s];
  if (side === 2) return [x0 + L - s, y0 + L];
  return [x0, y0 + L - s];
}

interface Drag {
  fps: number;
  p95: number;
  p50: number;
  moves: number;
  frames: number;
  /** Frames that drew the node at a new place, all of them (the fps counts the first DRAG_FRAMES). */
  movedAll: number;
  /** React's commits and renders from move COUNT_FROM_MOVE to the last move before the drop. */
  react: RenderCounts;
  /** Pointer moves React's work was counted over. */
  countedMoves: number;
}

/** Drags node `id` until it was drawn at a new place in DRAG_FRAMES frames; reads every frame. */
async function drag(page: Page, id: string): Promise<Drag> {
  const [x0, y0] = await grabPoint(page, id);
  await page.evaluate(`(() => {
    const sel = '.react-flow__node[data-id="${id}"]';
    window.__drag = { frames: [], stop: false };
    const tick = (t) => {
      const el = document.querySelector(sel);
      window.__drag.frames.push([t, el ? el.style.transform : '']);
      if (!window.__drag.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  let moves = 0;
  // Moves are sent back to back, as fast as the page takes them (Chromium aligns pointer moves to
  // frames as it does for a real mouse); every 8 moves the page is asked how far the node got.
  while (moves < MAX_MOVES) {
    const [x, y] = pathAt(moves + 1, x0, y0);
    await page.mouse.move(x, y);
    moves++;
    if (moves === COUNT_FROM_MOVE - 1) await resetRenders(page);
    if (moves % 8 === 0) {
      const moved = (await page.evaluate(`(() => {
        const f = window.__drag.frames; let n = 0;
        for (let i = 1; i < f.length; i++) if (f[i][1] !== f[i - 1][1]) n++;
        return n;
      })()`)) as number;
      if (moved >= DRAG_FRAMES) break;
    }
  }
  // Back to where it started (the square closed): the next round drags it in the same place.
  while (moves % (4 * SIDE) !== 0) {
    const [x, y] = pathAt(++moves, x0, y0);
    await page.mouse.move(x, y);
  }
  // Let the last moves' frames happen before reading: a commit can follow its move by a frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const react = await readRenders(page);
  const countedMoves = moves - (COUNT_FROM_MOVE - 1);
  await page.mouse.up();
  const frames = (await page.evaluate(
    '(() => { window.__drag.stop = true; return window.__drag.frames; })()',
  )) as [number, string][];
  // Frames that drew the node somewhere new, up to the DRAG_FRAMES-th.
  const all: number[] = [];
  for (let i = 1; i < frames.length; i++) if (frames[i][1] !== frames[i - 1][1]) all.push(frames[i][0]);
  const times = all.slice(0, DRAG_FRAMES + 1);
  const gaps = times
    .slice(1)
    .map((t, i) => t - times[i])
    .sort((a, b) => a - b);
  const span = (times[times.length - 1] - times[0]) / 1000;
  return {
    fps: span > 0 ? (times.length - 1) / span : 0,
    p95: gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * 0.95))] ?? 0,
    p50: gaps[Math.floor(gaps.length / 2)] ?? 0,
    moves,
    frames: frames.length,
    movedAll: all.length,
    react,
    countedMoves,
  };
}

const COUNT_FNS = (
  process.env.BENCH_UI_COUNT_FNS ??
  'StepNodeView,NoteNodeView,EditorLoaded,EditorCanvas,EditorToolbar,toDefinition,ConfigPanel,ProblemsPanel,Palette'
).split(',');

/** Calls per function name during `fn` (V8 precise coverage with call counts). */
async function countCalls(cdp: CDPSession, fn: () => Promise<void>): Promise<Map<string, number>> {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  await cdp.send('Profiler.takePreciseCoverage'); // resets the counters
  await fn();
  const { result } = (await cdp.send('Profiler.takePreciseCoverage')) as {
    result: { functions: { functionName: string; ranges: { count: number }[] }[] }[];
  };
  await cdp.send('Profiler.stopPreciseCoverage');
  const counts = new Map<string, number>();
  for (const script of result)
    for (const f of script.functions)
      if (COUNT_FNS.includes(f.functionName))
        counts.set(f.functionName, (counts.get(f.functionName) ?? 0) + f.ranges[0].count);
  return counts;
}

/** ROUNDS timed drags of the middle node of the view, then one traced drag (CPU per moved frame). */
async function measureView(
  page: Page,
  cdp: CDPSession,
  scenario: string,
  first: boolean,
): Promise<BenchRow[]> {
  const target = await middleNode(page);
  const visible = await page.locator('.react-flow__node').count();
  const drags: Drag[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    drags.push(await drag(page, target));
    await page.waitForTimeout(SETTLE_MS);
  }
  // The instrumented drag: a Performance-panel trace (always), a CPU profile, call counts.
  const rows: BenchRow[] = [];
  const traceFile = (first && process.env.BENCH_UI_TRACE) || '/tmp/trellis-bench-ui-trace.json';
  const profile = first && process.env.BENCH_UI_PROFILE;
  await page.context().browser()!.startTracing(page, { path: traceFile, categories: TRACE_CATEGORIES });
  if (profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  let traced: Drag | null = null;
  const once = async () => void (traced = await drag(page, target));
  if (first && process.env.BENCH_UI_COUNT) {
    for (const [fn, n] of await countCalls(cdp, once))
      rows.push({ scenario, metric: `calls of ${fn} in the traced drag`, value: n, unit: 'calls' });
  } else await once();
  if (profile) {
    const { profile: p } = await cdp.send('Profiler.stop');
    writeFileSync(profile, JSON.stringify(p));
    console.error(`[bench:ui] CPU profile of the traced drag: ${profile}`);
  }
  await page.context().browser()!.stopTracing();
  const cpu = mainThreadCpu(readFileSync(traceFile, 'utf8'));
  await page.waitForTimeout(SETTLE_MS);

  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const perFrame = (ms: number) => r1(ms / traced!.movedAll);
  const last = drags[drags.length - 1];
  const perMove = (n: number) => Math.round((n / last.countedMoves) * 100) / 100;
  const otherCards = Object.entries(last.react.byCard)
    .filter(([id]) => id !== target)
    .reduce((sum, [, n]) => sum + n, 0);
  return [
    { scenario, metric: 'cards on screen', value: visible, unit: 'nodes' },
    {
      scenario,
      metric: `drag: fps over ${DRAG_FRAMES} moved frames (median of ${ROUNDS})`,
      value: r1(med(drags.map((d) => d.fps))),
      unit: 'fps',
      target: `>= ${DRAG_TARGET_FPS}`,
    },
    {
      scenario,
      metric: `drag: frame p95 (median of ${ROUNDS})`,
      value: r1(med(drags.map((d) => d.p95))),
      unit: 'ms',
      target: `<= ${DRAG_TARGET_P95_MS}`,
    },
    {
      scenario,
      metric: `drag: each round fps (p95 ms)`,
      value: r1(drags[0].fps),
      unit: drags.map((d) => `${r1(d.fps)} (${r1(d.p95)})`).join(', '),
    },
    {
      scenario,
      metric: 'drag: pointer moves per moved frame',
      value: r1(med(drags.map((d) => d.moves / d.movedAll))),
      unit: 'moves',
    },
    {
      scenario,
      metric: 'React commits per pointer move (last timed drag)',
      value: perMove(last.react.commits),
      unit: `commits (${last.react.commits} over ${last.countedMoves} moves)`,
    },
    {
      scenario,
      metric: 'React component renders per pointer move',
      value: perMove(last.react.renders),
      unit: 'renders',
    },
    {
      scenario,
      metric: 'renders of the dragged card / of other cards, per move',
      value: perMove(last.react.byCard[target] ?? 0),
      unit: `/ ${perMove(otherCards)}`,
    },
    {
      scenario,
      metric: 'renderer main thread CPU per moved frame (traced drag)',
      value: perFrame(cpu.total),
      unit: 'ms',
    },
    ...Object.entries(cpu.phases).map(([phase, ms]) => ({
      scenario,
      metric: `  of which ${phase}`,
      value: perFrame(ms),
      unit: 'ms',
    })),
    ...rows,
  ];
}

/**
 * CPU time (thread time, not wall time: the machine is shared) of the renderer's main thread in
 * a trace, in total and per rendering phase. Load on other processes stretches wall time, not this.
 */
function mainThreadCpu(json: string): { total: number; phases: Record<string, number> } {
  const events = (JSON.parse(json) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const phases: Record<string, number> = {};
  let total = 0;
  for (const e of events) {
    if (e.pid !== main?.pid || e.tid !== main?.tid || e.ph !== 'X' || !e.tdur) continue;
    if (e.name === 'RunTask') total += e.tdur / 1000;
    const phase = PHASES[e.name];
    if (phase) phases[phase] = (phases[phase] ?? 0) + e.tdur / 1000;
  }
  return { total, phases };
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  tdur?: number;
  args?: { name?: string };
}

const TRACE_CATEGORIES = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'];
/** Trace events → the phase they stand for (the Performance panel's names). */
const PHASES: Record<string, string> = {
  FunctionCall: 'script',
  EventDispatch: 'script (event handlers)',
  UpdateLayoutTree: 'style',
  Layout: 'layout',
  HitTest: 'hit testing',
  Paint: 'paint',
  Layerize: 'layerize',
};

export async function runUiBench(base: string): Promise<BenchRow[]> {
  const browser = await chromium.launch(chromiumLaunchOptions());
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await countReactRenders(page);
  let id: string | null = null;
  const scenario = `editor ${NODES} nodes`;
  try {
    // Pages need a session cookie (E2E_EMAIL / E2E_PASSWORD, created on a fresh database).
    await signIn(page, base);
    id = await createWorkflow(page, base);
    // Warm-up: the first visit may compile routes (dev) or fill caches; time the second.
    await page.goto(`${base}/workflows/${id}`);
    await page.getByRole('group', { name: 'start', exact: true }).waitFor({ timeout: 120_000 });

    const t0 = Date.now();
    await page.goto(`${base}/workflows/${id}`);
    await page.locator('.react-flow__node-step').first().waitFor({ timeout: 60_000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const openMs = Date.now() - t0;
    // Let validation and the other after-open requests settle: the drag is what is measured.
    await page.waitForTimeout(1500);

    const cdp = await page.context().newCDPSession(page);
    const rows: BenchRow[] = [
      { scenario, metric: 'open (to interactive)', value: openMs, unit: 'ms', target: `< ${OPEN_TARGET_MS}` },
    ];
    rows.push(...(await measureView(page, cdp, `${scenario}, opening view`, true)));
    // The same with the whole graph in view (the canvas's Fit View control): every card on
    // screen, each drawn small. The same view on any tree, whatever it opens on.
    await page.getByRole('button', { name: 'Fit View' }).click();
    await page.waitForTimeout(SETTLE_MS);
    rows.push(...(await measureView(page, cdp, `${scenario}, whole graph in view`, false)));
    return rows;
  } finally {
    if (id) await deleteWorkflow(page, base, id);
    await browser.close();
  }
}

async function main(): Promise<BenchRow[]> {
  const given = process.env.BENCH_BASE_URL ?? process.env.E2E_BASE_URL;
  if (given) return runUiBench(given);
  if (!buildIfStale()) throw new Error('next build failed');
  const stack = await startStack({ port: PORT, mockLlmPort: PORT + 1, serverStdio: 'ignore' });
  try {
    return await runUiBench(stack.base);
  } finally {
    await stack.stop();
  }
}

export const scenarios: BenchScenario[] = [{ name: 'ui-editor', run: main }];

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (rows) => console.table(rows),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
