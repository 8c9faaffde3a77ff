// The app as browser tests and the screenshot script meet it: `next start` (built if stale) on a
// fresh embedded data dir, or on a fresh database of DATABASE_URL with a queue worker beside it,
// and the scripted OpenAI-compatible server as its model. Every process gets its own process
// group, so stop() kills next-server children too.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { buildIsStale, NEXT_BIN, serverEnv } from './start.mjs';

const root = path.resolve(import.meta.dirname, '..');
const SERVER_READY_TIMEOUT_MS = 120_000;
// Run by this Node directly: through `npx` each would keep an npm process (and a shell) resident.
const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');

/** `next build` when the sources are newer than the build; false when the build failed. */
export function buildIfStale() {
  if (!buildIsStale()) return true;
  return spawnSync(process.execPath, [NEXT_BIN, 'build'], { cwd: root, stdio: 'inherit' }).status === 0;
}

/**
 * Starts the app on 127.0.0.1:port with the scripted model on mockLlmPort (`mockLlmArgs` go to
 * lib/agent/testing/mock-llm-server.ts after the port) and waits until both answer.
 */
export async function startStack({ port, mockLlmPort, chromium, mockLlmArgs = [], serverStdio = 'inherit' }) {
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'trellis-stack-'));
  // Server mode: a database of its own, so what the unit suites left behind cannot leak in.
  const pgDb = process.env.DATABASE_URL ? await createFreshDatabase(process.env.DATABASE_URL) : null;
  // Agent steps pick a scenario with their model name ("scenario:tool-then-answer").
  const mockLlm = spawn(
    process.execPath,
    [TSX_CLI, 'lib/agent/testing/mock-llm-server.ts', String(mockLlmPort), ...mockLlmArgs],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  // As `npm start` and `npm run worker` run them (SERVER_NODE_FLAGS).
  const env = serverEnv({
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    TRELLIS_DATA_DIR: dataDir,
    OPENAI_BASE_URL: `http://127.0.0.1:${mockLlmPort}/v1`,
    OPENAI_API_KEY: 'e2e-scripted-model',
  });
  if (chromium) env.CHROMIUM_PATH = chromium;
  if (pgDb) env.DATABASE_URL = pgDb.url;
  // Server mode keeps no key file: web and worker share one key, as every deployment must.
  if (pgDb && !env.TRELLIS_SECRET_KEY) env.TRELLIS_SECRET_KEY = randomBytes(32).toString('hex');
  const server = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', serverStdio, 'inherit'],
  });
  // In server mode (DATABASE_URL) a worker executes the runs the web process has no slot for.
  const worker = pgDb
    ? spawn(process.execPath, ['bin/trellis.mjs', 'worker', '--concurrency', '4'], {
        cwd: root,
        env,
        detached: true,
        stdio: ['ignore', serverStdio, 'inherit'],
      })
    : null;
  const killGroups = () => {
    for (const child of [server, worker, mockLlm]) {
      if (!child) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', killGroups);
  const stop = async () => {
    killGroups();
    rmSync(dataDir, { recursive: true, force: true });
    await pgDb?.drop();
  };
  try {
    const started = Date.now();
    for (;;) {
      try {
        const [app, llm] = await Promise.all([
          fetch(`${base}/api/health`),
          fetch(`http://127.0.0.1:${mockLlmPort}/v1/models`),
        ]);
        if (app.ok && llm.ok) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() - started > SERVER_READY_TIMEOUT_MS) throw new Error('server did not become healthy');
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, env, stop };
}

/** A new empty database beside the one baseUrl names (the e2e stack's, the HTTP bench's). */
export async function createFreshDatabase(baseUrl, prefix = 'trellis_e2e') {
  const { default: pg } = await import('pg');
  const name = `${prefix}_${Date.now()}_${process.pid}`;
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
