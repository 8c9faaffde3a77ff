import { afterAll, describe, expect, it, vi } from 'vitest';
import { createEngine } from '@/lib/engine/engine';
import { nodesWithProbe, okRun, pgliteStore, ProbeLog } from '@/lib/engine/testing/harness';
import { MemoryWorkflowSource } from '@/lib/engine/workflow-source';
import { createSandboxServices, shutdownSandbox } from '@/lib/sandbox';
import { RETRY_DRIVE_TIMES, createInProcessDispatcher } from './dispatcher';

// Embedded mode has no job queue to retry a run whose drive rejected (the engine could not read
// its secrets or trace): the in-process dispatcher does, a bounded number of times. On the PGlite
// store the embedded host uses, whose queued → running start is deferred into the next batch.

afterAll(() => shutdownSandbox());

const definition = okRun();

describe('in-process dispatcher', () => {
  const setup = async (failReads: number) => {
    const h = await pgliteStore.open();
    let reads = 0;
    const engine = createEngine({
      store: h.store,
      nodes: nodesWithProbe(new ProbeLog()),
      workflows: new MemoryWorkflowSource({ recordIds: false }),
      services: createSandboxServices(),
      secrets: () => {
        if (++reads <= failReads) throw new Error('connection lost');
        return {};
      },
    });
    const dispatcher = createInProcessDispatcher(engine, {
      listRuns: async () => [],
      workflowOf: async () => null,
      retryDriveMs: 5,
    });
    return { h, engine, dispatcher, reads: () => reads };
  };
  const until = async (ok: () => Promise<boolean>) => {
    for (let i = 0; i < 400 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('drives a run again when its drive rejected, and it succeeds once the host reads again', async () => {
    const { h, engine, dispatcher, reads } = await setup(2);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const runId = await engine.startRun({ definition });
      await dispatcher.enqueue(runId, null);
      await until(async () => (await h.store.getRun(runId))?.status === 'succeeded');
      const run = await h.store.getRun(runId);
      expect(run).toMatchObject({ status: 'succeeded', output: { ok: true }, error: null });
      expect(reads()).toBe(3);
      expect(errors).toHaveBeenCalledTimes(2);
    } finally {
      errors.mockRestore();
      await h.close();
    }
  });

  it('does not try again when the engine answers about the run itself (a conflict)', async () => {
    const { h, engine, dispatcher, reads } = await setup(0);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const runId = await engine.startRun({ definition });
      await dispatcher.resume(runId); // a queued run is not resumable: 'conflict'
      await new Promise((r) => setTimeout(r, 300)); // well past 5 ms × (1 + 2 + 4 + 8 + 16)
      expect(errors).toHaveBeenCalledTimes(1);
      expect(errors.mock.calls[0][0]).not.toContain('trying again');
      expect(reads()).toBe(0);
      expect((await h.store.getRun(runId))?.status).toBe('queued');
    } finally {
      errors.mockRestore();
      await h.close();
    }
  });

  it(`gives up after ${RETRY_DRIVE_TIMES} more tries and leaves the run unfinished, not failed`, async () => {
    const { h, engine, dispatcher, reads } = await setup(Infinity);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const runId = await engine.startRun({ definition });
      await dispatcher.enqueue(runId, null);
      await until(async () => reads() > RETRY_DRIVE_TIMES);
      // 5 ms × (1 + 2 + 4 + 8 + 16) have passed by the last try; wait well past another would-be one.
      await new Promise((r) => setTimeout(r, 400));
      expect(reads()).toBe(RETRY_DRIVE_TIMES + 1);
      await h.store.flush();
      const run = await h.store.getRun(runId);
      expect(run?.status).toBe('running'); // recover() at the next start resumes it
      expect(run?.error ?? null).toBeNull();
      expect(errors.mock.calls.at(-1)?.[0]).not.toContain('trying again');
    } finally {
      errors.mockRestore();
      await h.close();
    }
  });
});
