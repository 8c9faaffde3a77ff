import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { createEngine } from './engine';
import { memoryStore, pgliteStore, wf, type StoreHandle } from './testing/harness';
import { MemoryWorkflowSource } from './workflow-source';
import { createSandboxServices } from '@/lib/sandbox';

// Issue 12 item 9: a child run (subworkflow, map over a saved workflow) obeys the rules of a
// top-level run: a disabled workflow, or a latest version with validation problems, is refused
// with a step error whose code says which.

const child = wf(
  [
    { id: 'start', type: 'trigger.manual' },
    { id: 'out', type: 'output', config: { value: { got: '{{ input.n }}' } } },
  ],
  [['start', 'out']],
  'child',
);
const broken: WorkflowDefinition = {
  ...child,
  nodes: [...child.nodes, { id: 'loose', type: 'no.such.type', position: { x: 0, y: 0 }, config: {} }],
};

function parent(kind: 'subworkflow' | 'map', workflowId: string) {
  return wf(
    [
      { id: 'start', type: 'trigger.manual' },
      kind === 'subworkflow'
        ? { id: 'call', type: 'subworkflow', config: { workflowId, input: { n: 1 } } }
        : { id: 'call', type: 'map', config: { items: '[1, 2]', workflowId } },
    ],
    [['start', 'call']],
  );
}

for (const factory of [memoryStore, pgliteStore]) {
  describe(`child runs obey the rules of runs (${factory.name})`, () => {
    let h: StoreHandle;
    const workflows = new MemoryWorkflowSource({ recordIds: false });
    beforeAll(async () => {
      h = await factory.open();
      workflows.save('ok', child);
      workflows.save('off', child);
      workflows.setEnabled('off', false);
      workflows.save('bad', broken);
    });
    afterAll(() => h?.close());

    for (const kind of ['subworkflow', 'map'] as const) {
      it(`${kind}: runs an enabled valid workflow, refuses a disabled or invalid one with its code`, async () => {
        const engine = createEngine({ store: h.store, workflows, services: createSandboxServices() });
        const ok = await engine.runToCompletion({ definition: parent(kind, 'ok'), input: {} });
        expect(ok.status).toBe('succeeded');
        for (const [id, code] of [
          ['off', 'workflow_disabled'],
          ['bad', 'workflow_invalid'],
        ] as const) {
          const out = await engine.runToCompletion({ definition: parent(kind, id), input: {} });
          expect(out.status).toBe('failed');
          const steps = await h.store.listSteps(out.runId);
          const call = steps.filter((s) => s.nodeId === 'call' && s.parentNodeId == null).at(-1)!;
          expect(call.status).toBe('failed');
          expect(call.error?.code).toBe(code);
          expect(call.error?.message).toContain(id);
          // Refused before a child run exists: nothing of the child was started.
          expect(steps.some((s) => s.nodeId === 'out')).toBe(false);
        }
        const bad = await engine.runToCompletion({ definition: parent(kind, 'bad'), input: {} });
        const err = (await h.store.listSteps(bad.runId)).find((s) => s.nodeId === 'call')!.error!;
        expect(JSON.stringify(err.details)).toContain('/nodes/2/type');
      });
    }
  });
}
