// postinstall: `prisma generate` into lib/db/generated (git-ignored), offline and on a fresh clone.
// The Prisma CLI insists on locating a schema engine binary even though generate never runs it, and
// the download host is unreachable here; any existing file satisfies the check.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'node_modules/prisma/build/index.js');
if (!fs.existsSync(cli)) {
  console.warn('prisma-generate: prisma is not installed yet; skipping');
  process.exit(0);
}
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
const result = spawnSync(
  process.execPath,
  [cli, 'generate', '--schema', path.join(root, 'prisma/schema.prisma')],
  {
    cwd: root,
    env,
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
