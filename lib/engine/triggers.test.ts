import { describe, expect, it } from 'vitest';
import { createEngine } from './engine';
import { MemoryTraceStore } from './memory-trace-store';
import { wf } from './testing/harness';
import { createSandboxServices } from '@/lib/sandbox';

// Issue 12 item 8: a trigger fires exactly its own branch, chosen by node id, and a rerun starts
// from the trigger that started the original run.

const def = wf(
  [
    { id: 's1', type: 'trigger.schedule', config: { cron: '0 9 * * *' } },
    { id: 's2', type: 'trigger.schedule', config: { cron: '0 18 * * *' } },
    { id: 'w1', type: 'trigger.webhook' },
    { id: 'w2', type: 'trigger.webhook' },
    { id: 'a', type: 'transform', config: { value: 'a' } },
    { id: 'b', type: 'transform', config: { value: 'b' } },
    { id: 'c', type: 'transform', config: { value: 'c' } },
    { id: 'd', type: 'transform', config: { value: 'd' } },
  ],
  [
    ['s1', 'a'],
    ['s2', 'b'],
    ['w1', 'c'],
    ['w2', 'd'],
  ],
);

async function ran(store: MemoryTraceStore, runId: string) {
  const steps = await store.listSteps(runId);
  return steps
    .filter((s) => s.status === 'succeeded')
    .map((s) => s.nodeId)
    .sort();
}

describe('trigger roots by node id', () => {
  it('each schedule and webhook trigger of one workflow fires only its own branch', async () => {
    const store = new MemoryTraceStore();
    const engine = createEngine({ store, services: createSandboxServices() });
    for (const [trigger, node, branch] of [
      ['schedule', 's1', 'a'],
      ['schedule', 's2', 'b'],
      ['webhook', 'w1', 'c'],
      ['webhook', 'w2', 'd'],
    ] as const) {
      const out = await engine.runToCompletion({ definition: def, trigger, triggerNodeId: node, input: {} });
      expect(out.status).toBe('succeeded');
      expect(await ran(store, out.runId)).toEqual([branch, node].sort());
      expect((await store.getRun(out.runId))?.triggerNodeId).toBe(node);
    }
  });

  it('without a node id, the only trigger of the kind is recorded; several of a kind all fire', async () => {
    const store = new MemoryTraceStore();
    const engine = createEngine({ store, services: createSandboxServices() });
    const one = wf(
      [
        { id: 'm', type: 'trigger.manual' },
        { id: 'h', type: 'trigger.webhook' },
        { id: 'x', type: 'transform', config: { value: 1 } },
        { id: 'y', type: 'transform', config: { value: 2 } },
      ],
      [
        ['m', 'x'],
        ['h', 'y'],
      ],
    );
    const out = await engine.runToCompletion({ definition: one, trigger: 'webhook' });
    expect((await store.getRun(out.runId))?.triggerNodeId).toBe('h');
    expect(await ran(store, out.runId)).toEqual(['h', 'y']);
    const both = await engine.runToCompletion({ definition: def, trigger: 'webhook' });
    expect((await store.getRun(both.runId))?.triggerNodeId).toBeNull();
    expect(await ran(store, both.runId)).toEqual(['c', 'd', 'w1', 'w2']);
  });

  it('refuses a trigger node id that is not a trigger of the definition', async () => {
    const engine = createEngine({ store: new MemoryTraceStore(), services: createSandboxServices() });
    await expect(
      engine.startRun({ definition: def, trigger: 'schedule', triggerNodeId: 'a' }),
    ).rejects.toMatchObject({
      code: 'validation_error',
    });
    await expect(
      engine.startRun({ definition: def, trigger: 'schedule', triggerNodeId: 'nope' }),
    ).rejects.toMatchObject({ code: 'validation_error' });
  });

  it('a full rerun and a rerun from a node start from the trigger node of the original run', async () => {
    const store = new MemoryTraceStore();
    const engine = createEngine({ store, services: createSandboxServices() });
    const first = await engine.runToCompletion({ definition: def, trigger: 'webhook', triggerNodeId: 'w2' });
    // A full rerun as the API starts it: trigger rerun:<id>, the original's trigger node.
    const full = await engine.startRun({
      definition: def,
      trigger: `rerun:${first.runId}`,
      triggerNodeId: (await store.getRun(first.runId))!.triggerNodeId,
      input: {},
    });
    expect((await engine.executeRun(full)).status).toBe('succeeded');
    expect(await ran(store, full)).toEqual(['d', 'w2']);
    const fromNode = await engine.rerunFromNode(first.runId, 'd');
    expect((await engine.executeRun(fromNode)).status).toBe('succeeded');
    expect(await ran(store, fromNode)).toEqual(['d', 'w2']);
    // A rerun of a rerun whose row carries no node id follows the chain back to the original.
    const legacy = await store.createRun({
      workflowId: null,
      workflowVersionId: null,
      version: null,
      definition: def,
      input: {},
      trigger: `rerun:${full}`,
    });
    expect((await engine.executeRun(legacy.id)).status).toBe('succeeded');
    expect(await ran(store, legacy.id)).toEqual(['d', 'w2']);
  });
});
