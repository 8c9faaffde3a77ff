import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 21 (idle memory): playwright-core is ~70 MB of RSS. Every web and worker process loads the
// node registry, so the browser node must load it on its first step, not at import.

const root = path.resolve(import.meta.dirname, '..', '..');
const probe = `
  import { createRequire } from 'node:module';
  await import(${JSON.stringify(path.join(root, 'lib/nodes/registry.ts'))});
  const require = createRequire(import.meta.url);
  console.log(Object.keys(require.cache).filter((k) => k.includes('playwright-core')).length);
`;

describe('browser node', () => {
  it('loading the node registry does not load playwright-core', () => {
    // A fresh process: this test's own process may have loaded it for other suites.
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('0');
  }, 60_000);
});
