import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// Issue 21 (idle memory): PGlite is ~45 MB of RSS once imported. A server-mode process (web or
// worker) must never import it: openDb loads it for the embedded database only. A fresh process
// imports what those processes import, with a module hook that refuses PGlite.

const root = path.resolve(import.meta.dirname, '..', '..');

describe('server mode does not load PGlite', () => {
  it('the runtime, the queue worker and the database client import without it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-lazy-pglite-'));
    try {
      const hooks = path.join(dir, 'hooks.mjs');
      fs.writeFileSync(
        hooks,
        `export async function resolve(specifier, context, next) {
          if (specifier.startsWith('@electric-sql/pglite') || specifier === 'pglite-prisma-adapter')
            throw new Error('PGlite imported: ' + specifier);
          return next(specifier, context);
        }`,
      );
      const register = path.join(dir, 'register.mjs');
      fs.writeFileSync(
        register,
        `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});`,
      );
      const probe = ['lib/db/client.ts', 'lib/server/runtime.ts', 'lib/queue/worker.ts']
        .map((f) => `await import(${JSON.stringify(path.join(root, f))});`)
        .join('\n');
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--import',
          pathToFileURL(register).href,
          '--input-type=module',
          '-e',
          `${probe}\nconsole.log('ok');`,
        ],
        { cwd: root, encoding: 'utf8' },
      );
      expect(r.stderr).not.toMatch(/PGlite imported/);
      expect(r.stdout.trim()).toBe('ok');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
