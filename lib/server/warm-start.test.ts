import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '@/lib/db/testing/databases';
import { SANDBOX_POOL_SIZE, sandboxStats, shutdownSandbox } from '@/lib/sandbox';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { getRuntime } from './runtime';
import { closeProcessRuntime, loadRoute, callJson } from './testing/route-harness';
import { warmExecutePath } from './warm-up';

// Issue 21 (no cold start): the web process warms the sandbox before /api/health answers, so the
// first run after "ready" starts no sandbox worker (counted, not timed). The worker process warms
// before it takes its first job (cli/worker.ts).

const def: WorkflowDefinition = {
  schemaVersion: 1,
  name: 'warm',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    { id: 't', type: 'transform', position: { x: 0, y: 100 }, config: { value: '{{ input.n + 1 }}' } },
    { id: 'out', type: 'output', position: { x: 0, y: 200 }, config: { value: '{{ steps.t.output }}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 't' },
    { id: 'e2', source: 't', target: 'out' },
  ],
} as WorkflowDefinition;

describe('no cold start (embedded web process)', () => {
  const tmp = tempDataDir('trellis-warm-start-');
  const saved = { ...process.env };
  beforeAll(async () => {
    // A sandbox that has never run (each test file has its own process; this makes it explicit).
    await shutdownSandbox();
    delete process.env.DATABASE_URL;
    process.env.TRELLIS_DATA_DIR = tmp.dir;
  });
  afterAll(async () => {
    await closeProcessRuntime();
    process.env = saved;
    tmp.remove();
  });

  it('has its sandbox workers up when /api/health answers, and the first run starts none', async () => {
    const { GET } = await loadRoute('health');
    const health = await callJson(GET, '/api/health');
    expect(health.status).toBe(200);
    expect(sandboxStats().spawned).toBe(SANDBOX_POOL_SIZE);
    // The rest of a run's path was warmed too (warm-up.ts): the warm-up workflow's expressions
    // has been evaluated (its output is a plain reference, read without the sandbox), and it left
    // no run behind.
    expect(sandboxStats().tasks).toBe(1);

    const rt = await getRuntime();
    const [{ runs }] = await rt.db.sql.query<{ runs: number }>(`SELECT count(*)::int AS runs FROM "Run"`);
    expect(runs).toBe(0);
    const runId = await rt.engine.startRun({
      definition: def,
      workflowId: null,
      versionId: null,
      version: 1,
      input: { n: 41 },
      trigger: 'manual',
    });
    await rt.dispatcher.enqueue(runId);
    expect((await rt.dispatcher.settled(runId))?.output).toBe(42);
    expect(sandboxStats().spawned).toBe(SANDBOX_POOL_SIZE);
  }, 180_000);
});

describe('the warm-up run', () => {
  it('runs the webhook → expression → output path in memory and answers its output', async () => {
    expect(await warmExecutePath()).toEqual({ v: 42 });
  });
});
