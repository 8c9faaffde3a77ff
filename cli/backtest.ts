import { readFile } from 'node:fs/promises';
import type { Db } from '@/lib/db/client';
import { ValidationError } from '@/lib/workflow/errors';
import type { ScorerSpec } from '@/lib/promotion/spec';
import type { CommandOutput } from './validate';

// `trellis backtest <workflow> <node> [--runs N] [--scorer SPEC] [--min-agreement x] [--json]`:
// replays the step's agent mode over its recorded runs on the configured database, in this
// process, and prints the report. Exit 0 when the backtest completed and its agreement reaches
// --min-agreement (default 0), so CI can gate a prompt change; 1 otherwise; 2 for bad arguments.

export const EXIT_PASS = 0;
export const EXIT_BELOW = 1;
export const EXIT_BAD_ARGS = 2;

export interface BacktestCommandOptions {
  runs?: string;
  scorer?: string;
  minAgreement?: string;
  budget?: string;
  concurrency?: string;
  model?: string;
  tools?: string;
  json?: boolean;
  db?: Db;
}

/**
 * `exact` · `fields:/a,/b` · `numeric:0.01` (absolute) or `numeric:5%` (relative) ·
 * `code:@file.js` or `code:<body>` · `llm_judge[:criteria]` · or the scorer as JSON.
 */
export async function parseScorer(spec: string): Promise<unknown> {
  const s = spec.trim();
  if (s.startsWith('{')) return JSON.parse(s);
  const i = s.indexOf(':');
  const kind = i < 0 ? s : s.slice(0, i);
  const arg = i < 0 ? '' : s.slice(i + 1);
  switch (kind) {
    case 'fields':
      return { kind, fields: arg.split(',').filter(Boolean) };
    case 'numeric':
      return arg.endsWith('%')
        ? { kind, tolerance: Number(arg.slice(0, -1)) / 100, relative: true }
        : { kind, tolerance: Number(arg) };
    case 'code':
      return { kind, code: arg.startsWith('@') ? await readFile(arg.slice(1), 'utf8') : arg };
    case 'llm_judge':
      return arg ? { kind, criteria: arg } : { kind };
    default:
      return { kind };
  }
}

export async function backtestCommand(
  workflow: string,
  nodeId: string,
  opts: BacktestCommandOptions,
  io: CommandOutput,
): Promise<number> {
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const minAgreement = num(opts.minAgreement) ?? 0;
  if (!Number.isFinite(minAgreement) || minAgreement < 0 || minAgreement > 1) {
    io.error('--min-agreement must be a number from 0 to 1');
    return EXIT_BAD_ARGS;
  }
  let scorer: unknown;
  try {
    scorer = opts.scorer === undefined ? undefined : await parseScorer(opts.scorer);
  } catch (err) {
    io.error(`--scorer: ${(err as Error).message}`);
    return EXIT_BAD_ARGS;
  }
  const request = {
    nodeId,
    ...(opts.runs !== undefined ? { runs: { limit: num(opts.runs) } } : {}),
    ...(scorer ? { scorer: scorer as ScorerSpec } : {}),
    ...(opts.budget !== undefined ? { budgetUsd: num(opts.budget) } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: num(opts.concurrency) } : {}),
    ...(opts.tools !== undefined ? { tools: opts.tools } : {}),
    ...(opts.model !== undefined ? { agent: { model: opts.model } } : {}),
  };

  const { PrismaBacktestStore } = await import('@/lib/db/backtest-store');
  const { createBacktest, backtestWithReport } = await import('@/lib/server/backtests');
  const { backtestDeps } = await import('@/lib/server/backtest-host');
  const { executeBacktest } = await import('@/lib/promotion/job');
  const ownDb = !opts.db;
  const db = opts.db ?? (await (await import('@/lib/db/client')).getDb());
  try {
    const store = new PrismaBacktestStore(db);
    // A workflow by id, else by its exact name (one match only).
    let workflowId = workflow;
    if (
      !(await db.prisma.workflow.findFirst({
        where: { id: workflow, deletedAt: null },
        select: { id: true },
      }))
    ) {
      const named = await db.prisma.workflow.findMany({
        where: { name: workflow, deletedAt: null },
        select: { id: true },
      });
      if (named.length !== 1) {
        io.error(
          named.length
            ? `${named.length} workflows are named "${workflow}": pass the id`
            : `no workflow ${workflow}`,
        );
        return EXIT_BAD_ARGS;
      }
      workflowId = named[0].id;
    }
    let id: string;
    try {
      id = (await createBacktest(db, store, workflowId, request)).id;
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // Request fields by their command-line names.
      const flag: Record<string, string> = {
        '/runs/limit': '--runs',
        '/budgetUsd': '--budget',
        '/concurrency': '--concurrency',
        '/tools': '--tools',
        '/agent/model': '--model',
        '/nodeId': '<node>',
      };
      for (const p of err.problems)
        io.error(
          `${flag[p.path] ?? (p.path.startsWith('/scorer') ? `--scorer (${p.path})` : p.path)}: ${p.message}`,
        );
      return EXIT_BAD_ARGS;
    }
    await executeBacktest(id, await backtestDeps(db));
    const { backtest, report } = await backtestWithReport(store, (await store.get(id))!);
    const pass =
      backtest.status === 'succeeded' && report.cases > 0 && (report.agreement ?? 0) >= minAgreement;
    if (opts.json) {
      io.log(JSON.stringify({ pass, minAgreement, backtest, report }));
    } else {
      const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
      io.log(
        `backtest ${backtest.id} ${backtest.status}: ${report.agreed}/${report.cases} agree (${pct(report.agreement)}), minimum ${pct(minAgreement)}`,
      );
      io.log(
        `latency p50/p95 ${report.latencyMs.agent.p50 ?? '—'}/${report.latencyMs.agent.p95 ?? '—'} ms (deterministic ${report.latencyMs.deterministic.p50 ?? '—'}/${report.latencyMs.deterministic.p95 ?? '—'} ms), cost ${report.costUsd.total} USD, fallback ${pct(report.fallback.rate)}`,
      );
      for (const f of report.failureTypes.slice(0, 10)) io.log(`  ${String(f.count).padStart(5)}  ${f.key}`);
    }
    return pass ? EXIT_PASS : EXIT_BELOW;
  } finally {
    if (ownDb) {
      const { shutdownSandbox } = await import('@/lib/sandbox');
      await shutdownSandbox();
      await db.close();
    }
  }
}
