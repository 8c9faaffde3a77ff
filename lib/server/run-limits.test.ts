import { describe, expect, it } from 'vitest';
import { openDb } from '@/lib/db/client';
import { tempDataDir } from '@/lib/db/testing/databases';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { DEFAULT_MAX_STEPS_PER_RUN, MAX_STEPS_PER_RUN_LIMIT } from '@/lib/workflow/limits';
import { statusFor } from './http-status';
import { createRuntime } from './runtime';
import { createSandboxServices } from '@/lib/sandbox';

// Issue 14 item 1: a per-run step cap (DEFAULT_MAX_STEPS_PER_RUN, per workflow limits.maxSteps up
// to MAX_STEPS_PER_RUN_LIMIT), checked at validation where map sizes are literal and enforced by
// the engine (run_too_large); a cancelled or over-limit run is not resumed after a restart.

function mapRun(items: string, opts: { maxSteps?: number; onError?: 'continue' } = {}): WorkflowDefinition {
  return {
    schemaVersion: 1,
    name: 'many items',
    ...(opts.maxSteps ? { limits: { maxSteps: opts.maxSteps } } : {}),
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'each',
        type: 'map',
        position: { x: 0, y: 100 },
        ...(opts.onError ? { onError: opts.onError } : {}),
        config: {
          items,
          concurrency: 4,
          body: {
            nodes: [
              { id: 'x', type: 'transform', position: { x: 0, y: 0 }, config: { value: '{{ item }}' } },
            ],
            edges: [],
          },
        },
      },
    ],
    edges: [{ id: 'e', source: 'start', target: 'each' }],
  };
}

describe('per-run step cap', () => {
  it(`validation refuses a run known to exceed its cap (default ${DEFAULT_MAX_STEPS_PER_RUN}, at most ${MAX_STEPS_PER_RUN_LIMIT})`, () => {
    const literal = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => i));
    expect(validateDefinition(mapRun(literal(100), { maxSteps: 200 })).valid).toBe(true);
    const over = validateDefinition(mapRun(literal(100), { maxSteps: 50 }));
    expect(over.valid).toBe(false);
    expect(over.problems).toContainEqual(
      expect.objectContaining({ path: '/limits/maxSteps', code: 'run_too_large' }),
    );
    // Sizes computed at run time are not known here: the engine enforces those.
    expect(
      validateDefinition(mapRun('Array.from({ length: 100 }, (_, i) => i)', { maxSteps: 50 })).valid,
    ).toBe(true);
    const tooHigh = validateDefinition(mapRun('[1]', { maxSteps: MAX_STEPS_PER_RUN_LIMIT + 1 }));
    expect(tooHigh.problems.map((p) => p.path)).toContain('/limits/maxSteps');
    expect(statusFor.run_too_large).toBe(422);
  });

  it('the engine fails a run that reaches its cap with run_too_large, whatever onError says', async () => {
    for (const onError of [undefined, 'continue'] as const) {
      const store = new MemoryTraceStore();
      const engine = createEngine({ store, services: createSandboxServices() });
      const out = await engine.runToCompletion({
        definition: mapRun('Array.from({ length: 100 }, (_, i) => i)', { maxSteps: 30, onError }),
      });
      expect(out.status).toBe('failed');
      expect(out.error?.code).toBe('run_too_large');
      // The cap holds: not one step row beyond it (a few in flight at the moment are the cap's).
      expect((await store.listSteps(out.runId)).length).toBeLessThanOrEqual(30);
    }
  });

  it('a cancelled run and an over-limit run are not resumed after a restart (PGlite)', async () => {
    const dir = tempDataDir();
    try {
      let db = await openDb({ dataDir: dir.dir });
      let rt = await createRuntime({ db, dispatch: 'in-process', seed: false });
      const over = await rt.engine.runToCompletion({
        definition: mapRun('Array.from({ length: 100 }, (_, i) => i)', { maxSteps: 30 }),
      });
      expect(over.error?.code).toBe('run_too_large');
      const big = await rt.engine.startRun({
        definition: mapRun('Array.from({ length: 5000 }, (_, i) => i)'),
      });
      await rt.dispatcher.enqueue(big);
      const count = async (id: string) =>
        (
          await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Step" WHERE "runId" = $1`, [id])
        )[0].n;
      const t0 = Date.now();
      while ((await count(big)) < 50 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
      expect(await rt.engine.cancelRun(big)).toBe(true);
      await rt.dispatcher.settled(big);
      await rt.store.flush();
      const before = { over: await count(over.runId), big: await count(big) };
      await rt.dispatcher.close?.();
      await db.close();

      db = await openDb({ dataDir: dir.dir });
      rt = await createRuntime({ db, dispatch: 'in-process', seed: false }); // recover() runs here
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await rt.store.getRun(over.runId))?.status).toBe('failed');
      expect((await rt.store.getRun(big))?.status).toBe('cancelled');
      expect({ over: await count(over.runId), big: await count(big) }).toEqual(before);
      await db.close();
    } finally {
      dir.remove();
    }
  }, 90_000);
});
