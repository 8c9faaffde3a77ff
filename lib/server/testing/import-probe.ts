import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Issue 21 (idle memory): what a process must not load until it needs it. A fresh Node process
// (the test's own process may have loaded anything for other suites) imports the given modules with
// a module hook that throws on any refused package, then runs `then` (module code, top-level await).

const root = path.resolve(import.meta.dirname, '..', '..', '..');

export interface ProbeResult {
  stdout: string;
  stderr: string;
}

/** Imports `files` (paths from the repository root) in a fresh process where `refused` packages throw. */
export function importRefusing(
  files: string[],
  refused: string[],
  opts: { then?: string; env?: NodeJS.ProcessEnv } = {},
): ProbeResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-import-probe-'));
  try {
    const hooks = path.join(dir, 'hooks.mjs');
    fs.writeFileSync(
      hooks,
      `const refused = ${JSON.stringify(refused)};
      export async function resolve(specifier, context, next) {
        if (refused.some((p) => specifier === p || specifier.startsWith(p + '/')))
          throw new Error('refused import: ' + specifier);
        return next(specifier, context);
      }`,
    );
    const register = path.join(dir, 'register.mjs');
    fs.writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});`,
    );
    const probe = files.map((f) => `await import(${JSON.stringify(path.join(root, f))});`).join('\n');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        pathToFileURL(register).href,
        '--input-type=module',
        '-e',
        `${probe}\n${opts.then ?? ''}\nconsole.log('ok');`,
      ],
      { cwd: root, encoding: 'utf8', env: opts.env ?? process.env },
    );
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
