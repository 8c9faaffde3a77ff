import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { createEngine } from '@/lib/engine/engine';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { triageDefinition, triageTickets } from '@/lib/promotion/testing/triage';
import { hostEngineOptions } from '@/lib/server/runtime';
import { shutdownSandbox } from '@/lib/sandbox';
import { backtestCommand, EXIT_BAD_ARGS, EXIT_BELOW, EXIT_PASS, parseScorer } from './backtest';

// `trellis backtest` on a real embedded database whose history real runs wrote, against the
// scripted model server: the exit code gates on --min-agreement (the model agrees on 32 of 40).

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-cli-backtest-'));
const saved = { ...process.env };
let db: Db;
let mock: MockLlmServer;
let wid = '';

beforeAll(async () => {
  mock = await startMockLlmServer();
  process.env.OPENAI_BASE_URL = mock.baseURL;
  process.env.OPENAI_API_KEY = 'mock';
  process.env.OPENAI_MODEL = 'scenario:echo';
  db = await openDb({ dataDir: path.join(dir, 'data') });
  const definition = triageDefinition();
  const created = await wfRepo.createWorkflow(db.prisma, { name: 'Triage CLI', definition });
  wid = created.id;
  const store = new SqlTraceStore(db);
  const engine = createEngine({ store, ...hostEngineOptions(db) });
  for (const t of triageTickets()) {
    const out = await engine.runToCompletion({
      definition,
      workflowId: wid,
      version: 1,
      input: { text: t.text },
    });
    expect(out.status).toBe('succeeded');
  }
  await store.flush();
});
afterAll(async () => {
  await shutdownSandbox();
  await db?.close();
  await mock?.close();
  process.env = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

const capture = () => {
  const out = { lines: [] as string[], errors: [] as string[] };
  return { out, io: { log: (s: string) => out.lines.push(s), error: (s: string) => out.errors.push(s) } };
};

describe('trellis backtest', () => {
  it('exits 0 when agreement reaches --min-agreement, 1 below it; --json prints the report', async () => {
    const ok = capture();
    expect(await backtestCommand(wid, 'label', { minAgreement: '0.8', json: true, db }, ok.io)).toBe(
      EXIT_PASS,
    );
    const body = JSON.parse(ok.out.lines[0]);
    expect(body).toMatchObject({
      pass: true,
      minAgreement: 0.8,
      backtest: { status: 'succeeded' },
      report: { cases: 40, agreed: 32 },
    });
    expect(body.report.failureTypes[0]).toMatchObject({ key: 'diff:/label', count: 8 });

    const below = capture();
    // By name this time; the text report names the failure type.
    expect(await backtestCommand('Triage CLI', 'label', { minAgreement: '0.81', db }, below.io)).toBe(
      EXIT_BELOW,
    );
    expect(below.out.lines[0]).toMatch(/succeeded: 32\/40 agree \(80\.0%\), minimum 81\.0%/);
    expect(below.out.lines.some((l) => /\b8\s+diff:\/label$/.test(l))).toBe(true);
  });

  it('--runs and --scorer shape the request', async () => {
    const r = capture();
    expect(
      await backtestCommand(
        wid,
        'label',
        { runs: '10', scorer: 'fields:/label', minAgreement: '0', json: true, db },
        r.io,
      ),
    ).toBe(EXIT_PASS);
    const body = JSON.parse(r.out.lines[0]);
    expect(body.backtest.request).toMatchObject({
      runs: { limit: 10 },
      scorer: { kind: 'fields', fields: ['/label'] },
    });
    expect(body.report.cases).toBe(10);
  });

  it('bad arguments exit 2 naming the flag', async () => {
    const cases: [Parameters<typeof backtestCommand>[2], RegExp][] = [
      [{ runs: '5000' }, /^--runs:/],
      [{ minAgreement: '2' }, /--min-agreement/],
      [{ scorer: 'fields:label' }, /^--scorer \(\/scorer\/fields\/0\)/],
      [{ scorer: 'nope' }, /^--scorer/],
      [{ tools: 'all' }, /^--tools/],
    ];
    for (const [opts, msg] of cases) {
      const c = capture();
      expect(await backtestCommand(wid, 'label', { ...opts, db }, c.io)).toBe(EXIT_BAD_ARGS);
      expect(c.out.errors.join('\n')).toMatch(msg);
    }
    const node = capture();
    expect(await backtestCommand(wid, 'nope', { db }, node.io)).toBe(EXIT_BAD_ARGS);
    expect(node.out.errors[0]).toMatch(/^<node>:/);
    const wf = capture();
    expect(await backtestCommand('no such workflow', 'label', { db }, wf.io)).toBe(EXIT_BAD_ARGS);
  });

  it('parses scorer specs', async () => {
    expect(await parseScorer('numeric:5%')).toEqual({ kind: 'numeric', tolerance: 0.05, relative: true });
    expect(await parseScorer('numeric:0.5')).toEqual({ kind: 'numeric', tolerance: 0.5 });
    expect(await parseScorer('code:return 1;')).toEqual({ kind: 'code', code: 'return 1;' });
    expect(await parseScorer('{"kind":"exact"}')).toEqual({ kind: 'exact' });
    expect(await parseScorer('llm_judge:same meaning')).toEqual({
      kind: 'llm_judge',
      criteria: 'same meaning',
    });
  });
});
