'use client';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import type { BacktestReport } from '@/lib/promotion/report';
import { BacktestCompare, type ComparedBacktest } from './backtest-compare';
import { ms, percent, usd } from './format';
import { ScorerPicker, scorerRequest, type ScorerDraft, DEFAULT_SCORER_DRAFT } from './scorer-picker';

// Backtests of one step, inside its Promotion tab: a launcher, the history (progress while one
// runs, cancel), and the failure explorer of the chosen one (agreement, latency and cost against
// the deterministic step, fallback reasons, disagreements grouped by type with links to the runs),
// and two of the history compared side by side (backtest-compare.tsx).
// Talks to /api/workflows/:id/backtests (docs/api.md, "Backtests") over HTTP only.

/** How often a running backtest's progress is read. */
export const BACKTEST_POLL_MS = 1_500;
const DEFAULT_RUNS = 100;

interface BacktestView extends ComparedBacktest {
  nodeId: string;
  status: string;
  progress: { total: number; done: number };
  agreed: number;
  costUsd: number;
  error: { code: string; message: string } | null;
}

const RUNNING = new Set(['queued', 'running']);

export function BacktestPanel({ workflowId, nodeId }: { workflowId: string; nodeId: string }) {
  const base = `/api/workflows/${encodeURIComponent(workflowId)}/backtests`;
  const [list, setList] = useState<BacktestView[] | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [report, setReport] = useState<{ backtest: BacktestView; report: BacktestReport } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [runs, setRuns] = useState(DEFAULT_RUNS);
  /** Another model to replay with (two backtests of two models compare side by side). */
  const [model, setModel] = useState('');
  const [scorer, setScorer] = useState<ScorerDraft>(DEFAULT_SCORER_DRAFT);
  const [scorerError, setScorerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Up to two backtests ticked for comparison, in the order they were ticked. */
  const [compared, setCompared] = useState<string[]>([]);

  const loadList = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const r = await api<{ backtests: BacktestView[] }>(
          `${base}?nodeId=${encodeURIComponent(nodeId)}&limit=10`,
          { signal },
        );
        setList(r.backtests);
        setError(null);
      } catch (err) {
        if ((err as Error).name !== 'AbortError') setError(errorMessage(err));
      }
    },
    [base, nodeId],
  );

  useEffect(() => {
    const ctrl = new AbortController();
    void loadList(ctrl.signal);
    return () => ctrl.abort();
  }, [loadList]);

  // Progress of a running backtest, until it ends.
  const running = list?.some((b) => RUNNING.has(b.status)) ?? false;
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => void loadList(), BACKTEST_POLL_MS);
    return () => clearInterval(t);
  }, [running, loadList]);

  const chosenStatus = list?.find((b) => b.id === chosen)?.status;
  useEffect(() => {
    if (!chosen) return;
    const ctrl = new AbortController();
    api<{ backtest: BacktestView; report: BacktestReport }>(`${base}/${encodeURIComponent(chosen)}`, {
      signal: ctrl.signal,
    }).then(
      (r) => setReport(r),
      (err: unknown) => {
        if ((err as Error).name !== 'AbortError') setError(errorMessage(err));
      },
    );
    return () => ctrl.abort();
  }, [base, chosen, chosenStatus]);

  async function start(e: React.FormEvent) {
    e.preventDefault();
    const request = scorerRequest(scorer);
    if (!request.ok) {
      setScorerError(request.error);
      return;
    }
    setBusy(true);
    setScorerError(null);
    try {
      const r = await api<{ backtest: BacktestView }>(base, {
        method: 'POST',
        body: {
          nodeId,
          runs: { limit: runs },
          ...(model.trim() ? { agent: { model: model.trim() } } : {}),
          ...request.body,
        },
      });
      setChosen(r.backtest.id);
      setError(null);
      await loadList();
    } catch (err) {
      // A problem in the scorer (e.g. a syntax error at /scorer/code) is shown by its field.
      const problem = problemUnder(err, '/scorer');
      if (problem) setScorerError(problem);
      else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  function toggleCompare(id: string) {
    setCompared((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id].slice(-2)));
  }
  // A is the older of the two, so Δ reads as what the newer backtest changed.
  const pair =
    compared.length === 2 && list
      ? compared
          .map((id) => list.find((b) => b.id === id))
          .filter((b): b is BacktestView => !!b && !RUNNING.has(b.status))
          .sort((x, y) => x.createdAt.localeCompare(y.createdAt))
      : [];

  async function cancel(id: string) {
    try {
      await api(`${base}/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: {} });
      await loadList();
    } catch (err) {
      setError(errorMessage(err));
    }
  }

  return (
    <section aria-label="Backtests" className="space-y-3">
      <form aria-label="Start a backtest" onSubmit={(e) => void start(e)} className="space-y-2">
        <div className="grid grid-cols-2 gap-2">
          <label className="text-[11px] text-slate-600">
            Recorded runs
            <input
              type="number"
              min={1}
              max={1000}
              value={runs}
              onChange={(e) => setRuns(Number(e.target.value))}
              className="mt-0.5 h-7 w-full rounded-md border border-slate-300 px-2 font-mono text-xs"
            />
          </label>
          <label className="text-[11px] text-slate-600">
            Model (optional)
            <input
              value={model}
              placeholder="the step's own"
              onChange={(e) => setModel(e.target.value)}
              className="mt-0.5 h-7 w-full rounded-md border border-slate-300 px-2 font-mono text-xs"
            />
          </label>
          <ScorerPicker value={scorer} onChange={setScorer} error={scorerError} />
        </div>
        <Button type="submit" size="sm" variant="secondary" disabled={busy}>
          Start backtest
        </Button>
      </form>
      {error && (
        <p role="alert" className="rounded-md bg-red-50 px-2 py-1 text-xs text-red-700">
          {error}
        </p>
      )}
      {list === null ? (
        <p className="text-xs text-slate-500">Loading backtests…</p>
      ) : list.length === 0 ? (
        <p className="text-xs text-slate-500">
          No backtests yet: replay the agent over this step&apos;s recorded runs.
        </p>
      ) : (
        <ul aria-label="Backtest history" className="space-y-1">
          {list.map((b) => (
            <li key={b.id} className="flex items-center gap-2 text-xs">
              <input
                type="checkbox"
                aria-label={`Compare backtest of ${new Date(b.createdAt).toLocaleString()} (${b.status})`}
                title="Compare side by side (tick two)"
                checked={compared.includes(b.id)}
                disabled={RUNNING.has(b.status)}
                onChange={() => toggleCompare(b.id)}
                className="h-3.5 w-3.5 accent-brand-600"
              />
              <button
                type="button"
                aria-pressed={b.id === chosen}
                onClick={() => setChosen(b.id)}
                className={`flex-1 rounded-md border px-2 py-1 text-left ${b.id === chosen ? 'border-brand-500 bg-brand-50' : 'border-slate-200 hover:bg-slate-50'}`}
              >
                <span className="font-medium">{b.status}</span> · v{b.version} · {b.progress.done}/
                {b.progress.total || '…'} cases · agreed{' '}
                {b.progress.done ? percent(b.agreed / b.progress.done) : '—'} · {usd(b.costUsd)}
              </button>
              {RUNNING.has(b.status) && (
                <Button
                  size="sm"
                  variant="ghost"
                  onClick={() => void cancel(b.id)}
                  aria-label={`Cancel backtest ${b.id}`}
                >
                  Cancel
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      {list && list.length > 1 && compared.length < 2 && (
        <p className="text-[11px] text-slate-500">
          Tick two finished backtests to compare them side by side.
        </p>
      )}
      {pair.length === 2 && <BacktestCompare workflowId={workflowId} a={pair[0].id} b={pair[1].id} />}
      {report && report.backtest.id === chosen && <FailureExplorer report={report.report} />}
    </section>
  );
}

function FailureExplorer({ report }: { report: BacktestReport }) {
  const reasons = Object.entries(report.fallback.byReason);
  return (
    <div role="region" aria-label="Failure explorer" className="space-y-2 text-xs">
      <dl className="grid grid-cols-2 gap-x-2 gap-y-0.5">
        <dt className="text-slate-500">Agreement</dt>
        <dd className="font-mono">
          {percent(report.agreement)} ({report.agreed} of {report.cases})
        </dd>
        <dt className="text-slate-500">Latency p50 / p95 (agent)</dt>
        <dd className="font-mono">
          {ms(report.latencyMs.agent.p50)} / {ms(report.latencyMs.agent.p95)}
        </dd>
        <dt className="text-slate-500">Latency p50 / p95 (deterministic)</dt>
        <dd className="font-mono">
          {ms(report.latencyMs.deterministic.p50)} / {ms(report.latencyMs.deterministic.p95)}
        </dd>
        <dt className="text-slate-500">Cost per case (mean)</dt>
        <dd className="font-mono">{usd(report.costUsd.mean)}</dd>
        <dt className="text-slate-500">Fallback rate</dt>
        <dd className="font-mono">
          {percent(report.fallback.rate)}
          {reasons.length > 0 && ` (${reasons.map(([k, v]) => `${k} ${percent(v)}`).join(', ')})`}
        </dd>
      </dl>
      {report.failureTypes.length === 0 ? (
        <p className="text-slate-500">No disagreements.</p>
      ) : (
        <ul aria-label="Failure types" className="space-y-2">
          {report.failureTypes.map((f) => (
            <li key={f.key} className="rounded-md border border-slate-200 px-2 py-1.5">
              <p className="font-semibold text-slate-800">
                {f.kind === 'diff'
                  ? `Differs at ${(f.paths ?? []).join(', ') || '/'}`
                  : f.kind === 'fallback'
                    ? `Fell back: ${f.reason}`
                    : `Error: ${f.reason ?? f.key}`}{' '}
                <span className="font-normal text-slate-500">× {f.count}</span>
              </p>
              {f.transitions?.slice(0, 3).map((t) => (
                <p
                  key={`${t.path}${JSON.stringify(t.expected)}${JSON.stringify(t.actual)}`}
                  className="font-mono text-slate-600"
                >
                  {JSON.stringify(t.expected)} → {JSON.stringify(t.actual)} × {t.count}
                </p>
              ))}
              <p className="mt-0.5 flex flex-wrap gap-1">
                {f.cases.slice(0, 5).map((c) => (
                  <Link key={c.seq} href={`/runs/${c.runId}`} className="text-brand-700 underline">
                    case {c.seq}
                  </Link>
                ))}
              </p>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The first problem the API named under a JSON pointer prefix, with its pointer. */
function problemUnder(err: unknown, prefix: string): string | null {
  if (!(err instanceof ApiError)) return null;
  const problems = (err.details as { problems?: { path: string; message: string }[] } | undefined)?.problems;
  const p = problems?.find((x) => x.path === prefix || x.path.startsWith(`${prefix}/`));
  return p ? `${p.path}: ${p.message}` : null;
}
