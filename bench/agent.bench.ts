import type { BenchRow, BenchScenario } from './types';
import { startMockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import { wf } from '@/lib/engine/testing/harness';
import { shutdownSandbox } from '@/lib/sandbox';
import type { WorkflowNode } from '@/lib/workflow/definition';
import { createSandboxServices } from '@/lib/sandbox';

// What agent mode adds to a step, on the in-memory store against the scripted model on 127.0.0.1
// (real openai SDK, real HTTP): a deterministic transform, the same step as an agent with one
// tool call, in shadow mode, and the no-model fallback. The model's own latency is not in here.

const RUNS = 30;

function step(mode: 'workflow' | 'agent', agent: Record<string, unknown> = {}): WorkflowNode {
  return {
    id: 'label',
    type: 'transform',
    position: { x: 0, y: 0 },
    config: { value: { label: "{{ /bill/i.test(input.text) ? 'billing' : 'other' }}" } },
    mode,
    agent: {
      instructions: 'Label it',
      tools: ['self'],
      maxSteps: 4,
      maxTokens: 100_000,
      timeoutMs: 10_000,
      fallback: 'deterministic',
      shadow: false,
      model: 'scenario:tool-then-answer',
      ...agent,
    },
  } as WorkflowNode;
}

export const scenarios: BenchScenario[] = [
  {
    name: 'agent step overhead',
    async run(): Promise<BenchRow[]> {
      const mock = await startMockLlmServer();
      const rows: BenchRow[] = [];
      try {
        const cases: [string, WorkflowNode, boolean][] = [
          ['workflow', step('workflow'), true],
          ['agent (1 tool call, 2 model calls)', step('agent'), true],
          ['shadow (both)', step('agent', { shadow: true }), true],
          ['fallback no_model_configured', step('agent'), false],
        ];
        for (const [name, node, withModel] of cases) {
          const engine = createEngine({
            store: new MemoryTraceStore(),
            services: createSandboxServices(),
            agent: {
              model: withModel ? { baseURL: mock.baseURL, apiKey: 'm', defaultModel: 'scenario:echo' } : null,
            },
          });
          const def = wf([{ id: 'start', type: 'trigger.manual' }, node], [['start', 'label']]);
          await engine.runToCompletion({ definition: def, input: { text: 'bill me' } }); // warm-up
          const t0 = performance.now();
          for (let i = 0; i < RUNS; i++)
            await engine.runToCompletion({ definition: def, input: { text: 'bill me' } });
          rows.push({
            scenario: 'agent step',
            metric: `${name} per run`,
            value: (performance.now() - t0) / RUNS,
            unit: 'ms',
          });
        }
      } finally {
        await mock.close();
        await shutdownSandbox();
      }
      return rows;
    },
  },
];
