import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Every route handler file in app/api, imported and called without credentials: all but the
// public ones answer 401 JSON. Then the whole sign-in story against a real (temp) PGlite.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-auth-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
process.env.TRELLIS_API_TOKEN = 'env-bootstrap-token-0123456789';
// As `npm start` runs it: bound to loopback, so a local setup needs no setup token (issue 14.3).
process.env.HOST = '127.0.0.1';

const API_DIR = path.resolve(import.meta.dirname, '../../app/api');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Routes anyone may call: each decides for itself (webhooks check the workflow's own secret). */
export const PUBLIC_ROUTES = [
  /^health$/,
  // The API's OpenAPI document and its rendered reference describe the API; they hold no data.
  /^openapi\.json$/,
  /^docs$/,
  /^demo\//,
  /^hooks(\/|$)/,
  /^auth\/(login|logout|setup|me)$/,
];

function routeFiles(dir = API_DIR): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return routeFiles(p);
    return e.name === 'route.ts' ? [p] : [];
  });
}

function fakeParams(rel: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const m of rel.matchAll(/\[(\.\.\.)?([^\]]+)\]/g)) out[m[2]] = m[1] ? ['x'] : 'x';
  return out;
}

const BASE = 'http://127.0.0.1:3999';

describe('every /api route refuses unauthenticated calls', () => {
  const files = routeFiles();
  const checked: string[] = [];

  it('finds the route files', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    const rel = path.relative(API_DIR, path.dirname(file)).split(path.sep).join('/');
    const isPublic = PUBLIC_ROUTES.some((r) => r.test(rel));
    it(`${rel} ${isPublic ? '(public)' : '→ 401'}`, async () => {
      const mod = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
      const methods = METHODS.filter((m) => typeof mod[m] === 'function');
      expect(methods.length).toBeGreaterThan(0);
      for (const m of methods) {
        const url = `${BASE}/api/${rel.replace(/\[(\.\.\.)?[^\]]+\]/g, 'x')}`;
        const req = new Request(url, {
          method: m,
          headers: { 'content-type': 'application/json', host: '127.0.0.1:3999' },
          body: m === 'GET' || m === 'DELETE' ? undefined : '{}',
        });
        const handler = mod[m] as (r: Request, c: { params: Promise<unknown> }) => Promise<Response>;
        if (isPublic) continue; // called by the flow tests below with real bodies
        const res = await handler(req, { params: Promise.resolve(fakeParams(rel)) });
        expect(res.status, `${m} /api/${rel}`).toBe(401);
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
        const body = await res.json();
        expect(body.error.code).toBe('unauthorized');
        checked.push(`${m} ${rel}`);
      }
    });
  }

  afterAll(() => {
    console.info(`[auth] ${checked.length} protected handlers checked in ${files.length} route files`);
  });
});

// ---- the flow, calling handlers directly ----

type Handler = (r: Request, c: { params: Promise<unknown> }) => Promise<Response>;
async function load(rel: string): Promise<Record<string, Handler>> {
  return import(/* @vite-ignore */ path.join(API_DIR, rel, 'route.ts'));
}

