import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from './scripts/find-chromium.mjs';

// The server is started by scripts/e2e.mjs (setsid + process-group kill), not by Playwright,
// so one build serves every spec and a crashed test never leaves a server behind.

const BASE_URL = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3210';
// One session file per server: runs against different servers at once must not swap cookies.
const STORAGE_STATE = `test-results/.auth/state-${new URL(BASE_URL).port || 'default'}.json`;

export default defineConfig({
  // Signs in once (creating the owner on a fresh database); every spec starts with that session.
  globalSetup: './e2e/global-setup.ts',
  testDir: './e2e',
  testMatch: /.*\.spec\.ts/,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    baseURL: BASE_URL,
    storageState: STORAGE_STATE,
    // Cookie-authenticated POSTs must name a matching Origin (CSRF check); the request fixture
    // does not send one by itself.
    extraHTTPHeaders: { origin: new URL(BASE_URL).origin },
    trace: 'off',
    screenshot: 'only-on-failure',
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
  },
});
