// Browser tests: build if stale, start the app (scripts/stack.mjs: `next start` in its own
// process group on a fresh embedded data dir or DATABASE_URL, the scripted model beside it), run
// Playwright, then stop the whole stack.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { findChromium } from './find-chromium.mjs';
import { buildIfStale, startStack } from './stack.mjs';

const root = path.resolve(import.meta.dirname, '..');
const PORT = process.env.E2E_PORT ?? '3210';
const MOCK_LLM_PORT = process.env.E2E_MOCK_LLM_PORT ?? '3219';

export async function runE2E(extraArgs = []) {
  const chromium = findChromium();
  if (!chromium) {
    console.error(
      '[trellis] No Chromium found. Install it (Debian: `apt-get install chromium`, as root) or set CHROMIUM_PATH.',
    );
    return { code: 1 };
  }
  if (!buildIfStale()) return { code: 1 };
  const stack = await startStack({ port: PORT, mockLlmPort: MOCK_LLM_PORT, chromium });
  try {
    const pw = spawnSync('npx', ['playwright', 'test', ...extraArgs], {
      cwd: root,
      env: { ...stack.env, E2E_BASE_URL: stack.base },
      stdio: 'inherit',
    });
    return { code: pw.status ?? 1 };
  } finally {
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { code } = await runE2E(process.argv.slice(2));
  process.exit(code);
}
