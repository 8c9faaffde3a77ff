import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NextRequest } from 'next/server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { proxy } from '@/proxy';
import { DEFAULT_HOST, NEXT_BIN, startCommand } from '@/scripts/start.mjs';
import { bindHost, setupTokenRequired } from '@/lib/auth/setup-token';
import { API_DIR, type RouteHandler } from './testing/route-files';
import { closeProcessRuntime } from './testing/route-harness';

// Issue 14.3, no first-run takeover: loopback by default, only our own Host names answered (DNS
// rebinding), and setup from a remote client needs the one-time token from the server log.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-takeover-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
delete process.env.TRELLIS_SETUP_TOKEN;

const load = async (rel: string) =>
  (await import(/* @vite-ignore */ path.join(API_DIR, rel, 'route.ts'))) as Record<string, RouteHandler>;
const noParams = { params: Promise.resolve({}) };
const ENV_KEYS = ['HOST', 'TRELLIS_ALLOWED_HOSTS', 'TRELLIS_PUBLIC_URL'] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV_KEYS)
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
});

afterAll(async () => {
  await closeProcessRuntime();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('listen address', () => {
  it('npm start listens on 127.0.0.1 unless HOST is set', () => {
    expect(DEFAULT_HOST).toBe('127.0.0.1');
    const plain = startCommand({ PORT: '4151' });
    // Next's bin run by this Node itself, with no npx (a resident npm process) in between.
    expect(plain.command).toBe(process.execPath);
    expect(plain.args).toEqual([NEXT_BIN, 'start', '-p', '4151', '-H', '127.0.0.1']);
    expect(NEXT_BIN).toMatch(/node_modules\/next\/dist\/bin\/next$/);
    expect(plain.env.HOST).toBe('127.0.0.1');
    expect(startCommand({ PORT: '4151', HOST: '0.0.0.0' }).args.slice(-2)).toEqual(['-H', '0.0.0.0']);
  });

  it('the bind address is read from HOST or next start -H', () => {
    expect(bindHost({}, ['node', 'next', 'start', '-H', '127.0.0.1'])).toBe('127.0.0.1');
    expect(bindHost({}, ['node', 'next', 'start', '--hostname=0.0.0.0'])).toBe('0.0.0.0');
    expect(bindHost({ HOST: '::1' }, [])).toBe('::1');
    expect(bindHost({}, ['node', 'next', 'start'])).toBeUndefined();
  });
});

describe('Host allow-list (DNS rebinding)', () => {
  const get = async (headers: Record<string, string>) => {
    const health = await load('health');
    return health.GET(new Request('http://127.0.0.1:4151/api/health', { headers }), noParams);
  };

  it('API: a Host that is not ours is 421; loopback names, TRELLIS_PUBLIC_URL and TRELLIS_ALLOWED_HOSTS pass', async () => {
    const refused = await get({ host: 'rebind.attacker.example:4151' });
    expect(refused.status).toBe(421);
    expect((await refused.json()).error.code).toBe('misdirected_request');
    expect((await get({ host: 'evil.example', 'x-forwarded-host': 'localhost' })).status).toBe(421);
    expect((await get({ host: 'localhost', 'x-forwarded-host': 'evil.example' })).status).toBe(421);
    for (const host of ['localhost:4151', '127.0.0.1:4151', '[::1]:4151', 'LOCALHOST']) {
      expect((await get({ host })).status, host).toBe(200);
    }
    process.env.TRELLIS_PUBLIC_URL = 'https://trellis.example.com';
    expect((await get({ host: 'trellis.example.com' })).status).toBe(200);
    process.env.TRELLIS_ALLOWED_HOSTS = 'a.example, b.example:8080';
    expect((await get({ host: 'b.example:9999' })).status).toBe(200);
    expect((await get({ host: 'c.example' })).status).toBe(421);
    process.env.TRELLIS_ALLOWED_HOSTS = '*';
    expect((await get({ host: 'c.example' })).status).toBe(200);
  }, 120_000);

  it('pages: the proxy answers 421 to a foreign Host before any redirect', () => {
    const page = (host: string) =>
      proxy(new NextRequest('http://127.0.0.1:4151/workflows', { headers: { host } }));
    expect(page('rebind.attacker.example').status).toBe(421);
    expect(page('localhost:4151').status).toBe(307); // to /login, as before
  });
});

describe('first-run setup token', () => {
  let setup: Record<string, RouteHandler>;
  const logged: string[] = [];
  beforeAll(async () => {
    setup = await load('auth/setup');
    vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void logged.push(a.join(' ')));
  }, 120_000);

  const owner = { email: 'owner@example.com', password: 'correct horse battery staple' };
  const post = (headers: Record<string, string>, body: object = owner) =>
    setup.POST(
      new Request('http://127.0.0.1:4151/api/auth/setup', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:4151', ...headers },
        body: JSON.stringify(body),
      }),
      noParams,
    );

  it('who needs it: remote forwarded clients of a loopback server, everyone on an exposed one', () => {
    const h = (xff?: string) => new Headers(xff ? { 'x-forwarded-for': xff } : {});
    const loop = { HOST: '127.0.0.1' };
    expect(setupTokenRequired(h(), loop, [])).toBe(false);
    expect(setupTokenRequired(h('127.0.0.1'), loop, [])).toBe(false);
    expect(setupTokenRequired(h('::ffff:127.0.0.1'), loop, [])).toBe(false);
    expect(setupTokenRequired(h('203.0.113.9'), loop, [])).toBe(true);
    expect(setupTokenRequired(h('127.0.0.1, 203.0.113.9'), loop, [])).toBe(true);
    // Exposed: a spoofed "X-Forwarded-For: 127.0.0.1" buys nothing.
    expect(setupTokenRequired(h('127.0.0.1'), { HOST: '0.0.0.0' }, [])).toBe(true);
    expect(setupTokenRequired(h(), {}, ['next', 'start'])).toBe(true);
  });

  it('a remote setup without the token, or with a wrong one, is 403 and creates nobody; with the logged token it is 201', async () => {
    process.env.HOST = '127.0.0.1';
    const remote = { 'x-forwarded-for': '203.0.113.9' };
    const status = await (
      await setup.GET(new Request('http://127.0.0.1:4151/api/auth/setup', { headers: remote }), noParams)
    ).json();
    expect(status).toEqual({ setupRequired: true, setupTokenRequired: true });
    const line = logged.find((l) => l.includes('setup token'));
    const token = line?.match(/(setup_\S+)/)?.[1];
    expect(token).toBeTruthy();

    const none = await post(remote);
    expect(none.status).toBe(403);
    expect((await none.json()).error.details.reason).toBe('setup_token_required');
    expect((await post(remote, { ...owner, setupToken: 'setup_wrong' })).status).toBe(403);
    process.env.HOST = '0.0.0.0';
    expect((await post({ 'x-forwarded-for': '127.0.0.1' })).status).toBe(403);
    const status2 = await (
      await setup.GET(new Request('http://127.0.0.1:4151/api/auth/setup'), noParams)
    ).json();
    expect(status2.setupRequired).toBe(true); // nobody was created

    const ok = await post({ ...remote, 'x-trellis-setup-token': token! });
    expect(ok.status).toBe(201);
    // One-time: the token is used up, and setup is closed for everyone.
    expect((await post({ ...remote, 'x-trellis-setup-token': token! })).status).toBe(403);
    process.env.HOST = '127.0.0.1';
    expect((await post({})).status).toBe(409);
  });
});
