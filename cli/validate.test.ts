import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_DEFINITION_FILE_BYTES, validateCommand } from './validate';

const FIXTURES = path.join(import.meta.dirname, '..', 'lib', 'workflow', 'fixtures');
const dir = mkdtempSync(path.join(tmpdir(), 'trellis-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runCli(file: string) {
  const log: string[] = [];
  const error: string[] = [];
  const code = await validateCommand(file, { log: (l) => log.push(l), error: (l) => error.push(l) });
  return { code, log, error };
}

describe('trellis validate', () => {
  it('exits 0 on a valid file', async () => {
    const r = await runCli(path.join(FIXTURES, 'valid-triage.json'));
    expect(r).toMatchObject({ code: 0, error: [] });
    expect(r.log[0]).toMatch(/valid/);
  });

  it('exits 1 with one `path: message` line per problem', async () => {
    const r = await runCli(path.join(FIXTURES, 'invalid', 'duplicate-ids.json'));
    expect(r.code).toBe(1);
    expect(r.log).toEqual([
      '/nodes/3/id: node id "a" is used more than once',
      '/edges/2/id: edge id "e2" is used more than once',
    ]);
    const root = await runCli(path.join(FIXTURES, 'invalid', 'not-object.json'));
    expect(root.log).toEqual(['/: a workflow definition must be a JSON object']);
  });

  it('exits 2 on a missing file, a directory or text that is not JSON', async () => {
    expect((await runCli(path.join(dir, 'missing.json'))).code).toBe(2);
    expect((await runCli(dir)).code).toBe(2);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{ "schemaVersion": 1, ');
    const r = await runCli(bad);
    expect(r.code).toBe(2);
    expect(r.error[0]).toMatch(/not valid JSON/);
  });

  it('accepts a byte-order mark', async () => {
    const f = path.join(dir, 'bom.json');
    writeFileSync(f, '\uFEFF' + readFileSync(path.join(FIXTURES, 'valid-triage.json'), 'utf8'));
    expect((await runCli(f)).code).toBe(0);
  });

  it(`refuses files over MAX_DEFINITION_FILE_BYTES (${MAX_DEFINITION_FILE_BYTES}) without parsing them`, async () => {
    const f = path.join(dir, 'huge.json');
    writeFileSync(f, '[' + ' '.repeat(MAX_DEFINITION_FILE_BYTES) + ']');
    const r = await runCli(f);
    expect(r.code).toBe(1);
    expect(r.log[0]).toMatch(/limit/);
    const deep = path.join(dir, 'deep.json');
    writeFileSync(deep, '['.repeat(100_000) + ']'.repeat(100_000));
    expect(await runCli(deep)).toMatchObject({
      code: 1,
      log: ['/: a workflow definition must be a JSON object'],
    });
  });
});
