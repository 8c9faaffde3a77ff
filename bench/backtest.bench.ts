import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow, BenchScenario } from './types';
import { startMockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { createOpenAI, type ModelConfig } from '@/lib/agent/model-client';
import { openDb } from '@/lib/db/client';
import { PrismaBacktestStore } from '@/lib/db/backtest-store';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { createEngine } from '@/lib/engine/engine';
import { executeBacktest } from '@/lib/promotion/job';
import { buildReport } from '@/lib/promotion/report';
import { backtestRequestSchema } from '@/lib/promotion/spec';
import { triageDefinition, triageTickets } from '@/lib/promotion/testing/triage';
import { backtestDeps } from '@/lib/server/backtest-host';
import { hostEngineOptions } from '@/lib/server/runtime';
import { shutdownSandbox } from '@/lib/sandbox';

// `npm run bench:backtest`: a 1,000-case backtest with the scripted model (real openai SDK, real
// HTTP on 127.0.0.1) on an embedded database. The figure that matters is the overhead per case
// beyond the model call (target < 5 ms): the backtest's wall time per case at concurrency 1
// (history load, agent loop, replay, scoring, batched case writes, cancel polling) minus the time
// the agent loop measured around each model request. For reference, the same request sent alone
// through the SDK; on a shared 2-core machine that figure swings by several ms between runs.
// BENCH_BACKTEST_CASES=n runs a smaller one.

const CASES = Number(process.env.BENCH_BACKTEST_CASES ?? 1000);
const HISTORY_CONCURRENCY = 16;

/** The mean time of sending exactly this request straight through the SDK (after a warm-up). */
async function directModelCall(
  model: ModelConfig,
  body: Record<string, unknown>,
  n: number,
): Promise<number> {
  const client = createOpenAI(model);
  const send = () => client.chat.completions.create(body as never);
  for (let i = 0; i < 20; i++) await send();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await send();
  return (performance.now() - t0) / n;
}

export const scenarios: BenchScenario[] = [
  {
    name: 'backtest 1,000 cases',
    async run(): Promise<BenchRow[]> {
      const scenario = 'backtest 1,000 cases (scripted model)';
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-backtest-'));
      const mock = await startMockLlmServer();
      const saved = { ...process.env };
      process.env.OPENAI_BASE_URL = mock.baseURL;
      process.env.OPENAI_API_KEY = 'mock';
      process.env.OPENAI_MODEL = 'scenario:echo';
      const db = await openDb({ dataDir: path.join(dir, 'data') });
      const rows: BenchRow[] = [];
      const row = (metric: string, value: number, unit: string, target?: string) =>
        rows.push({ scenario, metric, value, unit, ...(target ? { target } : {}) });
      try {
        const definition = triageDefinition();
        const { id: wid } = await wfRepo.createWorkflow(db.prisma, { name: 'Bench triage', definition });
        const store = new SqlTraceStore(db);
        const engine = createEngine({ store, ...hostEngineOptions(db) });
        const tickets = triageTickets(CASES / 40);
        const h0 = performance.now();
        for (let i = 0; i < tickets.length; i += HISTORY_CONCURRENCY)
          await Promise.all(
            tickets
              .slice(i, i + HISTORY_CONCURRENCY)
              .map((t) =>
                engine.runToCompletion({ definition, workflowId: wid, version: 1, input: { text: t.text } }),
              ),
          );
        await store.flush();
        row('history: runs recorded (not part of the backtest)', (performance.now() - h0) / 1000, 's');

        const backtests = new PrismaBacktestStore(db);
        const run = async (concurrency: number) => {
          const rec = await backtests.create({
            workflowId: wid,
            nodeId: 'label',
            version: 1,
            request: backtestRequestSchema.parse({
              nodeId: 'label',
              runs: { limit: CASES },
              concurrency,
              budgetUsd: 100,
            }),
          });
          const deps = await backtestDeps(db);
          const t0 = performance.now();
          const status = await executeBacktest(rec.id, deps);
          const wall = performance.now() - t0;
          if (status !== 'succeeded') throw new Error(`backtest ended ${status}`);
          const cases = await backtests.reportCases(rec.id);
          const total = (await backtests.get(rec.id))!.total;
          if (cases.length !== total) throw new Error(`${cases.length} of ${total} cases stored`);
          return { wall, cases };
        };

        const one = await run(1);
        // The request the agent sent for the last case, byte for byte, as the model call alone.
        const last = mock.requests[mock.requests.length - 1].body as unknown as Record<string, unknown>;
        const modelMs = await directModelCall(
          { baseURL: mock.baseURL, apiKey: 'mock', defaultModel: 'scenario:echo' },
          last,
          500,
        );
        // Under load a history run can fail (sandbox deadline); the cases are the runs that succeeded.
        row('cases replayed', one.cases.length, 'cases');
        const perCase = one.wall / one.cases.length;
        const mean = (f: (c: (typeof one.cases)[number]) => number) =>
          one.cases.reduce((a, c) => a + f(c), 0) / one.cases.length;
        const agentModelMs = mean((c) => c.modelMs);
        row('wall time, concurrency 1', one.wall / 1000, 's');
        row('wall time per case, concurrency 1', perCase, 'ms');
        row('model call per case, as the agent loop timed it', agentModelMs, 'ms');
        row('overhead per case beyond the model call', perCase - agentModelMs, 'ms', '< 5 ms');
        row(
          '  of which in the case (agent loop, replay, scoring; 1 ms clock)',
          mean((c) => c.latencyMs - c.modelMs),
          'ms',
        );
        row('same request sent alone through the SDK (reference; shared machine, noisy)', modelMs, 'ms');
        const agree = one.cases.filter((c) => c.agreed).length / one.cases.length;
        row('agreement (refund class fails by design)', agree * 100, '%');

        const eight = await run(8);
        row('wall time, concurrency 8', eight.wall / 1000, 's');
        row('throughput, concurrency 8', eight.cases.length / (eight.wall / 1000), 'cases/s');

        const r0 = performance.now();
        for (let i = 0; i < 10; i++) buildReport(one.cases);
        row('report of 1,000 cases (pure)', (performance.now() - r0) / 10, 'ms');
      } finally {
        await shutdownSandbox();
        await db.close();
        await mock.close();
        process.env = saved;
        fs.rmSync(dir, { recursive: true, force: true });
      }
      return rows;
    },
  },
];
