import { validateDefinition } from '@/lib/nodes/validate-definition';
import { largeDefinition } from '@/lib/workflow/fixtures/large-definition';
import { MAX_NODES } from '@/lib/workflow/limits';
import { percentile } from '@/lib/workflow/stats';
import type { BenchRow, BenchScenario } from './types';

export const scenarios: BenchScenario[] = [
  {
    name: 'validate',
    async run(): Promise<BenchRow[]> {
      const def = largeDefinition(MAX_NODES);
      const first = validateDefinition(def);
      if (!first.valid)
        throw new Error(`bench definition is invalid: ${JSON.stringify(first.problems.slice(0, 3))}`);
      for (let i = 0; i < 3; i++) validateDefinition(def); // warm up the JIT
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        validateDefinition(def);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const bytes = JSON.stringify(def).length;
      return [
        {
          scenario: `validate ${MAX_NODES} nodes`,
          metric: 'p50',
          value: +percentile(times, 50)!.toFixed(1),
          unit: 'ms',
          target: '< 200 ms',
        },
        {
          scenario: `validate ${MAX_NODES} nodes`,
          metric: 'max',
          value: +times[times.length - 1].toFixed(1),
          unit: 'ms',
        },
        { scenario: `validate ${MAX_NODES} nodes`, metric: 'size', value: bytes, unit: 'bytes' },
      ];
    },
  },
];
