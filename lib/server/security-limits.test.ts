import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_NESTING_DEPTH, MAX_NODES } from '@/lib/workflow/limits';
import { MAX_REQUEST_BODY_BYTES, MAX_RUN_INPUT_BYTES } from './limits';
import {
  assertLoginRate,
  assertWebhookRate,
  createRateLimiter,
  DEFAULT_RUN_BACKLOG_PER_WORKFLOW,
  LOGIN_RATE_LIMIT,
  MAX_RATE_LIMIT_KEYS,
  MAX_WEBHOOK_RATE,
  RUN_BACKLOG_ENV,
  resetRateLimits,
  runBacklogFromEnv,
  WEBHOOK_RATE_ENV,
  WEBHOOK_RATE_LIMIT,
  WEBHOOK_RATE_WINDOW_MS,
  webhookRateFromEnv,
} from './rate-limit';
import { toErrorResponse } from './route';
import { closeProcessRuntime } from './testing/route-harness';

// Each input limit answers a clear 4xx JSON error, and the server keeps answering afterwards.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-limits-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
const TOKEN = 'limits-test-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;

type Handler = (r: Request, c: { params: Promise<unknown> }) => Promise<Response>;
const API = path.resolve(import.meta.dirname, '../../app/api');
const load = async (rel: string) =>
  (await import(/* @vite-ignore */ path.join(API, rel, 'route.ts'))) as Record<string, Handler>;

