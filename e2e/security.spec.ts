import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect, request, test } from '@playwright/test';
import { NEXT_BIN } from '../scripts/start.mjs';
import { E2E_EMAIL, E2E_PASSWORD } from './fixtures/sign-in';

// The sign-in story in a browser. First-run setup needs a database without an owner, which the
// shared server no longer has (global-setup created one), so that test starts its own server on a
// fresh data dir from the same build, in its own process group.

const OWNER = { email: 'owner@security.test', password: 'security-spec-password' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test.describe('first run on a fresh server', () => {
  test.use({ storageState: { cookies: [], origins: [] }, extraHTTPHeaders: {} });
  let server: ChildProcess | undefined;
  let base = '';
  let dataDir = '';

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-e2e-security-'));
    server = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], {
      env: {
        ...process.env,
        TRELLIS_DATA_DIR: dataDir,
        TRELLIS_API_TOKEN: '',
        DATABASE_URL: '',
        PORT: String(port),
      },
      detached: true,
      stdio: 'ignore',
    });
    const started = Date.now();
    for (;;) {
      const ok = await fetch(`${base}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() - started > 150_000) throw new Error('security server did not start');
      await new Promise((r) => setTimeout(r, 300));
    }
  });

  test.afterAll(() => {
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('setup page → owner created → sign out → API 401 → sign in → works', async ({ page }) => {
    await page.goto(`${base}/workflows`);
    await expect(page).toHaveURL(/\/setup$/);
    await expect(page.getByRole('heading', { name: 'Create the owner account' })).toBeVisible();
    await page.getByLabel('Email').fill(OWNER.email);
    const password = page.getByLabel('Password', { exact: true });
    // The rule is said before the first try, as the field's description.
    await expect(password).toHaveAccessibleDescription(/At least \d+ characters/);
    await password.fill(OWNER.password);
    await page.getByLabel('Confirm password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/workflows/);
    await expect(page.getByLabel('Signed in as')).toHaveText(OWNER.email);

    const cookie = (await page.context().cookies()).find((c) => c.name === 'trellis_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');

    // Setup is one-time.
    await page.goto(`${base}/setup`);
    await expect(page).toHaveURL(/\/login$/);
    await page.goto(`${base}/workflows`);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login/);
    expect((await page.request.get(`${base}/api/workflows`)).status()).toBe(401);
    await page.goto(`${base}/runs`);
    await expect(page).toHaveURL(/\/login\?next=%2Fruns$/);

    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('Wrong email or password')).toBeVisible();
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/runs$/);
    expect((await page.request.get(`${base}/api/workflows`)).status()).toBe(200);
  });
});

test('API token: created in Settings, shown once, works as Bearer, revoked', async ({ page, baseURL }) => {
  await page.goto('/settings');
  const name = `e2e-token-${Date.now()}`;
  await page.getByLabel('Token name').fill(name);
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByLabel('New API token').textContent())!.trim();
  expect(token).toMatch(/^trt_/);
  await expect(page.getByRole('list', { name: 'API tokens' })).toContainText(name);

  const anon = await request.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  try {
    expect((await anon.get('/api/workflows')).status()).toBe(401);
    const ok = await anon.get('/api/workflows', { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status()).toBe(200);
    // Bearer requests need no Origin: a browser cannot attach this header cross-site.
    const post = await anon.post('/api/validate', {
      headers: { authorization: `Bearer ${token}` },
      data: { schemaVersion: 1, name: 'x', nodes: [], edges: [] },
    });
    expect(post.status()).toBe(200);
    const list = await (await page.request.get('/api/tokens')).text();
    expect(list).not.toContain(token);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `Revoke token ${name}` }).click();
    await expect(page.getByRole('list', { name: 'API tokens' })).not.toContainText(name);
    expect(
      (await anon.get('/api/workflows', { headers: { authorization: `Bearer ${token}` } })).status(),
    ).toBe(401);
  } finally {
    await anon.dispose();
  }
});

test('CSRF: a cookie-authenticated POST from another origin is 403; no CORS headers', async ({ request }) => {
  const def = { schemaVersion: 1, name: 'csrf', nodes: [], edges: [] };
  const same = await request.post('/api/validate', { data: def });
  expect(same.status()).toBe(200);
  const evil = await request.post('/api/workflows', {
    data: { name: 'csrf', definition: def },
    headers: { origin: 'https://evil.example' },
  });
  expect(evil.status()).toBe(403);
  expect((await evil.json()).error.code).toBe('forbidden');
  const read = await request.get('/api/workflows', { headers: { origin: 'https://evil.example' } });
  expect(read.headers()['access-control-allow-origin']).toBeUndefined();
});

test('security headers on pages, API answers (2xx and errors) and static files; HSTS only over https', async ({
  request,
  page,
}) => {
  await page.goto('/workflows');
  const script = await page.evaluate(
    () => [...document.querySelectorAll('script[src]')].map((s) => (s as HTMLScriptElement).src)[0],
  );
  const paths = [
    '/workflows',
    '/login',
    '/api/health',
    '/api/workflows',
    '/api/runs/nope',
    new URL(script).pathname,
  ];
  for (const p of paths) {
    const res = await request.get(p, { maxRedirects: 0 });
    const h = res.headers();
    expect(h['content-security-policy'], p).toContain("frame-ancestors 'none'");
    expect(h['x-frame-options'], p).toBe('DENY');
    expect(h['x-content-type-options'], p).toBe('nosniff');
    expect(h['referrer-policy'], p).toBe('strict-origin-when-cross-origin');
    expect(h['strict-transport-security'], p).toBeUndefined();
  }
  const viaHttps = await request.get('/api/health', { headers: { 'x-forwarded-proto': 'https' } });
  expect(viaHttps.headers()['strict-transport-security']).toMatch(/max-age=\d+/);
  // The app still works under the policy: the editor list renders and its script ran.
  await expect(page.getByRole('heading', { name: /workflows/i }).first()).toBeVisible();
});

test('DNS rebinding: a foreign Host gets 421 for pages and API', async ({ baseURL }) => {
  const port = new URL(baseURL!).port;
  for (const p of ['/workflows', '/api/health']) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: p, headers: { host: `rebind.attacker.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status, p).toBe(421);
  }
});

test('no open redirect after sign-in: next=/%09/evil.example stays on this origin', async ({
  browser,
  baseURL,
}) => {
  const ctx = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await ctx.newPage();
  try {
    await page.goto(`${baseURL}/login?next=/%09/evil.example/`);
    await page.getByLabel('Email').fill(E2E_EMAIL);
    await page.getByLabel('Password').fill(E2E_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/workflows' || u.origin !== new URL(baseURL!).origin);
    expect(new URL(page.url()).origin).toBe(new URL(baseURL!).origin);
  } finally {
    await ctx.close();
  }
});
