import type { CreateRun, StepStart } from '@/lib/engine/trace-store';
import type { WorkflowDefinition } from '@/lib/workflow/definition';

// The run and step records trace-store tests create, with whatever a test does not care about
// filled in.

export const definition: WorkflowDefinition = {
  schemaVersion: 1,
  name: 'contract',
  nodes: [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} }],
  edges: [],
};

export const newRun = (over: Partial<CreateRun> = {}): CreateRun => ({
  workflowId: null,
  workflowVersionId: null,
  version: null,
  definition,
  input: { ticket: 42, tags: ['a', 'b'] },
  trigger: 'manual',
  ...over,
});

export const stepStart = (runId: string, over: Partial<StepStart> = {}): StepStart => ({
  runId,
  nodeId: 'fetch',
  nodeType: 'http.request',
  attempt: 1,
  mode: 'workflow',
  input: { url: 'https://x.test' },
  startedAt: new Date('2026-01-01T00:00:00.000Z'),
  ...over,
});
