import { afterAll, describe, expect, it } from 'vitest';
import { createSandboxServices, shutdownSandbox } from '@/lib/sandbox';
import { createEngine, MAX_KEPT_STARTED_RUNS } from './engine';
import { MemoryTraceStore } from './memory-trace-store';
import { wf } from './testing/harness';

// startRun keeps what it wrote for the run's first drive in this process (issue 21: fewer reads
// per run). The reads it saves are counted on the real in-memory store; the run must come out the
// same as one read back from the store.

afterAll(() => shutdownSandbox());

class CountingStore extends MemoryTraceStore {
  reads = 0;
  override async getRun(runId: string) {
    this.reads++;
    return super.getRun(runId);
  }
  override async runDefinition(runId: string) {
    this.reads++;
    return super.runDefinition(runId);
  }
  override async runInput(runId: string) {
    this.reads++;
    return super.runInput(runId);
  }
}

const def = wf(
  [
    { id: 'start', type: 'trigger.manual' },
    { id: 'out', type: 'output', config: { value: '{{ input.when }}' } },
  ],
  [['start', 'out']],
);

function engineOn(store: CountingStore, keepStartedRuns?: boolean) {
  return createEngine({ store, services: createSandboxServices(), onEvent: () => {}, keepStartedRuns });
}

describe('started runs kept for their first drive', () => {
  it('a run started and executed here reads neither its row, definition nor input back', async () => {
    const store = new CountingStore();
    const engine = engineOn(store);
    const runId = await engine.startRun({ definition: def, input: { when: 'now' } });
    store.reads = 0;
    const out = await engine.executeRun(runId);
    expect(out).toMatchObject({ status: 'succeeded', output: 'now' });
    expect(store.reads).toBe(0);
  });

  it('the kept input is the JSON the store holds, not the caller object', async () => {
    const store = new CountingStore();
    const engine = engineOn(store);
    const when = new Date('2026-01-01T00:00:00.000Z');
    const input = { when };
    const runId = await engine.startRun({ definition: def, input });
    input.when = new Date(0); // a caller changing its object afterwards changes nothing
    const out = await engine.executeRun(runId);
    expect(out.output).toBe('2026-01-01T00:00:00.000Z');
  });

  it('with keepStartedRuns off, or beyond MAX_KEPT_STARTED_RUNS, the run is read from the store', async () => {
    const off = new CountingStore();
    const a = await engineOn(off, false).startRun({ definition: def, input: { when: 'x' } });
    off.reads = 0;
    expect((await engineOn(off, false).executeRun(a)).output).toBe('x');
    expect(off.reads).toBeGreaterThanOrEqual(3);

    const store = new CountingStore();
    const engine = engineOn(store);
    const first = await engine.startRun({ definition: def, input: { when: 'first' } });
    for (let i = 0; i < MAX_KEPT_STARTED_RUNS; i++)
      await engine.startRun({ definition: def, input: { when: i } });
    store.reads = 0;
    expect((await engine.executeRun(first)).output).toBe('first');
    expect(store.reads).toBeGreaterThanOrEqual(3);
    // The newest is still kept.
    const last = await engine.startRun({ definition: def, input: { when: 'last' } });
    store.reads = 0;
    expect((await engine.executeRun(last)).output).toBe('last');
    expect(store.reads).toBe(0);
  });
});
