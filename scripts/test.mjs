// `npm test`: lint, typecheck, Vitest, Playwright. Ends with one line `N passed, N failed`
// adding up Vitest's and Playwright's counts, so a run that executed nothing is visible.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runE2E } from './e2e.mjs';

const root = path.resolve(import.meta.dirname, '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
let passed = 0;
let failed = 0;
const problems = [];

function step(name, ok) {
  if (!ok) problems.push(name);
}

step('lint', run('npx', ['eslint', '.', '--max-warnings', '0']) === 0);
step('format', run('npx', ['prettier', '--check', '.']) === 0);
step('import cycles', run('node', ['scripts/check-cycles.mjs']) === 0);
step('typecheck', run('npx', ['tsc', '--noEmit']) === 0);

const vitestJson = path.join(root, 'test-results', 'vitest.json');
rmSync(vitestJson, { force: true });
run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${vitestJson}`]);
if (existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  if (r.numFailedTests > 0 || r.numFailedTestSuites > 0 || !r.success) step('vitest', false);
  if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) failed += r.numFailedTestSuites;
} else step('vitest (no report)', false);

const e2eJson = path.join(root, 'test-results', 'e2e.json');
rmSync(e2eJson, { force: true });
const e2e = await runE2E();
if (existsSync(e2eJson)) {
  const s = JSON.parse(readFileSync(e2eJson, 'utf8')).stats ?? {};
  passed += (s.expected ?? 0) + (s.flaky ?? 0);
  failed += s.unexpected ?? 0;
}
step('e2e', e2e.code === 0);

if (problems.length) console.log(`\nFailed: ${problems.join(', ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(problems.length ? 1 : 0);
