import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '@/lib/db/testing/databases';
import { SANDBOX_POOL_SIZE, sandboxStats, shutdownSandbox } from '@/lib/sandbox';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { openDb } from '@/lib/db/client';
import { pgAvailable, tempQueueDb } from '@/lib/queue/testing/queue-db';
import { createRuntime, getRuntime } from './runtime';
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

describe.skipIf(!pgAvailable)('no cold start (server-mode web process)', () => {
  // The web process drives the runs it has slots for (local-runs.ts): it must be as warm as a
  // worker when it says ready; with no slots it executes nothing and starts no sandbox.
  for (const slots of [2, 0]) {
    it(`with ${slots} web run slots: ${slots ? 'its sandbox is up before ready' : 'no sandbox is started'}`, async () => {
      await shutdownSandbox();
      const tmp = await tempQueueDb(`warmweb${slots}`);
      const db = await openDb({ databaseUrl: tmp.url });
      try {
        const rt = await createRuntime({ db, databaseUrl: tmp.url, seed: false, webRunSlots: slots });
        expect(sandboxStats().spawned).toBe(slots ? SANDBOX_POOL_SIZE : 0);
        expect(sandboxStats().tasks).toBe(slots ? 1 : 0);
        await rt.dispatcher.close?.();
      } finally {
        await db.close();
        await tmp.drop();
      }
    }, 120_000);
  }
});
