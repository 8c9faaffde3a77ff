// Browser tests: build if stale, start `next start` in its own process group on a fresh
// embedded data dir (or DATABASE_URL), run Playwright, then kill the whole group.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findChromium } from './find-chromium.mjs';
import { buildIsStale } from './start.mjs';

const root = path.resolve(import.meta.dirname, '..');
const PORT = process.env.E2E_PORT ?? '3210';
const BASE = `http://127.0.0.1:${PORT}`;
const SERVER_READY_TIMEOUT_MS = 120_000;

export async function runE2E(extraArgs = []) {
  const chromium = findChromium();
  if (!chromium) {
    console.error(
      '[trellis] No Chromium found. Install it (Debian: `apt-get install chromium`, as root) or set CHROMIUM_PATH.',
    );
    return { code: 1 };
  }
  if (buildIsStale()) {
    const b = spawnSync('npx', ['next', 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) return { code: b.status ?? 1 };
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'trellis-e2e-'));
  const env = { ...process.env, PORT, TRELLIS_DATA_DIR: dataDir, CHROMIUM_PATH: chromium };
  const server = spawn('npx', ['next', 'start', '-p', PORT, '-H', '127.0.0.1'], {
    cwd: root,
    env,
    detached: true, // own process group: we kill the group, next-server children included
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const killGroup = () => {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  process.on('exit', killGroup);
  try {
    const started = Date.now();
    for (;;) {
      try {
        const r = await fetch(`${BASE}/api/health`);
        if (r.ok) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() - started > SERVER_READY_TIMEOUT_MS) throw new Error('server did not become healthy');
      await new Promise((r) => setTimeout(r, 250));
    }
    const pw = spawnSync('npx', ['playwright', 'test', ...extraArgs], {
      cwd: root,
      env: { ...env, E2E_BASE_URL: BASE },
      stdio: 'inherit',
    });
    return { code: pw.status ?? 1 };
  } finally {
    killGroup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { code } = await runE2E(process.argv.slice(2));
  process.exit(code);
}
