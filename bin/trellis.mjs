#!/usr/bin/env node
// The package's `bin`: runs the TypeScript CLI through tsx's loader (a dependency), so
// `npx trellis …` needs no build step.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const tsxCli = require.resolve('tsx/cli');
const r = spawnSync(
  process.execPath,
  [tsxCli, path.join(root, 'cli', 'trellis.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(r.status ?? 1);
