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
const MOCK_LLM_PORT = process.env.E2E_MOCK_LLM_PORT ?? '3219';

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
  // Server mode: a database of its own, so what the unit suites left behind cannot leak in.
  const pgDb = process.env.DATABASE_URL ? await createFreshDatabase(process.env.DATABASE_URL) : null;
  // The scripted OpenAI-compatible server (lib/agent/testing/mock-llm-server.ts) is the app's model in
  // browser tests: agent steps pick a scenario with their model name ("scenario:tool-then-answer").
  const mockLlm = spawn('npx', ['tsx', 'lib/agent/testing/mock-llm-server.ts', MOCK_LLM_PORT], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const env = {
    ...process.env,
    PORT,
    HOST: '127.0.0.1',
    TRELLIS_DATA_DIR: dataDir,
    CHROMIUM_PATH: chromium,
    OPENAI_BASE_URL: `http://127.0.0.1:${MOCK_LLM_PORT}/v1`,
    OPENAI_API_KEY: 'e2e-scripted-model',
  };
  if (pgDb) env.DATABASE_URL = pgDb.url;
  const server = spawn('npx', ['next', 'start', '-p', PORT, '-H', '127.0.0.1'], {
    cwd: root,
    env,
    detached: true, // own process group: we kill the group, next-server children included
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // In server mode (DATABASE_URL) the web process only enqueues: a worker executes the runs.
  const worker = process.env.DATABASE_URL
    ? spawn('npx', ['tsx', 'cli/trellis.ts', 'worker', '--concurrency', '4'], {
        cwd: root,
        env,
        detached: true,
        stdio: ['ignore', 'inherit', 'inherit'],
      })
    : null;
  const killGroup = () => {
    for (const child of [server, worker, mockLlm]) {
      if (!child) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', killGroup);
  try {
    const started = Date.now();
    for (;;) {
      try {
        const [app, llm] = await Promise.all([
          fetch(`${BASE}/api/health`),
          fetch(`http://127.0.0.1:${MOCK_LLM_PORT}/v1/models`),
        ]);
        if (app.ok && llm.ok) break;
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
    await pgDb?.drop();
  }
}

async function createFreshDatabase(baseUrl) {
  const { default: pg } = await import('pg');
  const name = `trellis_e2e_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await c.end();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { code } = await runE2E(process.argv.slice(2));
  process.exit(code);
}
