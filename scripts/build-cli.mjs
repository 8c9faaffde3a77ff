// The CLI (`trellis worker`, `trellis run`, …) bundled into one JavaScript file that plain Node runs
// (issue 21, memory). Under tsx a long-lived `trellis worker` also kept tsx's loader, the TypeScript
// it had transformed and an esbuild service process for as long as it ran: idle, 189–202 MB plus
// 17 MB for esbuild, against 138 MB bundled (bench/README.md, "Idle memory").
//
// Packages stay imports (resolved from node_modules); only the repository's TypeScript is bundled.
// The plain JavaScript files that are started as threads or processes of their own are copied
// beside the bundle, where their loaders look first (`new URL('./worker.mjs', import.meta.url)`).
import fs from 'node:fs';
import path from 'node:path';
import { newestMtime } from './start.mjs';

const root = path.resolve(import.meta.dirname, '..');

/** Where `bin/trellis.mjs` runs the CLI from. Git-ignored; rebuilt when older than the sources. */
export const CLI_BUNDLE = path.join(root, 'dist', 'cli', 'trellis.mjs');

const HELPERS = ['lib/sandbox/worker.mjs', 'lib/sandbox/jq-worker.mjs', 'lib/db/pglite-initdb.mjs'];
const SOURCES = [
  'cli',
  'lib',
  'examples',
  'prisma/schema.prisma',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];

export function cliIsStale(bundle = CLI_BUNDLE) {
  if (!fs.existsSync(bundle)) return true;
  const built = fs.statSync(bundle).mtimeMs;
  return Math.max(...SOURCES.map((p) => newestMtime(path.join(root, p)))) > built;
}

/** Bundles cli/trellis.ts to `bundle` (written under a temporary name, then renamed: a second
 * process building at the same time never runs half a file). */
export async function buildCli(bundle = CLI_BUNDLE) {
  // Loaded only to build: a worker that finds its bundle fresh never holds esbuild.
  const esbuild = await import('esbuild');
  const dir = path.dirname(bundle);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bundle}.${process.pid}.tmp`;
  try {
    await esbuild.build({
      entryPoints: [path.join(root, 'cli', 'trellis.ts')],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      tsconfig: path.join(root, 'tsconfig.json'),
      logLevel: 'warning',
    });
  } finally {
    // The esbuild service is a process of its own (~17 MB): not kept beside a worker.
    await esbuild.stop();
  }
  for (const helper of HELPERS)
    fs.copyFileSync(path.join(root, helper), path.join(dir, path.basename(helper)));
  fs.renameSync(tmp, bundle);
  return bundle;
}

/** The bundle, built first when missing or stale. */
export async function ensureCli(bundle = CLI_BUNDLE) {
  return cliIsStale(bundle) ? buildCli(bundle) : bundle;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await buildCli());
}