function call(h: Handler, url: string, body?: string | ReadableStream, params: Record<string, string> = {}) {
  const req = new Request(`http://127.0.0.1:3999${url}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  return h(req, { params: Promise.resolve(params) });
}

const def = (nodes: unknown[]) => ({ schemaVersion: 1, name: 'limits', nodes, edges: [] });
const trigger = { id: 't', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} };

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  return body;
}

describe('HTTP limits', () => {
  let health: Record<string, Handler>;
  let validate: Record<string, Handler>;
  let workflows: Record<string, Handler>;
  let runs: Record<string, Handler>;
  let wfId = '';

  beforeAll(async () => {
    [health, validate, workflows, runs] = await Promise.all(
      ['health', 'validate', 'workflows', 'workflows/[id]/runs'].map(load),
    );
    const res = await call(
      workflows.POST,
      '/api/workflows',
      JSON.stringify({ name: 'limits', definition: def([trigger]) }),
    );
    expect(res.status).toBe(201);
    wfId = (await res.json()).id;
  }, 120_000);

  afterAll(async () => {
    await closeProcessRuntime();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(`a body over MAX_REQUEST_BODY_BYTES (${MAX_REQUEST_BODY_BYTES}) is 413, declared or streamed`, async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(MAX_REQUEST_BODY_BYTES) });
    await expectError(await call(validate.POST, '/api/validate', big), 413, 'payload_too_large');
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > MAX_REQUEST_BODY_BYTES * 2) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    await expectError(await call(validate.POST, '/api/validate', stream), 413, 'payload_too_large');
    expect(sent).toBeLessThan(MAX_REQUEST_BODY_BYTES * 2); // stopped reading early
  });

  it(`a definition over MAX_NODES (${MAX_NODES}) or MAX_NESTING_DEPTH (${MAX_NESTING_DEPTH}) is refused with pointers`, async () => {
    const many = Array.from({ length: MAX_NODES + 1 }, (_, i) => ({ ...trigger, id: `n${i}` }));
    const res = await call(
      workflows.POST,
      '/api/workflows',
      JSON.stringify({ name: 'big', definition: def(many) }),
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_NESTING_DEPTH + 5; i++) deep = { d: deep };
    const res2 = await call(
      workflows.POST,
      '/api/workflows',
      JSON.stringify({ name: 'deep', definition: def([{ ...trigger, config: { deep } }]) }),
    );
    expect(res2.status).toBeGreaterThanOrEqual(400);
    expect(res2.status).toBeLessThan(500);
    expect(JSON.stringify(await res2.json())).toMatch(/\/nodes\/0/);
  });

  it(`a run input over MAX_RUN_INPUT_BYTES (${MAX_RUN_INPUT_BYTES}) is 413`, async () => {
    const body = JSON.stringify({ input: { pad: 'x'.repeat(MAX_RUN_INPUT_BYTES) } });
    await expectError(
      await call(runs.POST, `/api/workflows/${wfId}/runs`, body, { id: wfId }),
      413,
      'payload_too_large',
    );
  });

  it(`a backlog of DEFAULT_RUN_BACKLOG_PER_WORKFLOW (${DEFAULT_RUN_BACKLOG_PER_WORKFLOW}) queued runs is 429; running runs do not count`, async () => {
    const { getDb } = await import('@/lib/db/client');
    const { prisma } = await getDb();
    const rows = (status: string) =>
      Array.from({ length: DEFAULT_RUN_BACKLOG_PER_WORKFLOW }, () => ({
        workflowId: wfId,
        status,
        trigger: 'manual',
        // A lease far in the future keeps recovery from taking these rows over during the test.
        leaseOwner: 'limits-test',
        leaseUntil: new Date(Date.now() + 3600_000),
      }));
    // As many runs in progress as the backlog holds: the next one is accepted (it queues).
    await prisma.run.createMany({ data: rows('running') });
    const accepted = await call(runs.POST, `/api/workflows/${wfId}/runs`, '{}', { id: wfId });
    expect(accepted.status).toBe(202);
    await prisma.run.updateMany({ where: { leaseOwner: 'limits-test' }, data: { status: 'cancelled' } });
    await prisma.run.createMany({ data: rows('queued') });
    const res = await call(runs.POST, `/api/workflows/${wfId}/runs`, '{}', { id: wfId });
    const body = await expectError(res, 429, 'rate_limited');
    expect(body.error.details.limit).toBe(DEFAULT_RUN_BACKLOG_PER_WORKFLOW);
    expect(res.headers.get('retry-after')).toBeTruthy();
    await prisma.run.updateMany({ where: { leaseOwner: 'limits-test' }, data: { status: 'cancelled' } });
    const ok = await call(runs.POST, `/api/workflows/${wfId}/runs`, JSON.stringify({ wait: true }), {
      id: wfId,
    });
    expect(ok.status).toBe(200);
  });

  it(`POST /api/hooks/:id over WEBHOOK_RATE_LIMIT (${WEBHOOK_RATE_LIMIT}) per window is 429; a wrong secret is not counted`, async () => {
    const hooks = await load('hooks/[workflowId]');
    const hookDef = {
      ...def([{ id: 'w', type: 'trigger.webhook', position: { x: 0, y: 0 }, config: {} }]),
      name: 'hook',
    };
    const created = await call(
      workflows.POST,
      '/api/workflows',
      JSON.stringify({ name: 'hook', definition: hookDef }),
    );
    const hookId = (await created.json()).id as string;
    const one = await load('workflows/[id]');
    const infoRes = await call(one.GET, `/api/workflows/${hookId}`, undefined, { id: hookId });
    // The answer carries the webhook secret (issue 14.11): never cached.
    expect(infoRes.headers.get('cache-control')).toBe('no-store');
    const info = await infoRes.json();
    const secret = info.webhook.secret as string;
    const post = (s: string) =>
      hooks.POST(
        new Request(`http://127.0.0.1/api/hooks/${hookId}`, {
          method: 'POST',
          headers: { 'x-trellis-webhook-secret': s, 'content-type': 'application/json' },
          body: '{"x":1}',
        }),
        { params: Promise.resolve({ workflowId: hookId }) },
      );
    resetRateLimits();
    // The window is a second: hold the clock still so a slow box cannot roll it over mid-test.
    const frozen = vi.spyOn(Date, 'now').mockReturnValue(Date.now());
    try {
      expect((await post('wrong')).status).toBe(401);
      // Use up the window without starting that many runs, then one real call.
      for (let i = 0; i < WEBHOOK_RATE_LIMIT - 1; i++) assertWebhookRate(hookId);
      expect((await post(secret)).status).toBeLessThan(300);
      const limited = await post(secret);
      await expectError(limited, 429, 'rate_limited');
      expect(limited.headers.get('retry-after')).toBeTruthy();
    } finally {
      frozen.mockRestore();
      resetRateLimits();
    }
  });

  it('the server stays healthy after every refusal', async () => {
    const res = await call(health.GET, '/api/health');
    expect(res.status).toBe(200);
    expect((await res.json()).ok).toBe(true);
  });
});

