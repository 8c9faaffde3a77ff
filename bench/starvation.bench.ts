import type { BenchRow, BenchScenario } from './types';
import { percentileOf } from '@/lib/workflow/stats';
import { shutdownSandbox } from '@/lib/sandbox';
import { BASE_POSTGRES_URL, postgresReachable } from '@/lib/queue/testing/queue-db';
import { measureStarvation, openStarvationHost, type StarvationMode } from '@/lib/server/testing/starvation';

// Issue 14 item 1: GET /api/health latency and cancel latency while a 100,000-step run executes in
// the same process (embedded: PGlite and the in-process engine; server: Postgres and a queue
// worker). `npm run bench:starvation`. The test (tests/load/run-starvation.test.ts) asserts what
// is promised; the figures are here.

const SAMPLE_FOR_MS = 6_000;

const pct = (xs: number[], p: number) => percentileOf(xs, p) ?? NaN;

function scenario(mode: StarvationMode): BenchScenario {
  return {
    name: `starvation ${mode}`,
    async run(): Promise<BenchRow[]> {
      if (mode === 'server' && !(await postgresReachable())) return [];
      const host = await openStarvationHost(mode, BASE_POSTGRES_URL);
      try {
        const r = await measureStarvation(host, { sampleForMs: SAMPLE_FOR_MS, settleMs: 3_000 });
        const busy = r.busy.map((s) => s.ms);
        const idle = r.idle.map((s) => s.ms);
        const name = `100k-step run, ${mode === 'embedded' ? 'embedded (PGlite)' : 'server (Postgres, worker in process)'}`;
        const row = (metric: string, value: number, unit = 'ms', target?: string): BenchRow => ({
          scenario: name,
          metric,
          value,
          unit,
          ...(target ? { target } : {}),
        });
        return [
          row('health idle p50', pct(idle, 50)),
          row('health p50 during run', pct(busy, 50)),
          row('health p95 during run', pct(busy, 95)),
          row('health p99 during run', pct(busy, 99), 'ms', '< 200'),
          row('health max during run', pct(busy, 100)),
          row('health samples', busy.length, 'n'),
          row('health non-200', r.busy.filter((s) => s.status !== 200).length, 'n', '0'),
          row('event-loop delay p99', r.loopDelayP99),
          row('event-loop delay max', r.loopDelayMax),
          row('steps by cancel', r.stepsBeforeCancel, 'steps'),
          row('cancel call', r.cancelCallMs),
          row('last step start after cancel', r.lastStartAfterCancelMs, 'ms', '< 1000'),
        ];
      } finally {
        await host.close();
      }
    },
  };
}

export const scenarios: BenchScenario[] = [scenario('embedded'), scenario('server')];

export async function teardown(): Promise<void> {
  await shutdownSandbox();
}
