import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateDefinition } from '@/lib/nodes/validate-definition';

// `trellis import n8n <file>` as a user runs it: a real process, the definition on stdout and
// the report on stderr, so `trellis import n8n wf.json > trellis.json` does what it says.

const root = path.resolve(import.meta.dirname, '..');
const fixture = path.join(root, 'lib', 'import', 'fixtures', 'n8n', 'legacy-and-unsupported.json');
const cli = (...args: string[]) =>
  spawnSync('npx', ['tsx', 'cli/trellis.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('trellis import n8n', () => {
  it('prints a valid definition on stdout and the report on stderr', () => {
    const r = cli('import', 'n8n', fixture);
    expect(r.status).toBe(0);
    const def = JSON.parse(r.stdout);
    expect(validateDefinition(def)).toEqual({ valid: true, problems: [] });
    expect(r.stderr).toMatch(/5 mapped, 2 approximated, 3 placeholder, 1 dropped/);
    expect(r.stderr).toMatch(
      /placeholder\s+Read sheet \(n8n-nodes-base\.googleSheets\) → Read_sheet: n8n node type/,
    );
  });

  it('fails with a clear message for a file that is not an n8n export, and on an unknown format', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-cli-import-'));
    const file = path.join(dir, 'x.json');
    fs.writeFileSync(file, JSON.stringify({ hello: 'world' }));
    const r = cli('import', 'n8n', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Not an n8n workflow export: \/nodes/);
    expect(cli('import', 'zapier', file).status).toBe(2);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
