import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunSteps, type ApiGet, type StepEvent } from './run-steps';
import { toNodeStatus } from './use-run';

// Issue 14: the editor's live-run view read only the first page of a run's steps, so on a long run
// the nodes after a big map kept the status the end of the run gives nodes never reached. Here
// the real API (route handlers over an embedded database) answers a finished run whose map body
// alone fills more than a page, and the editor's reader must reach the node after it.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-run-steps-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
const TOKEN = 'run-steps-test-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;
process.env.HOST = '127.0.0.1';
const BASE = 'http://127.0.0.1:4153';
const API_DIR = path.resolve(import.meta.dirname, '../../app/api');
/** Past the API's default page (1,000), which is all the old reader asked for. */
const ITEMS = 1_200;
/** Smaller pages than the app's, so a small run takes several. */
const PAGE = 500;

type Handler = (r: Request, c: { params: Promise<unknown> }) => Promise<Response>;
const route = async (rel: string) =>
  (await import(/* @vite-ignore */ path.join(API_DIR, rel, 'route.ts'))) as Record<string, Handler>;

async function call<T>(h: Handler, url: string, params: object, body?: unknown): Promise<T> {
  const res = await h(
    new Request(`${BASE}${url}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { params: Promise.resolve(params) },
  );
  expect(res.status, url).toBeLessThan(300);
  return (await res.json()) as T;
}

/** The app's `api` over the route handlers: the two paths the reader asks for. */
const get: ApiGet = async <T>(url: string) => {
  const u = new URL(url, BASE);
  const [, , , id, rest] = u.pathname.split('/');
  if (rest === 'steps') return call<T>((await route('runs/[id]/steps')).GET, url, { id });
  return call<T>((await route('runs/[id]')).GET, url, { id });
};

let runId: string;

beforeAll(async () => {
  const definition = {
    schemaVersion: 1,
    name: 'long map',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'each',
        type: 'map',
        position: { x: 0, y: 100 },
        config: {
          items: `Array.from({ length: ${ITEMS} }, (_, i) => i)`,
          concurrency: 16,
          body: {
            nodes: [{ id: 'x', type: 'transform', position: { x: 0, y: 0 }, config: { value: 1 } }],
            edges: [],
          },
        },
      },
      { id: 'after', type: 'transform', position: { x: 0, y: 200 }, config: { value: 'done' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'each' },
      { id: 'e2', source: 'each', target: 'after' },
    ],
  };
  const wf = await call<{ id: string }>(
    (await route('workflows')).POST,
    '/api/workflows',
    {},
    { definition },
  );
  const done = await call<{ run: { id: string; status: string } }>(
    (await route('workflows/[id]/runs')).POST,
    `/api/workflows/${wf.id}/runs`,
    { id: wf.id },
    { wait: true },
  );
  expect(done.run.status).toBe('succeeded');
  runId = done.run.id;
}, 120_000);

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the editor reads every step of a finished run', () => {
  it(`reaches the node after a map of ${ITEMS} items, past the first page`, async () => {
    const first = await get<{ steps: StepEvent[] }>(`/api/runs/${runId}`);
    expect(first.steps.some((s) => s.nodeId === 'after')).toBe(false); // what the old reader saw

    const status = new Map<string, string>();
    let pages = 0;
    let steps = 0;
    const run = await readRunSteps(
      get,
      runId,
      (page) => {
        pages++;
        for (const s of page) {
          steps++;
          if (!s.parentNodeId) status.set(s.nodeId, toNodeStatus(s.status, s.mode));
        }
      },
      () => true,
      PAGE,
    );
    expect(run?.status).toBe('succeeded');
    expect(pages).toBe(Math.ceil((ITEMS + 3) / PAGE));
    expect(steps).toBe(ITEMS + 3);
    expect(Object.fromEntries(status)).toEqual({ start: 'succeeded', each: 'succeeded', after: 'succeeded' });
  }, 60_000);

  it('stops paging once the view no longer wants the run', async () => {
    let pages = 0;
    await readRunSteps(
      get,
      runId,
      () => pages++,
      () => false,
    );
    expect(pages).toBe(1);
  });
});
