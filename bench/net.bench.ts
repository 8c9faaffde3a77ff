import { guardedFetch } from '@/lib/net/guarded-fetch';
import { checkUrl } from '@/lib/net/ssrf';
import { runAgent } from '@/lib/agent/agent-loop';
import { startMockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { startLocalServer } from '@/lib/net/testing/local-server';
import type { WorkflowNode } from '@/lib/workflow/definition';
import type { BenchRow, BenchScenario } from './types';

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export const scenarios: BenchScenario[] = [
  {
    name: 'net',
    async run(): Promise<BenchRow[]> {
      const rows: BenchRow[] = [];
      const t0 = performance.now();
      for (let i = 0; i < 100_000; i++) checkUrl('http://0x7f000001:8080/x');
      rows.push({
        scenario: 'ssrf checkUrl',
        metric: 'per call',
        value: ((performance.now() - t0) * 1000) / 100_000,
        unit: 'µs',
      });

      const server = await startLocalServer((_req, res) => res.end('{"ok":true}'));
      try {
        const url = `${server.url}/x`;
        await timeEach(20, () => guardedFetch(url, { allowPrivate: true }).then((r) => r.text()));
        const guarded = await timeEach(200, () =>
          guardedFetch(url, { allowPrivate: true }).then((r) => r.text()),
        );
        const plain = await timeEach(200, () => fetch(url).then((r) => r.text()));
        rows.push({
          scenario: 'guardedFetch 127.0.0.1 (new socket each)',
          metric: 'p50',
          value: p50(guarded),
          unit: 'ms',
        });
        rows.push({
          scenario: 'global fetch 127.0.0.1 (pooled)',
          metric: 'p50',
          value: p50(plain),
          unit: 'ms',
        });
      } finally {
        await server.close();
      }

      const mock = await startMockLlmServer();
      try {
        const node = {
          id: 'a',
          type: 'llm',
          position: { x: 0, y: 0 },
          config: {},
          agent: { tools: ['self'], model: 'scenario:tool-then-answer' },
        } as unknown as WorkflowNode;
        const model = { baseURL: mock.baseURL, apiKey: 'mock', defaultModel: 'x' };
        const tool = {
          description: 't',
          parameters: { type: 'object', properties: {} },
          run: async () => ({ ok: 1 }),
        };
        const times = await timeEach(50, () =>
          runAgent({
            node,
            input: { q: 1 },
            signal: new AbortController().signal,
            model,
            deterministicTool: tool,
          }),
        );
        rows.push({
          scenario: 'agent loop, 2 model turns + 1 tool (mock LLM)',
          metric: 'p50',
          value: p50(times),
          unit: 'ms',
        });
      } finally {
        await mock.close();
      }
      return rows;
    },
  },
];
