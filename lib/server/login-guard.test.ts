import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOGIN_CLIENT_PER_MINUTE,
  LOGIN_GLOBAL_PER_MINUTE,
  LOGIN_MAX_CONCURRENT,
  LOGIN_MAX_CONCURRENT_PER_CLIENT,
  resetLoginGuard,
  withLoginSlot,
} from './login-guard';
import { resetRateLimits } from './rate-limit';
import { API_DIR, type RouteHandler } from './testing/route-files';
import { closeProcessRuntime } from './testing/route-harness';

// Issue 14.9: password hashing cannot be used to slow the owner down. The latency bound below is
// the property the issue asks for; it is generous (a loaded 2-core box) and relative to the same
// login measured alone, so it does not flake on a slow machine, while the unguarded server took
// 18 s.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-login-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
process.env.HOST = '127.0.0.1';
const BASE = 'http://127.0.0.1:4153';
const OWNER = { email: 'owner@login.test', password: 'owner-password-0123' };

let login: Record<string, RouteHandler>;
const attempt = (body: object, client: string) =>
  login.POST(
    new Request(`${BASE}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: BASE, 'x-forwarded-for': client },
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({}) },
  );

beforeAll(async () => {
  const load = async (rel: string) =>
    (await import(/* @vite-ignore */ path.join(API_DIR, rel, 'route.ts'))) as Record<string, RouteHandler>;
  const setup = await load('auth/setup');
  login = await load('auth/login');
  const res = await setup.POST(
    new Request(`${BASE}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: BASE },
      body: JSON.stringify(OWNER),
    }),
    { params: Promise.resolve({}) },
  );
  expect(res.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await closeProcessRuntime();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('sign-in under a flood', () => {
  it('90 parallel sign-ins with random emails from one client: most refused before hashing, the owner signs in at about the normal speed', async () => {
    resetLoginGuard();
    resetRateLimits();
    let t = Date.now();
    const alone = await attempt(OWNER, '127.0.0.1');
    const baselineMs = Date.now() - t;
    expect(alone.status).toBe(200);

    resetLoginGuard();
    const flood = Array.from({ length: 90 }, (_, i) =>
      attempt(
        { email: `x${i}-${Math.random().toString(36).slice(2)}@example.com`, password: 'guess-guess-1' },
        '198.51.100.7',
      ),
    );
    // Let the flood reach the guard first.
    await new Promise((r) => setImmediate(r));
    t = Date.now();
    const owner = await attempt(OWNER, '127.0.0.1');
    const ownerMs = Date.now() - t;
    const statuses = await Promise.all(flood.map(async (p) => (await p).status));
    console.info(`[login-guard] owner alone ${baselineMs} ms, during the flood ${ownerMs} ms`);
    expect(owner.status).toBe(200);
    expect(ownerMs).toBeLessThan(baselineMs * 3 + 3000);
    const refused = statuses.filter((s) => s === 429).length;
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(LOGIN_CLIENT_PER_MINUTE);
    expect(refused).toBeGreaterThanOrEqual(90 - LOGIN_CLIENT_PER_MINUTE);
  }, 120_000);
});

describe('the guard', () => {
  const req = (client: string) =>
    new Request(BASE, { headers: { 'x-forwarded-for': `10.0.0.1, ${client}` } });

  it(`LOGIN_MAX_CONCURRENT_PER_CLIENT (${LOGIN_MAX_CONCURRENT_PER_CLIENT}) and LOGIN_MAX_CONCURRENT (${LOGIN_MAX_CONCURRENT}) in flight; the next is 429 without running its hash`, async () => {
    resetLoginGuard();
    let ran = 0;
    const hold: Promise<unknown>[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = () => (ran++, gate);
    hold.push(withLoginSlot(req('a'), held));
    await expect(withLoginSlot(req('a'), held)).rejects.toThrow(/in progress from this client/);
    for (let i = 1; i < LOGIN_MAX_CONCURRENT; i++) hold.push(withLoginSlot(req(`c${i}`), held));
    await expect(withLoginSlot(req('z'), held)).rejects.toThrow(/in progress on this server/);
    expect(ran).toBe(LOGIN_MAX_CONCURRENT);
    release();
    await Promise.all(hold);
    // Slots are given back.
    await expect(withLoginSlot(req('z'), async () => 'ok')).resolves.toBe('ok');
  });

  it(`LOGIN_CLIENT_PER_MINUTE (${LOGIN_CLIENT_PER_MINUTE}) per client and LOGIN_GLOBAL_PER_MINUTE (${LOGIN_GLOBAL_PER_MINUTE}) overall, per window`, async () => {
    resetLoginGuard();
    const t0 = 5_000_000;
    const ok = async () => 1;
    for (let i = 0; i < LOGIN_CLIENT_PER_MINUTE; i++) await withLoginSlot(req('a'), ok, t0);
    await expect(withLoginSlot(req('a'), ok, t0)).rejects.toThrow(/from this client/);
    await expect(withLoginSlot(req('a'), ok, t0 + 60_001)).resolves.toBe(1);
    resetLoginGuard();
    for (let i = 0; i < LOGIN_GLOBAL_PER_MINUTE; i++) await withLoginSlot(req(`k${i}`), ok, t0);
    await expect(withLoginSlot(req('fresh'), ok, t0)).rejects.toThrow(/on this server/);
  });
});
