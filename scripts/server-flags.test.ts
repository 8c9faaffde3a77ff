import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEMI_SPACE_MB, SERVER_NODE_FLAGS, serverEnv, startCommand } from './start.mjs';

// Issue 21 (idle memory): the web and worker processes run with a young generation of
// SEMI_SPACE_MB per semi-space. Checked where it takes effect: a node started with the environment
// `npm start` gives `next start` keeps its new space within 2 × SEMI_SPACE_MB through an
// allocation burst that grows Node's default to 32 MB.

/** Allocates ~100 MB of short-lived objects, then prints the new space's size in MB. */
const CHURN = `
let keep = [];
for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }
const ns = require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
console.log(ns.space_size / 2 ** 20);`;

function newSpaceMb(env: Record<string, string | undefined>): number {
  const r = spawnSync(process.execPath, ['-e', CHURN], { env: env as NodeJS.ProcessEnv, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

describe('node flags of the server processes', () => {
  it('npm start gives next start a young generation of SEMI_SPACE_MB per semi-space', () => {
    const { NODE_OPTIONS: _, ...plain } = process.env;
    const { env } = startCommand({ ...plain, PORT: '4152' });
    expect(newSpaceMb(env)).toBeLessThanOrEqual(2 * SEMI_SPACE_MB);
    // The same churn without the flags grows past it: the check above can fail.
    expect(newSpaceMb(plain)).toBeGreaterThan(2 * SEMI_SPACE_MB);
  });

  it("keeps the operator's NODE_OPTIONS, and their own semi-space size over ours", () => {
    expect(serverEnv({ NODE_OPTIONS: '--enable-source-maps' }).NODE_OPTIONS).toBe(
      ['--enable-source-maps', ...SERVER_NODE_FLAGS].join(' '),
    );
    expect(serverEnv({ NODE_OPTIONS: '--max-semi-space-size=16' }).NODE_OPTIONS).toBe(
      '--max-semi-space-size=16',
    );
  });

  it("package.json's worker script runs the worker with the same flags", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.worker).toBe(`node ${SERVER_NODE_FLAGS.join(' ')} bin/trellis.mjs worker`);
  });
});
