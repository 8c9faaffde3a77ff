// `npm run bench:ui`: the canvas editor with a 1,000-node workflow, in headless Chromium.
//   open  : navigation start → the editor is interactive (first node card painted, spinner gone)
//   drag  : frames per second while dragging one node across the canvas (requestAnimationFrame)
// Targets (issue 6): open < 2 s, drag ≥ 50 fps. Needs a running server (BENCH_BASE_URL, default
// http://127.0.0.1:3000) and an account (E2E_EMAIL / E2E_PASSWORD; created on a fresh database).
// Not a *.bench.ts file on purpose: bench/run.ts runs without a server, this one needs the app.
import { chromium, type Page } from '@playwright/test';
import { largeDefinition } from '@/lib/workflow/fixtures/large-definition';
import { signIn } from '@/e2e/fixtures/sign-in';
import type { BenchRow, BenchScenario } from './types';
import { chromiumLaunchOptions } from '../scripts/find-chromium.mjs';

const BASE = process.env.BENCH_BASE_URL ?? process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3000';
const NODES = 1000;
const OPEN_TARGET_MS = 2000;
const DRAG_TARGET_FPS = 50;
const DRAG_STEPS = 120;

async function createWorkflow(page: Page): Promise<string> {
  const definition = { ...largeDefinition(NODES), name: `UI bench ${NODES} nodes` };
  const res = await page.request.post(`${BASE}/api/workflows`, {
    data: { name: definition.name, definition },
    headers: { origin: new URL(BASE).origin },
  });
  if (!res.ok()) throw new Error(`creating the bench workflow failed: ${res.status()} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function deleteWorkflow(page: Page, id: string) {
  await page.request
    .delete(`${BASE}/api/workflows/${id}`, { headers: { origin: new URL(BASE).origin } })
    .catch(() => {});
}

export async function runUiBench(): Promise<BenchRow[]> {
  const browser = await chromium.launch(chromiumLaunchOptions());
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  let id: string | null = null;
  try {
    // Pages need a session cookie (E2E_EMAIL / E2E_PASSWORD, created on a fresh database).
    await signIn(page, BASE);
    id = await createWorkflow(page);
    // Warm-up: the first visit may compile routes (dev) or fill caches; time the second.
    await page.goto(`${BASE}/workflows/${id}`);
    await page.getByRole('group', { name: 'start', exact: true }).waitFor({ timeout: 120_000 });

    const t0 = Date.now();
    await page.goto(`${BASE}/workflows/${id}`);
    await page.locator('.react-flow__node-step').first().waitFor({ timeout: 60_000 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const openMs = Date.now() - t0;

    // Drag the first visible node across the canvas while counting animation frames.
    const node = page.locator('.react-flow__node-step').first();
    const box = (await node.boundingBox())!;
    // A string, not a function: tsx's keepNames would inject a __name helper the page lacks.
    await page.evaluate(`(() => {
      window.__frames = [];
      window.__stop = false;
      const tick = (t) => { window.__frames.push(t); if (!window.__stop) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    const x0 = box.x + box.width / 2;
    const y0 = box.y + 12;
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    for (let i = 1; i <= DRAG_STEPS; i++) {
      await page.mouse.move(x0 + i * 5, y0 + i * 3);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    }
    await page.mouse.up();
    const frames = (await page.evaluate(
      '(() => { window.__stop = true; return window.__frames; })()',
    )) as number[];
    const span = (frames[frames.length - 1] - frames[0]) / 1000;
    const fps = span > 0 ? (frames.length - 1) / span : 0;
    const gaps = frames
      .slice(1)
      .map((t, i) => t - frames[i])
      .sort((a, b) => a - b);
    const p95 = gaps[Math.floor(gaps.length * 0.95)] ?? 0;

    return [
      {
        scenario: `editor ${NODES} nodes`,
        metric: 'open (to interactive)',
        value: openMs,
        unit: 'ms',
        target: `< ${OPEN_TARGET_MS}`,
      },
      {
        scenario: `editor ${NODES} nodes`,
        metric: 'drag',
        value: Math.round(fps * 10) / 10,
        unit: 'fps',
        target: `>= ${DRAG_TARGET_FPS}`,
      },
      {
        scenario: `editor ${NODES} nodes`,
        metric: 'drag frame p95',
        value: Math.round(p95 * 10) / 10,
        unit: 'ms',
      },
    ];
  } finally {
    if (id) await deleteWorkflow(page, id);
    await browser.close();
  }
}

export const scenarios: BenchScenario[] = [{ name: 'ui-editor', run: runUiBench }];

if (import.meta.url === `file://${process.argv[1]}`) {
  runUiBench().then(
    (rows) => console.table(rows),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
