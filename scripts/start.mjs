// `npm start`: build when the build is missing or older than the sources, then serve on PORT.
// Listens on 127.0.0.1 unless HOST says otherwise: a fresh install is not reachable from the
// network before its owner exists (first-run takeover, issue 14.3).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
// examples/ is bundled too (lib/server/examples.ts imports the JSON), and so is the Prisma client
// that schema.prisma generates (its generator settings change the bundle).
const SOURCE_DIRS = ['app', 'components', 'lib', 'public', 'examples'];
const SOURCE_FILES = [
  'next.config.js',
  'package.json',
  'postcss.config.mjs',
  'tsconfig.json',
  'prisma/schema.prisma',
];

/** Newest modification time under p (node_modules, generated and dot folders skipped). */
export function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(p, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'generated' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(p, entry.name)));
  }
  return newest;
}

export function buildIsStale() {
  const buildId = path.join(root, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const newest = Math.max(...[...SOURCE_DIRS, ...SOURCE_FILES].map((p) => newestMtime(path.join(root, p))));
  return newest > built;
}

/** The default listen address: loopback only. */
export const DEFAULT_HOST = '127.0.0.1';

/**
 * V8's young generation for the long-lived processes (web, worker), in MB per semi-space. Node's
 * default lets it grow to 16 (32 MB resident once a burst of allocation grew it, and never given
 * back); 4 held ~15–25 MB less per idle process, with no CPU per run that bench:http could see
 * (issue 21, idle memory; bench/README.md, `memory`).
 */
export const SEMI_SPACE_MB = 4;
/** Node flags of a Trellis server process; package.json's `worker` script spells the same. */
export const SERVER_NODE_FLAGS = [`--max-semi-space-size=${SEMI_SPACE_MB}`];

/** `env` with SERVER_NODE_FLAGS added to NODE_OPTIONS (kept when the operator set them already). */
export function serverEnv(env = process.env) {
  const options = (env.NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const missing = SERVER_NODE_FLAGS.filter((f) => !options.some((o) => o.split('=')[0] === f.split('=')[0]));
  return { ...env, NODE_OPTIONS: [...options, ...missing].join(' ') };
}

/**
 * Next's own command line, run by this Node directly: through `npx` a whole npm process (and a
 * shell) would sit between `npm start` and the server for as long as it runs.
 */
export const NEXT_BIN = createRequire(import.meta.url).resolve('next/dist/bin/next');

/** `next start` as a command, and the environment it runs with (HOST passed on for lib/auth). */
export function startCommand(env = process.env) {
  const port = env.PORT || '3000';
  const host = env.HOST || DEFAULT_HOST;
  return {
    command: process.execPath,
    args: [NEXT_BIN, 'start', '-p', port, '-H', host],
    env: serverEnv({ ...env, HOST: host }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (buildIsStale()) {
    console.log('[trellis] building (first start or sources changed)…');
    const r = spawnSync(process.execPath, [NEXT_BIN, 'build'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  const { command, args, env } = startCommand();
  const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}
