import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toErrorResponse } from '@/lib/server/route';
import { SecretKeyMissingError } from '@/lib/secrets/crypto';
import { SecretStore } from '@/lib/secrets/store';

// /api/secrets through its route handlers on a temp PGlite: values go in and never come out.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-secrets-api-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
delete process.env.TRELLIS_SECRET_KEY;
const TOKEN = 'secrets-api-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;

type Handler = (r: Request, c: { params: Promise<unknown> }) => Promise<Response>;
const API = path.resolve(import.meta.dirname, '../../app/api');
const load = async (rel: string) =>
  (await import(/* @vite-ignore */ path.join(API, rel, 'route.ts'))) as Record<string, Handler>;
const call = (h: Handler, method: string, url: string, body?: unknown, params: Record<string, string> = {}) =>
  h(
    new Request(`http://127.0.0.1${url}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { params: Promise.resolve(params) },
  );

afterAll(async () => {
  const { getDb } = await import('@/lib/db/client');
  await (await getDb()).close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('/api/secrets', () => {
  const value = 'sk-live-abcdef-0123456789';

  it('creates, lists names only, replaces, deletes; the value is never returned nor stored in clear', async () => {
    const [list, one] = await Promise.all([load('secrets'), load('secrets/[name]')]);
    const created = await call(list.POST, 'POST', '/api/secrets', { name: 'OPENAI_KEY', value });
    expect(created.status).toBe(201);
    expect(await created.text()).not.toContain(value);
    const replaced = await call(list.POST, 'POST', '/api/secrets', {
      name: 'OPENAI_KEY',
      value: `${value}-2`,
    });
    expect(replaced.status).toBe(200);

    const listed = await (await call(list.GET, 'GET', '/api/secrets')).text();
    expect(listed).not.toContain(value);
    expect(JSON.parse(listed).secrets).toEqual([expect.objectContaining({ name: 'OPENAI_KEY' })]);
    expect(Object.keys(JSON.parse(listed).secrets[0]).sort()).toEqual(['createdAt', 'name', 'updatedAt']);

    const { getDb } = await import('@/lib/db/client');
    const { prisma } = await getDb();
    const row = await prisma.secret.findUniqueOrThrow({ where: { name: 'OPENAI_KEY' } });
    expect(row.encryptedValue).not.toContain('sk-live');
    expect(row.encryptedValue).toMatch(/^v1:/);
    expect(fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(await new SecretStore(prisma).values()).toEqual({ OPENAI_KEY: `${value}-2` });

    const bad = await call(list.POST, 'POST', '/api/secrets', { name: 'has space', value: 'x' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.details.problems[0].path).toBe('/name');

    expect(
      (await call(one.DELETE, 'DELETE', '/api/secrets/OPENAI_KEY', undefined, { name: 'OPENAI_KEY' })).status,
    ).toBe(200);
    expect(
      (await call(one.DELETE, 'DELETE', '/api/secrets/OPENAI_KEY', undefined, { name: 'OPENAI_KEY' })).status,
    ).toBe(404);
  });

  it('__proto__, constructor and prototype are refused as secret names (400 at /name)', async () => {
    const list = await load('secrets');
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const res = await call(list.POST, 'POST', '/api/secrets', { name, value });
      expect(res.status, name).toBe(400);
      expect((await res.json()).error.details.problems[0].path).toBe('/name');
    }
  });

  it('server mode without TRELLIS_SECRET_KEY answers a clear 422', async () => {
    const { getDb } = await import('@/lib/db/client');
    const store = new SecretStore((await getDb()).prisma, {
      key: () => {
        throw new SecretKeyMissingError();
      },
    });
    const res = toErrorResponse(await store.set('A_KEY', 'value-1').catch((e: unknown) => e));
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error.details.reason).toBe('secret_key_missing');
    expect(body.error.message).toMatch(/TRELLIS_SECRET_KEY/);
  });
});