function req(
  url: string,
  init: { method?: string; body?: unknown; cookie?: string; origin?: string | null; bearer?: string } = {},
) {
  const headers: Record<string, string> = { host: '127.0.0.1:3999', 'content-type': 'application/json' };
  if (init.cookie) headers.cookie = init.cookie;
  if (init.origin !== null && init.method && init.method !== 'GET') headers.origin = init.origin ?? BASE;
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  return new Request(`${BASE}${url}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}
const noParams = { params: Promise.resolve({}) };

function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0];
}

// scrypt at full strength is slow on a loaded machine (~2 s per hash); the flow hashes a dozen times.
describe('sign-in flow (temp PGlite)', { timeout: 120_000 }, () => {
  let setup: Record<string, Handler>;
  let login: Record<string, Handler>;
  let logout: Record<string, Handler>;
  let me: Record<string, Handler>;
  let tokens: Record<string, Handler>;
  let tokenById: Record<string, Handler>;
  let workflows: Record<string, Handler>;
  let cookie = '';
  const owner = { email: 'owner@example.com', password: 'correct horse battery' };

  beforeAll(async () => {
    [setup, login, logout, me, tokens, tokenById, workflows] = await Promise.all(
      ['auth/setup', 'auth/login', 'auth/logout', 'auth/me', 'tokens', 'tokens/[id]', 'workflows'].map(load),
    );
  });
  afterAll(async () => {
    const { getDb } = await import('@/lib/db/client');
    await (await getDb()).close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports that setup is required, refuses a weak password, then creates the owner once', async () => {
    const status = await (await setup.GET(req('/api/auth/setup'), noParams)).json();
    expect(status.setupRequired).toBe(true);
    const meRes = await me.GET(req('/api/auth/me'), noParams);
    expect(meRes.status).toBe(401);
    expect((await meRes.json()).setupRequired).toBe(true);

    const weak = await setup.POST(
      req('/api/auth/setup', { method: 'POST', body: { ...owner, password: 'short' } }),
      noParams,
    );
    expect(weak.status).toBe(400);

    const crossSite = await setup.POST(
      req('/api/auth/setup', { method: 'POST', body: owner, origin: 'https://evil.example' }),
      noParams,
    );
    expect(crossSite.status).toBe(403);

    const res = await setup.POST(req('/api/auth/setup', { method: 'POST', body: owner }), noParams);
    expect(res.status).toBe(201);
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Lax/);
    expect(set).not.toMatch(/Secure/);
    cookie = cookieOf(res);

    const again = await setup.POST(
      req('/api/auth/setup', {
        method: 'POST',
        body: { email: 'other@example.com', password: owner.password },
      }),
      noParams,
    );
    expect(again.status).toBe(409);
  });

  it('stores the password as scrypt and the session as a hash', async () => {
    const { getDb } = await import('@/lib/db/client');
    const { prisma } = await getDb();
    const user = await prisma.user.findFirstOrThrow();
    expect(user.passwordHash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(user.passwordHash).not.toContain(owner.password);
    const token = cookie.split('=')[1];
    const sessions = await prisma.session.findMany();
    expect(sessions).toHaveLength(1);
    expect(sessions[0].tokenHash).not.toBe(token);
    expect(sessions[0].tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a session cookie opens the API; a cross-origin cookie POST is 403; Bearer needs no Origin', async () => {
    const list = await workflows.GET(req('/api/workflows', { cookie }), noParams);
    expect(list.status).toBe(200);
    const meRes = await me.GET(req('/api/auth/me', { cookie }), noParams);
    expect((await meRes.json()).user.email).toBe(owner.email);

    const def = {
      schemaVersion: 1,
      name: 'x',
      nodes: [{ id: 't', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} }],
      edges: [],
    };
    const evil = await workflows.POST(
      req('/api/workflows', {
        method: 'POST',
        cookie,
        origin: 'https://evil.example',
        body: { name: 'x', definition: def },
      }),
      noParams,
    );
    expect(evil.status).toBe(403);
    expect((await evil.json()).error.code).toBe('forbidden');
    const noOrigin = await workflows.POST(
      req('/api/workflows', { method: 'POST', cookie, origin: null, body: { name: 'x', definition: def } }),
      noParams,
    );
    expect(noOrigin.status).toBe(403);
    const ok = await workflows.POST(
      req('/api/workflows', { method: 'POST', cookie, body: { name: 'x', definition: def } }),
      noParams,
    );
    expect(ok.status).toBe(201);

    const bearer = await workflows.POST(
      req('/api/workflows', {
        method: 'POST',
        origin: null,
        bearer: process.env.TRELLIS_API_TOKEN,
        body: { name: 'y', definition: def },
      }),
      noParams,
    );
    expect(bearer.status).toBe(201);
    const wrong = await workflows.GET(
      req('/api/workflows', { bearer: 'env-bootstrap-token-0123456788' }),
      noParams,
    );
    expect(wrong.status).toBe(401);
  });

  it('API tokens: shown once, stored hashed, listed without the token, usable as Bearer, revocable', async () => {
    const created = await tokens.POST(
      req('/api/tokens', { method: 'POST', cookie, body: { name: 'ci' } }),
      noParams,
    );
    expect(created.status).toBe(201);
    const { id, token } = await created.json();
    expect(token).toMatch(/^trt_/);

    const listRes = await tokens.GET(req('/api/tokens', { cookie }), noParams);
    const listText = await listRes.text();
    expect(listText).not.toContain(token);
    expect(JSON.parse(listText).tokens[0]).toMatchObject({ id, name: 'ci', lastUsedAt: null });

    const { getDb } = await import('@/lib/db/client');
    const row = await (await getDb()).prisma.apiToken.findUniqueOrThrow({ where: { id } });
    expect(row.tokenHash).not.toContain(token);

    const used = await workflows.GET(req('/api/workflows', { bearer: token }), noParams);
    expect(used.status).toBe(200);
    const after = await (await tokens.GET(req('/api/tokens', { bearer: token }), noParams)).json();
    expect(after.tokens[0].lastUsedAt).not.toBeNull();

    const del = await tokenById.DELETE(req(`/api/tokens/${id}`, { method: 'DELETE', cookie }), {
      params: Promise.resolve({ id }),
    });
    expect(del.status).toBe(200);
    const revoked = await workflows.GET(req('/api/workflows', { bearer: token }), noParams);
    expect(revoked.status).toBe(401);
  });

  it('logout ends the session; login with a wrong password is 401, the right one works', async () => {
    const out = await logout.POST(req('/api/auth/logout', { method: 'POST', cookie }), noParams);
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    const after = await workflows.GET(req('/api/workflows', { cookie }), noParams);
    expect(after.status).toBe(401);

    const bad = await login.POST(
      req('/api/auth/login', { method: 'POST', body: { ...owner, password: 'wrong password!' } }),
      noParams,
    );
    expect(bad.status).toBe(401);
    const unknown = await login.POST(
      req('/api/auth/login', {
        method: 'POST',
        body: { email: 'nobody@example.com', password: 'whatever123' },
      }),
      noParams,
    );
    expect(unknown.status).toBe(401);
    const good = await login.POST(req('/api/auth/login', { method: 'POST', body: owner }), noParams);
    expect(good.status).toBe(200);
    const c2 = cookieOf(good);
    expect((await workflows.GET(req('/api/workflows', { cookie: c2 }), noParams)).status).toBe(200);
  });

  it('sets Secure on the cookie when the request came over https', async () => {
    // The public name must be one this server answers to (Host allow-list, issue 14.3).
    process.env.TRELLIS_PUBLIC_URL = 'https://trellis.example';
    const r = new Request('https://trellis.example/api/auth/login', {
      method: 'POST',
      headers: {
        host: 'trellis.example',
        origin: 'https://trellis.example',
        'content-type': 'application/json',
      },
      body: JSON.stringify(owner),
    });
    const res = await login.POST(r, noParams);
    delete process.env.TRELLIS_PUBLIC_URL;
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
  });
});