describe('rate limits', () => {
  it(`webhooks: WEBHOOK_RATE_LIMIT (${WEBHOOK_RATE_LIMIT}) per workflow per window, then 429 with Retry-After`, async () => {
    resetRateLimits();
    const t0 = 1_000_000;
    for (let i = 0; i < WEBHOOK_RATE_LIMIT; i++) assertWebhookRate('wf-a', t0 + i);
    let err: unknown;
    try {
      assertWebhookRate('wf-a', t0 + 100);
    } catch (e) {
      err = e;
    }
    const res = toErrorResponse(err);
    await expectError(res, 429, 'rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(() => assertWebhookRate('wf-b', t0 + 100)).not.toThrow(); // per workflow
    expect(() => assertWebhookRate('wf-a', t0 + WEBHOOK_RATE_WINDOW_MS + 1)).not.toThrow(); // next window
  });

  it(`sign-in attempts: LOGIN_RATE_LIMIT (${LOGIN_RATE_LIMIT}) per account, case-insensitive`, () => {
    resetRateLimits();
    for (let i = 0; i < LOGIN_RATE_LIMIT; i++) assertLoginRate(i % 2 ? 'A@x.io' : 'a@x.io', 5);
    expect(() => assertLoginRate('a@X.io', 6)).toThrow(/Too many sign-in attempts/);
  });

  it(`tracks at most MAX_RATE_LIMIT_KEYS (${MAX_RATE_LIMIT_KEYS}) keys`, () => {
    const l = createRateLimiter({ limit: 1, windowMs: 1000, what: 'x' });
    for (let i = 0; i < MAX_RATE_LIMIT_KEYS + 10; i++) l.hit(`k${i}`, 0);
    expect(l.size()).toBe(MAX_RATE_LIMIT_KEYS);
    // The least recently hit key was dropped: an old key starts a fresh window instead of being refused.
    expect(() => l.hit('k0', 0)).not.toThrow();
  });

  it('a flood of new keys does not reset a key that is being guessed (evicts the oldest, never clears)', () => {
    const l = createRateLimiter({ limit: LOGIN_RATE_LIMIT, windowMs: 60_000, what: 'sign-in attempts' });
    for (let i = 0; i < LOGIN_RATE_LIMIT; i++) l.hit('owner@x.io', 1);
    expect(() => l.hit('owner@x.io', 2)).toThrow(/Too many/);
    // Three tables' worth of random accounts, with a guess at the owner every 500 of them.
    for (let i = 0; i < 3 * MAX_RATE_LIMIT_KEYS; i++) {
      l.hit(`random-${i}@x.io`, 3);
      if (i % 500 === 0) expect(() => l.hit('owner@x.io', 3)).toThrow(/Too many/);
      expect(l.size()).toBeLessThanOrEqual(MAX_RATE_LIMIT_KEYS);
    }
    expect(() => l.hit('owner@x.io', 4)).toThrow(/Too many/);
    // The newest random keys are still tracked too (only the oldest were evicted).
    l.hit(`random-${3 * MAX_RATE_LIMIT_KEYS - 1}@x.io`, 5);
    expect(() => l.hit(`random-${3 * MAX_RATE_LIMIT_KEYS - 1}@x.io`, 5)).not.toThrow();
  });

  it(`${WEBHOOK_RATE_ENV} sets the webhook rate (default ${WEBHOOK_RATE_LIMIT} per ${WEBHOOK_RATE_WINDOW_MS} ms); a workflow may set its own`, () => {
    expect(webhookRateFromEnv({})).toBe(WEBHOOK_RATE_LIMIT);
    // Above the 300 runs/s one process is to sustain (issue 21): not the first limit a busy workflow meets.
    expect(WEBHOOK_RATE_LIMIT / (WEBHOOK_RATE_WINDOW_MS / 1000)).toBeGreaterThanOrEqual(300);
    expect(webhookRateFromEnv({ [WEBHOOK_RATE_ENV]: '250' })).toBe(250);
    for (const bad of ['0', '-1', '1.5', 'lots', String(MAX_WEBHOOK_RATE + 1)])
      expect(() => webhookRateFromEnv({ [WEBHOOK_RATE_ENV]: bad })).toThrow(WEBHOOK_RATE_ENV);
    resetRateLimits();
    const t0 = 2_000_000;
    process.env[WEBHOOK_RATE_ENV] = '3';
    try {
      for (let i = 0; i < 3; i++) assertWebhookRate('wf-env', t0);
      expect(() => assertWebhookRate('wf-env', t0)).toThrow(/at most 3 per 1 s/);
      // The workflow's own ratePerSecond wins over the server default.
      for (let i = 0; i < 5; i++) assertWebhookRate('wf-own', t0, 5);
      expect(() => assertWebhookRate('wf-own', t0, 5)).toThrow(/at most 5 per 1 s/);
    } finally {
      delete process.env[WEBHOOK_RATE_ENV];
      resetRateLimits();
    }
  });

  it(`${RUN_BACKLOG_ENV} sets the queued-run backlog per workflow (default ${DEFAULT_RUN_BACKLOG_PER_WORKFLOW})`, () => {
    expect(runBacklogFromEnv({})).toBe(DEFAULT_RUN_BACKLOG_PER_WORKFLOW);
    expect(runBacklogFromEnv({ [RUN_BACKLOG_ENV]: '40' })).toBe(40);
    expect(() => runBacklogFromEnv({ [RUN_BACKLOG_ENV]: '0' })).toThrow(RUN_BACKLOG_ENV);
  });
});
