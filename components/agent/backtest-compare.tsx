'use client';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { api, errorMessage } from '@/components/ui/api';
import type { BacktestComparison, BacktestReport } from '@/lib/promotion/report';
import type { BacktestRequest } from '@/lib/promotion/spec';
import { compareRows, failureRows, scoreShares, type CompareRow } from './compare-rows';

// Two backtests of one step side by side (issue 16 §2): the metrics with their deltas, both score
// distributions, failure types with both counts, and the cases whose verdict changed, each linked
// to its source run. Reads GET /api/workflows/:id/backtests/compare?a=&b= (docs/api.md).

export interface ComparedBacktest {
  id: string;
  version: number;
  createdAt: string;
  request?: Partial<BacktestRequest>;
}

interface CompareAnswer {
  a: { backtest: ComparedBacktest; report: BacktestReport };
  b: { backtest: ComparedBacktest; report: BacktestReport };
  comparison: BacktestComparison;
}

const TONE: Record<CompareRow['tone'], string> = {
  better: 'text-emerald-700',
  worse: 'text-red-700',
  same: 'text-slate-500',
  none: 'text-slate-400',
};

/** What distinguishes a backtest in the header: its version, model override and scorer. */
export function describeBacktest(b: ComparedBacktest): string {
  const parts = [`v${b.version}`];
  if (b.request?.agent?.model) parts.push(`model ${b.request.agent.model}`);
  if (b.request?.agent?.instructions !== undefined) parts.push('own instructions');
  if (b.request?.scorer) parts.push(`${b.request.scorer.kind} scorer`);
  parts.push(new Date(b.createdAt).toLocaleString());
  return parts.join(' · ');
}

export function BacktestCompare({ workflowId, a, b }: { workflowId: string; a: string; b: string }) {
  const [data, setData] = useState<CompareAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    setData(null);
    setError(null);
    const q = `a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
    api<CompareAnswer>(`/api/workflows/${encodeURIComponent(workflowId)}/backtests/compare?${q}`, {
      signal: ctrl.signal,
    }).then(setData, (err: unknown) => {
      if ((err as Error).name !== 'AbortError') setError(errorMessage(err));
    });
    return () => ctrl.abort();
  }, [workflowId, a, b]);

  if (error)
    return (
      <p role="alert" className="rounded-md bg-red-50 px-2 py-1 text-xs text-red-700">
        {error}
      </p>
    );
  if (!data) return <p className="text-xs text-slate-500">Comparing…</p>;
  const ra = data.a.report;
  const rb = data.b.report;
  const c = data.comparison;
  const failures = failureRows(ra, rb);
  return (
    <div role="region" aria-label="Backtest comparison" className="space-y-3 text-xs">
      <dl className="grid grid-cols-[1.5rem_1fr] gap-x-1 gap-y-0.5 text-slate-600">
        <dt className="font-semibold text-slate-800">A</dt>
        <dd>{describeBacktest(data.a.backtest)}</dd>
        <dt className="font-semibold text-slate-800">B</dt>
        <dd>{describeBacktest(data.b.backtest)}</dd>
      </dl>
      <SideTable label="Side by side" head="Metric" rows={compareRows(ra, rb)} />
      <ScoreDistribution a={ra} b={rb} />
      {failures.length > 0 && (
        <SideTable label="Failure types side by side" head="Failure type" rows={failures} />
      )}
      <p className="text-slate-600">
        {c.matched} case(s) in both · {c.fixedCount} agree only in B · {c.regressedCount} agree only in A
      </p>
      <ChangedCases title="Agree only in B (fixed)" cases={c.fixed} total={c.fixedCount} />
      <ChangedCases title="Agree only in A (regressed)" cases={c.regressed} total={c.regressedCount} />
    </div>
  );
}

function SideTable({ label, head, rows }: { label: string; head: string; rows: CompareRow[] }) {
  return (
    <table aria-label={label} className="w-full table-fixed text-xs">
      <thead>
        <tr className="border-b border-slate-200 text-left text-[10px] tracking-wider text-slate-400 uppercase">
          <th scope="col" className="w-[34%] py-1 font-semibold">
            {head}
          </th>
          <th scope="col" className="py-1 font-semibold">
            A
          </th>
          <th scope="col" className="py-1 font-semibold">
            B
          </th>
          <th scope="col" className="py-1 text-right font-semibold" title="B − A">
            Δ
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.label} className="border-b border-slate-50">
            <th scope="row" className="truncate py-1 text-left font-normal text-slate-600" title={r.label}>
              {r.label}
            </th>
            <td className="py-1 pr-1 whitespace-nowrap text-slate-800 tabular-nums">{r.a}</td>
            <td className="py-1 pr-1 whitespace-nowrap text-slate-800 tabular-nums">{r.b}</td>
            <td className={`py-1 text-right whitespace-nowrap tabular-nums ${TONE[r.tone]}`}>{r.delta}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Both histograms on one scale: for each score bucket, A's bar above B's. */
function ScoreDistribution({ a, b }: { a: BacktestReport; b: BacktestReport }) {
  const sa = scoreShares(a);
  const sb = scoreShares(b);
  return (
    <figure aria-label="Score distribution" className="space-y-1">
      <figcaption className="text-[10px] font-semibold tracking-wider text-slate-400 uppercase">
        Score distribution (share of cases)
      </figcaption>
      <div className="flex h-16 items-end gap-1">
        {sa.map((h, i) => (
          <div
            key={h.from}
            className="flex h-full flex-1 items-end gap-px"
            title={`${h.from.toFixed(1)}–${h.to.toFixed(1)}: A ${Math.round(h.share * 100)}%, B ${Math.round(sb[i].share * 100)}%`}
          >
            <div className="flex-1 rounded-t bg-slate-400" style={{ height: `${h.share * 100}%` }} />
            <div className="bg-brand-500 flex-1 rounded-t" style={{ height: `${sb[i].share * 100}%` }} />
          </div>
        ))}
      </div>
      <div className="flex justify-between text-[10px] text-slate-400">
        <span>0</span>
        <span className="flex gap-2">
          <span>
            <span className="mr-0.5 inline-block h-2 w-2 rounded-sm bg-slate-400" />A
          </span>
          <span>
            <span className="bg-brand-500 mr-0.5 inline-block h-2 w-2 rounded-sm" />B
          </span>
        </span>
        <span>1</span>
      </div>
    </figure>
  );
}

function ChangedCases({
  title,
  cases,
  total,
}: {
  title: string;
  cases: BacktestComparison['fixed'];
  total: number;
}) {
  if (total === 0) return null;
  return (
    <div>
      <p className="font-semibold text-slate-800">
        {title} <span className="font-normal text-slate-500">× {total}</span>
      </p>
      <ul aria-label={title} className="mt-0.5 flex flex-wrap gap-x-2 gap-y-0.5">
        {cases.map((x) => (
          <li key={x.stepId}>
            <Link
              href={`/runs/${x.runId}`}
              title={`Case ${x.a} of A, ${x.b} of B: open its source run`}
              className="text-brand-700 underline"
            >
              case {x.a}
              {x.b !== x.a && ` (B ${x.b})`}
            </Link>
          </li>
        ))}
        {total > cases.length && <li className="text-slate-500">and {total - cases.length} more</li>}
      </ul>
    </div>
  );
}
