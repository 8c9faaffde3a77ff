import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STEP_PAGE_SIZE } from '@/lib/db/repositories/runs';
import { STREAM_REAUTH_MS } from './runs';
import { API_DIR, type RouteHandler } from './testing/route-files';
import { closeProcessRuntime } from './testing/route-harness';

// Issue 14.8 (reads stay bounded: the run answer, the SSE snapshot and a reconnect are pages, not
// the whole run) and 14.10 (revoking a token or logging out ends the streams it opened).

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-streams-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
const TOKEN = 'streams-test-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;
process.env.HOST = '127.0.0.1';
const BASE = 'http://127.0.0.1:4152';
const OLD_STEPS = DEFAULT_STEP_PAGE_SIZE + 500;

const load = async (rel: string) =>
  (await import(/* @vite-ignore */ path.join(API_DIR, rel, 'route.ts'))) as Record<string, RouteHandler>;
const call = (
  h: RouteHandler,
  url: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
  params = {},
) =>
  h(
    new Request(`${BASE}${url}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
    }),
    {
      params: Promise.resolve(params),
    },
  );

interface Frame {
  id?: string;
  event?: string;
  data?: unknown;
}
function parseFrames(text: string): Frame[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim() && !b.startsWith(':'))
    .map((b) => {
      const f: Frame = {};
      for (const line of b.split('\n')) {
        const i = line.indexOf(': ');
        const [k, v] = [line.slice(0, i), line.slice(i + 2)];
        if (k === 'id') f.id = v;
        if (k === 'event') f.event = v;
        if (k === 'data') f.data = JSON.parse(v);
      }
      return f;
    });
}

/** Reads a stream until it ends or `ms` pass; says which. */
async function readUntilEnd(res: Response, ms: number): Promise<{ ended: boolean; frames: Frame[] }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) {
      await reader.cancel();
      return { ended: false, frames: parseFrames(text) };
    }
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      reader.read(),
      new Promise<'timeout'>((res2) => (timer = setTimeout(() => res2('timeout'), left))),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') continue;
    if (r.done) return { ended: true, frames: parseFrames(text) };
    text += dec.decode(r.value, { stream: true });
  }
}

let finishedRun = '';
let runningRun = '';
let wfId = '';

beforeAll(async () => {
  const workflows = await load('workflows');
  const def = {
    schemaVersion: 1,
    name: 's',
    nodes: [{ id: 't', type: 'trigger.manual', config: {} }],
    edges: [],
  };
  wfId = (
    await (
      await call(workflows.POST, '/api/workflows', {
        method: 'POST',
        body: JSON.stringify({ definition: def }),
      })
    ).json()
  ).id;
  const { getDb } = await import('@/lib/db/client');
  const { prisma } = await getDb();
  const hourAgo = Date.now() - 3600_000;
  const run = await prisma.run.create({ data: { workflowId: wfId, status: 'succeeded', trigger: 'manual' } });
  finishedRun = run.id;
  await prisma.step.createMany({
    data: Array.from({ length: OLD_STEPS }, (_, i) => ({
      runId: run.id,
      nodeId: `n${i}`,
      nodeType: 'transform',
      mode: 'workflow',
      status: 'succeeded',
      startedAt: new Date(hourAgo + i),
      finishedAt: new Date(hourAgo + i + 1),
    })),
  });
  // A run nothing will pick up (its lease is held far into the future): its stream stays open.
  const running = await prisma.run.create({
    data: {
      workflowId: wfId,
      status: 'running',
      trigger: 'manual',
      leaseOwner: 'streams-test',
      leaseUntil: new Date(Date.now() + 3600_000),
    },
  });
  runningRun = running.id;
}, 120_000);

afterAll(async () => {
  const { getDb } = await import('@/lib/db/client');
  const { prisma } = await getDb();
  await prisma.run.updateMany({ where: { leaseOwner: 'streams-test' }, data: { status: 'cancelled' } });
  await closeProcessRuntime();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('14.8 reads stay bounded', () => {
  it(`GET /api/runs/:id without stepLimit answers the first ${DEFAULT_STEP_PAGE_SIZE} steps and a cursor to the rest`, async () => {
    const one = await load('runs/[id]');
    const res = await call(one.GET, `/api/runs/${finishedRun}`, {}, { id: finishedRun });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.steps).toHaveLength(DEFAULT_STEP_PAGE_SIZE);
    expect(body.stepsCursor).toBeTruthy();
    const steps = await load('runs/[id]/steps');
    const rest = await (
      await call(
        steps.GET,
        `/api/runs/${finishedRun}/steps?cursor=${body.stepsCursor}&limit=5000`,
        {},
        { id: finishedRun },
      )
    ).json();
    expect(body.steps.length + rest.steps.length).toBe(OLD_STEPS);
    expect(rest.nextCursor).toBeNull();
  });

  it('the SSE snapshot is the same first page; a reconnect with Last-Event-ID gets only what changed since', async () => {
    const events = await load('runs/[id]/events');
    const first = await readUntilEnd(
      await call(events.GET, `/api/runs/${finishedRun}/events`, {}, { id: finishedRun }),
      30_000,
    );
    expect(first.ended).toBe(true); // a finished run: snapshot, then the stream ends
    const snap = first.frames.find((f) => f.event === 'snapshot')!;
    expect(snap.id).toMatch(/^\d+$/);
    const data = snap.data as { steps: unknown[]; stepsCursor: string | null };
    expect(data.steps).toHaveLength(DEFAULT_STEP_PAGE_SIZE);
    expect(data.stepsCursor).toBeTruthy();

    const { getDb } = await import('@/lib/db/client');
    const { prisma } = await getDb();
    const lastId = snap.id!;
    await prisma.step.createMany({
      data: ['late1', 'late2', 'late3'].map((nodeId) => ({
        runId: finishedRun,
        nodeId,
        nodeType: 'transform',
        mode: 'workflow',
        status: 'succeeded',
        startedAt: new Date(),
      })),
    });
    const again = await readUntilEnd(
      await call(
        events.GET,
        `/api/runs/${finishedRun}/events`,
        { headers: { 'last-event-id': lastId } },
        { id: finishedRun },
      ),
      30_000,
    );
    const delta = again.frames.find((f) => f.event === 'snapshot')!.data as {
      resumed: boolean;
      steps: { nodeId: string }[];
    };
    expect(delta.resumed).toBe(true);
    expect(delta.steps.map((s) => s.nodeId).sort()).toEqual(['late1', 'late2', 'late3']);
  }, 60_000);
});

describe('14.10 revocation ends streams', () => {
  it(`an SSE stream opened with an API token ends within seconds of the revoke (re-checked every ${STREAM_REAUTH_MS} ms); another stays open`, async () => {
    const [tokens, tokenById, events] = await Promise.all([
      load('tokens'),
      load('tokens/[id]'),
      load('runs/[id]/events'),
    ]);
    const created = await (
      await call(tokens.POST, '/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'sse' }) })
    ).json();
    const open = (auth: string) =>
      events.GET(
        new Request(`${BASE}/api/runs/${runningRun}/events`, {
          headers: { authorization: `Bearer ${auth}` },
        }),
        {
          params: Promise.resolve({ id: runningRun }),
        },
      );
    const revoked = await open(created.token);
    const control = await open(TOKEN);
    expect(revoked.status).toBe(200);
    const del = await call(
      tokenById.DELETE,
      `/api/tokens/${created.id}`,
      { method: 'DELETE' },
      { id: created.id },
    );
    expect(del.status).toBe(200);
    const t0 = Date.now();
    const r = await readUntilEnd(revoked, 20_000);
    const tookMs = Date.now() - t0;
    expect(r.ended).toBe(true);
    expect(r.frames.at(-1)?.event).toBe('end');
    expect(tookMs).toBeLessThan(STREAM_REAUTH_MS * 5);
    const c = await readUntilEnd(control, STREAM_REAUTH_MS * 2);
    expect(c.ended).toBe(false);
  }, 60_000);

  it('an SSE stream opened with a session ends after that session logs out', async () => {
    const [setup, logout, events] = await Promise.all([
      load('auth/setup'),
      load('auth/logout'),
      load('runs/[id]/events'),
    ]);
    const res = await setup.POST(
      new Request(`${BASE}/api/auth/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: BASE },
        body: JSON.stringify({ email: 'owner@streams.test', password: 'streams-owner-password-1' }),
      }),
      { params: Promise.resolve({}) },
    );
    expect(res.status).toBe(201);
    const cookie = res.headers.get('set-cookie')!.split(';')[0];
    const stream = await events.GET(
      new Request(`${BASE}/api/runs/${runningRun}/events`, { headers: { cookie } }),
      {
        params: Promise.resolve({ id: runningRun }),
      },
    );
    expect(stream.status).toBe(200);
    const out = await logout.POST(
      new Request(`${BASE}/api/auth/logout`, { method: 'POST', headers: { cookie, origin: BASE } }),
      {
        params: Promise.resolve({}),
      },
    );
    expect(out.status).toBe(200);
    const r = await readUntilEnd(stream, 20_000);
    expect(r.ended).toBe(true);
    expect(r.frames.at(-1)?.event).toBe('end');
  }, 60_000);
});
