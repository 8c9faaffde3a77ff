import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCli, cliIsStale } from '../scripts/build-cli.mjs';

// The bundled CLI that bin/trellis.mjs runs (scripts/build-cli.mjs): plain Node, no TypeScript
// loader. Run from a folder outside the repository, so the helper files it starts (the sandbox's
// worker thread, the embedded database's initdb child) must be found beside the bundle. The bundle
// itself sits in the repository (under dist/, as deployed): its packages resolve from node_modules.

const root = path.resolve(import.meta.dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-cli-bundle-'));
const out = path.join(root, 'dist', `test-${process.pid}`);
const bundle = path.join(out, 'cli', 'trellis.mjs');
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
});

const shout = {
  schemaVersion: 1,
  name: 'shout',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    // An expression, not a plain reference: it runs in the QuickJS worker thread.
    {
      id: 'out',
      type: 'output',
      position: { x: 0, y: 100 },
      config: { value: '{{ input.name.toUpperCase() }}' },
    },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'out' }],
};

describe('bundled CLI', () => {
  it('builds one file that runs a workflow with plain node from another folder', async () => {
    await buildCli(bundle);
    expect(cliIsStale(bundle)).toBe(false);
    const text = fs.readFileSync(bundle, 'utf8');
    // The repository's TypeScript is inside; packages stay imports.
    expect(text).not.toMatch(/from ["']@\//);
    expect(text).toMatch(/from ["']@electric-sql\/pglite["']|import\(["']@electric-sql\/pglite["']\)/);

    const file = path.join(dir, 'shout.json');
    fs.writeFileSync(file, JSON.stringify(shout));
    const r = spawnSync(process.execPath, [bundle, 'run', file, '--input', '{"name":"ada"}', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        TRELLIS_DATA_DIR: path.join(dir, 'data'),
        TRELLIS_MIGRATIONS_DIR: path.join(root, 'prisma', 'migrations'),
        DATABASE_URL: '',
        NODE_OPTIONS: '',
      },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', output: 'ADA' });
  }, 180_000);
});
