import { evaluateExpression, renderTemplate, runCode, shutdownSandbox } from '@/lib/sandbox';
import type { ExpressionScope } from '@/lib/nodes/define-node';
import { percentile } from '@/lib/workflow/stats';
import type { BenchRow, BenchScenario } from './types';

// Per-call cost of the expression sandbox (issue 3: plain reference < 5 µs, small sandboxed
// expression < 300 µs p50). Calls are sequential, as one engine step makes them.

const scope: ExpressionScope = {
  input: { a: 2, b: 3, ticketId: 'T-1', tags: ['x', 'y'] },
  steps: {
    fetch: {
      output: {
        status: 200,
        body: {
          text: 'hello',
          items: [
            { id: 1, c: 'first' },
            { id: 2, c: 'second' },
          ],
        },
      },
    },
    route: { output: true },
  },
  env: { REGION: 'eu' },
  secrets: {},
};

async function measure(
  name: string,
  iterations: number,
  target: string,
  fn: () => Promise<unknown>,
): Promise<BenchRow[]> {
  for (let i = 0; i < Math.min(200, iterations); i++) await fn(); // warm up (worker start, JIT)
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) * 1000);
  }
  times.sort((x, y) => x - y);
  return [
    { scenario: name, metric: 'p50', value: percentile(times, 50)!, unit: 'µs', target },
    { scenario: name, metric: 'p99', value: percentile(times, 99)!, unit: 'µs' },
  ];
}

export const scenarios: BenchScenario[] = [
  {
    name: 'expressions: plain reference',
    run: () =>
      measure('plain reference', 20_000, '< 5 µs', () =>
        evaluateExpression('steps.fetch.output.body.items[0].c', scope),
      ),
  },
  {
    name: 'expressions: small expression',
    run: () =>
      measure('small expression', 2_000, '< 300 µs', () =>
        evaluateExpression('input.a + input.b * 2', scope),
      ),
  },
  {
    name: 'expressions: code body',
    run: () =>
      measure('code body', 1_000, '', () =>
        runCode(
          'const out = []; for (const it of steps.fetch.output.body.items) out.push(it.c.toUpperCase()); return out;',
          scope,
        ),
      ),
  },
  {
    name: 'expressions: template render',
    run: () =>
      measure('template render (3 exprs)', 1_000, '', () =>
        renderTemplate(
          {
            url: 'https://t.example/api/{{ input.ticketId }}',
            n: '{{ input.a * 10 }}',
            s: 'Tags: {{ input.tags.join(", ") }}',
          },
          scope,
        ),
      ),
  },
];

export async function teardown(): Promise<void> {
  await shutdownSandbox();
}
