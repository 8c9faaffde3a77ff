import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { shutdownSandbox } from '@/lib/sandbox';
import { EXIT_BAD_INPUT, EXIT_RUN_FAILED, EXIT_SUCCEEDED, runCommand } from './run';

// `trellis run` against a real embedded database (PGlite in a temp folder).

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-cli-run-'));
let db: Db;
beforeAll(async () => {
  db = await openDb({ dataDir: path.join(dir, 'data') });
});
afterAll(async () => {
  await shutdownSandbox();
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, value: unknown) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
};

const capture = () => {
  const out = { lines: [] as string[], errors: [] as string[] };
  return { out, io: { log: (s: string) => out.lines.push(s), error: (s: string) => out.errors.push(s) } };
};

const greet = {
  schemaVersion: 1,
  name: 'greet',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    {
      id: 'hello',
      type: 'output',
      position: { x: 0, y: 100 },
      config: { value: { text: 'hello {{ input.name }}' } },
    },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'hello' }],
};

describe('trellis run', () => {
  it('runs a definition, prints its output and run id, exits 0', async () => {
    const { out, io } = capture();
    const code = await runCommand(write('greet.json', greet), { input: '{"name":"Ada"}', db }, io);
    expect(code).toBe(EXIT_SUCCEEDED);
    expect(JSON.parse(out.lines[0])).toEqual({ text: 'hello Ada' });
    const runId = /^run (\S+) succeeded$/.exec(out.lines[1])?.[1];
    const run = await new SqlTraceStore(db).getRun(runId!);
    expect(run).toMatchObject({ status: 'succeeded', output: { text: 'hello Ada' } });
  });

  it('--json prints one JSON object with the run id, status and output', async () => {
    const { out, io } = capture();
    expect(
      await runCommand(write('greet2.json', greet), { input: '{"name":"Bo"}', json: true, db }, io),
    ).toBe(EXIT_SUCCEEDED);
    expect(JSON.parse(out.lines[0])).toMatchObject({
      status: 'succeeded',
      output: { text: 'hello Bo' },
      error: null,
    });
    expect(JSON.parse(out.lines[0]).runId).toMatch(/[0-9a-f-]{36}/);
  });

  it('exits 1 when the run fails', async () => {
    const failing = {
      ...greet,
      nodes: [
        greet.nodes[0],
        { id: 'boom', type: 'code', position: { x: 0, y: 0 }, config: { code: 'throw new Error("boom")' } },
      ],
      edges: [{ id: 'e1', source: 'start', target: 'boom' }],
    };
    const { out, io } = capture();
    expect(await runCommand(write('fail.json', failing), { json: true, db }, io)).toBe(EXIT_RUN_FAILED);
    expect(JSON.parse(out.lines[0])).toMatchObject({ status: 'failed' });
    expect(JSON.stringify(JSON.parse(out.lines[0]).error)).toContain('boom');
  });

  it('exits 2 on an invalid definition, bad --input or unreadable file, without running', async () => {
    const a = capture();
    expect(
      await runCommand(
        write('bad.json', { ...greet, edges: [{ id: 'e1', source: 'start', target: 'nope' }] }),
        { db },
        a.io,
      ),
    ).toBe(EXIT_BAD_INPUT);
    expect(a.out.errors.join('\n')).toMatch(/\/edges\/0/);
    const b = capture();
    expect(await runCommand(write('greet3.json', greet), { input: '{nope', db }, b.io)).toBe(EXIT_BAD_INPUT);
    const c = capture();
    expect(await runCommand(path.join(dir, 'missing.json'), { db }, c.io)).toBe(EXIT_BAD_INPUT);
  });

  it('opens the configured embedded database itself when none is given', async () => {
    const prev = process.env.TRELLIS_DATA_DIR;
    const prevUrl = process.env.DATABASE_URL;
    // This case is about embedded mode; CI also sets DATABASE_URL for the Postgres variants.
    delete process.env.DATABASE_URL;
    process.env.TRELLIS_DATA_DIR = path.join(dir, 'own');
    try {
      const { out, io } = capture();
      expect(await runCommand(write('greet4.json', greet), { input: '{"name":"Cy"}', json: true }, io)).toBe(
        EXIT_SUCCEEDED,
      );
      expect(JSON.parse(out.lines[0]).output).toEqual({ text: 'hello Cy' });
      expect(fs.existsSync(path.join(dir, 'own', 'db'))).toBe(true);
    } finally {
      if (prev === undefined) delete process.env.TRELLIS_DATA_DIR;
      else process.env.TRELLIS_DATA_DIR = prev;
      if (prevUrl !== undefined) process.env.DATABASE_URL = prevUrl;
    }
  });
});
