import fs from 'node:fs';
import path from 'node:path';
import { request, type FullConfig } from '@playwright/test';
import { E2E_EMAIL, E2E_PASSWORD } from './fixtures/sign-in';

// Auth is on for every page and /api route: sign in once (creating the owner on a fresh database)
// and hand every spec the session as storageState. Cookie-authenticated POSTs need a matching
// Origin, which the config sends as an extra header.

export default async function globalSetup(config: FullConfig) {
  const use = config.projects[0]?.use ?? {};
  const baseURL = use.baseURL ?? process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3210';
  // The path the config gives every spec (per server port, see playwright.config.ts).
  const statePath = typeof use.storageState === 'string' ? use.storageState : 'test-results/.auth/state.json';
  const origin = new URL(baseURL).origin;
  const ctx = await request.newContext({ baseURL, extraHTTPHeaders: { origin } });
  try {
    const me = await ctx.get('/api/auth/me');
    const body = (await me.json().catch(() => ({}))) as { setupRequired?: boolean };
    const creds = { data: { email: E2E_EMAIL, password: E2E_PASSWORD } };
    const res = body.setupRequired
      ? await ctx.post('/api/auth/setup', creds)
      : await ctx.post('/api/auth/login', creds);
    if (!res.ok()) throw new Error(`e2e sign-in as ${E2E_EMAIL} failed: ${res.status()} ${await res.text()}`);
    fs.mkdirSync(path.dirname(statePath), { recursive: true });
    await ctx.storageState({ path: statePath });
  } finally {
    await ctx.dispose();
  }
}
