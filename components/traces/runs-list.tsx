'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Spinner } from '@/components/ui/spinner';
import {
  absoluteTime,
  durationOf,
  formatCost,
  formatDuration,
  formatTokens,
  formatTrigger,
  relativeTime,
  shortId,
} from './format';
import { StatusBadge } from './run-status';
import {
  ACTIVE_RUN_STATUSES,
  type RunPage,
  type RunSummary,
  type WorkflowOption,
  workflowName,
} from './types';

export const RUNS_PAGE_SIZE = 50;
/** Live refresh while a listed run is active (the list has no per-run event stream). */
export const RUNS_POLL_MS = 2000;

export interface RunFilters {
  workflowId: string;
  status: string;
  from: string;
  to: string;
  q: string;
}

export const EMPTY_FILTERS: RunFilters = { workflowId: '', status: '', from: '', to: '', q: '' };
const STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];

function toIso(local: string): string {
  const d = new Date(local);
  return Number.isFinite(d.getTime()) ? d.toISOString() : '';
}

export function runsQuery(f: RunFilters, cursor?: string | null, limit = RUNS_PAGE_SIZE): string {
  const p = new URLSearchParams();
  if (f.workflowId) p.set('workflowId', f.workflowId);
  if (f.status) p.set('status', f.status);
  if (f.from && toIso(f.from)) p.set('from', toIso(f.from));
  if (f.to && toIso(f.to)) p.set('to', toIso(f.to));
  if (f.q.trim()) p.set('q', f.q.trim());
  p.set('limit', String(limit));
  if (cursor) p.set('cursor', cursor);
  return `/api/runs?${p}`;
}

// The server may not support from/to yet; filtering the page again here keeps the list honest.
function inRange(run: RunSummary, f: RunFilters): boolean {
  const t = Date.parse(run.createdAt);
  if (f.from && toIso(f.from) && t < Date.parse(toIso(f.from))) return false;
  if (f.to && toIso(f.to) && t > Date.parse(toIso(f.to))) return false;
  return true;
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

const inputCls =
  'h-8 rounded-md border border-slate-300 bg-white px-2 text-sm text-slate-800 shadow-sm focus:border-brand-500 focus:ring-2 focus:ring-brand-500/20 focus:outline-none';

/** A short chip for a version the system wrote; the full note is its title. */
function versionNoteLabel(note: string): string {
  if (note.startsWith('Automatic rollback')) return '↩ rollback';
  if (note.startsWith('Kill switch')) return '⏻ kill switch';
  if (note.startsWith('Automatic advance')) return '↗ advanced';
  return 'rollout';
}

export function RunsList({ initial }: { initial: Partial<RunFilters> }) {
  const router = useRouter();
  const [filters, setFilters] = useState<RunFilters>({ ...EMPTY_FILTERS, ...initial });
  const [workflows, setWorkflows] = useState<WorkflowOption[]>([]);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<{ message: string; missing: boolean } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [, setTick] = useState(0);
  const q = useDebounced(filters.q, 300);
  const effective = useMemo(() => ({ ...filters, q }), [filters, q]);
  const gen = useRef(0);

  useEffect(() => {
    api<{ workflows: WorkflowOption[] }>('/api/workflows').then(
      (r) => setWorkflows(r.workflows),
      () => setWorkflows([]),
    );
  }, []);

  useEffect(() => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(effective)) if (v) p.set(k, v);
    const qs = p.toString();
    window.history.replaceState(null, '', qs ? `/runs?${qs}` : '/runs');
  }, [effective]);

  const load = useCallback(async () => {
    const mine = ++gen.current;
    setError(null);
    try {
      const page = await api<RunPage>(runsQuery(effective));
      if (mine !== gen.current) return;
      setRuns(page.runs.filter((r) => inRange(r, effective)));
      setCursor(page.nextCursor);
    } catch (e) {
      if (mine !== gen.current) return;
      setError({
        message: errorMessage(e),
        missing: e instanceof ApiError && e.status === 404 && e.code === 'http_404',
      });
    }
  }, [effective]);

  useEffect(() => {
    setRuns(null);
    void load();
  }, [load]);

  const active = runs?.some((r) => ACTIVE_RUN_STATUSES.has(r.status)) ?? false;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(async () => {
      const mine = gen.current;
      try {
        const page = await api<RunPage>(runsQuery(effective));
        if (mine !== gen.current) return;
        setRuns((cur) => {
          if (!cur) return cur;
          const fresh = new Map(page.runs.map((r) => [r.id, r]));
          const known = new Set(cur.map((r) => r.id));
          const newer = page.runs.filter((r) => !known.has(r.id) && inRange(r, effective));
          return [...newer, ...cur.map((r) => fresh.get(r.id) ?? r)];
        });
      } catch {
        // A missed poll is retried on the next tick.
      }
    }, RUNS_POLL_MS);
    return () => clearInterval(t);
  }, [active, effective]);

  // Relative times and live durations move on even when nothing else changes.
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), active ? 1000 : 30_000);
    return () => clearInterval(t);
  }, [active]);

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await api<RunPage>(runsQuery(effective, cursor));
      setRuns((cur) => {
        const known = new Set((cur ?? []).map((r) => r.id));
        return [...(cur ?? []), ...page.runs.filter((r) => !known.has(r.id) && inRange(r, effective))];
      });
      setCursor(page.nextCursor);
    } catch (e) {
      setError({ message: errorMessage(e), missing: false });
    } finally {
      setLoadingMore(false);
    }
  };

  const set = (patch: Partial<RunFilters>) => setFilters((f) => ({ ...f, ...patch }));
  const filtered = Object.values(filters).some(Boolean);
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s.slice(-1), id]));

  return (
    <div className="mx-auto flex w-full max-w-7xl flex-col gap-4 p-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-xl font-semibold text-slate-900">Runs</h1>
          <p className="text-sm text-slate-500">
            Every execution, newest first. Open one to read its trace step by step.
          </p>
        </div>
        <div className="flex items-center gap-2">
          {active && (
            <span className="inline-flex items-center gap-1.5 text-xs text-sky-700">
              <span className="h-2 w-2 animate-pulse rounded-full bg-sky-500" aria-hidden />
              Live
            </span>
          )}
          <Button
            variant="secondary"
            disabled={selected.length !== 2}
            onClick={() => router.push(`/runs/compare?a=${selected[0]}&b=${selected[1]}`)}
            title="Tick two runs of the same workflow to compare them"
          >
            Compare selected{selected.length ? ` (${selected.length}/2)` : ''}
          </Button>
        </div>
      </div>

      <div
        role="search"
        aria-label="Filter runs"
        className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm"
      >
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          Workflow
          <select
            className={`${inputCls} w-56`}
            value={filters.workflowId}
            onChange={(e) => set({ workflowId: e.target.value })}
          >
            <option value="">All workflows</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          Status
          <select
            className={`${inputCls} w-36`}
            value={filters.status}
            onChange={(e) => set({ status: e.target.value })}
          >
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s[0].toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          From
          <input
            type="datetime-local"
            className={inputCls}
            value={filters.from}
            onChange={(e) => set({ from: e.target.value })}
          />
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600">
          To
          <input
            type="datetime-local"
            className={inputCls}
            value={filters.to}
            onChange={(e) => set({ to: e.target.value })}
          />
        </label>
        <label className="flex min-w-56 flex-1 flex-col gap-1 text-xs font-medium text-slate-600">
          Search inputs and outputs
          <input
            type="search"
            placeholder="e.g. ticket id, customer email"
            className={inputCls}
            value={filters.q}
            onChange={(e) => set({ q: e.target.value })}
          />
        </label>
        {filtered && (
          <Button variant="ghost" onClick={() => setFilters(EMPTY_FILTERS)}>
            Clear filters
          </Button>
        )}
      </div>

      {error ? (
        <div
          role="alert"
          className="flex items-center justify-between rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-800"
        >
          <span>
            {error.missing
              ? 'The runs API is not available on this server yet.'
              : `Could not load runs: ${error.message}`}
          </span>
          <Button onClick={() => void load()}>Retry</Button>
        </div>
      ) : runs === null ? (
        <div className="grid h-40 place-items-center rounded-lg border border-slate-200 bg-white">
          <Spinner label="Loading runs" />
        </div>
      ) : runs.length === 0 ? (
        <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed border-slate-300 bg-white px-6 py-14 text-center">
          <div
            className="grid h-10 w-10 place-items-center rounded-full bg-brand-50 text-brand-600"
            aria-hidden
          >
            <svg
              width="20"
              height="20"
              viewBox="0 0 20 20"
              fill="none"
              stroke="currentColor"
              strokeWidth="1.6"
            >
              <path d="M6 4l10 6-10 6z" />
            </svg>
          </div>
          {filtered ? (
            <>
              <h2 className="font-semibold text-slate-800">No runs match these filters</h2>
              <div className="flex items-center gap-2">
                <Button variant="secondary" onClick={() => setFilters(EMPTY_FILTERS)}>
                  Clear filters
                </Button>
                {filters.workflowId && (
                  <Link
                    href={`/workflows/${filters.workflowId}`}
                    className="inline-flex h-8 items-center rounded-md bg-brand-600 px-3 text-sm font-medium text-white shadow-sm hover:bg-brand-700"
                  >
                    Run this workflow
                  </Link>
                )}
              </div>
            </>
          ) : (
            <>
              <h2 className="font-semibold text-slate-800">No runs yet</h2>
              <p className="max-w-sm text-sm text-slate-500">
                Run a workflow from the editor, the API or the CLI and it shows up here.
              </p>
              <Link href="/workflows" className="mt-1 text-sm font-medium text-brand-700 hover:underline">
                Go to Workflows →
              </Link>
            </>
          )}
        </div>
      ) : (
        <div className="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="w-full text-sm">
            <thead className="border-b border-slate-200 bg-slate-50 text-left text-xs font-medium tracking-wide text-slate-500 uppercase">
              <tr>
                <th scope="col" className="w-10 px-3 py-2">
                  <span className="sr-only">Select</span>
                </th>
                <th scope="col" className="px-3 py-2">
                  Status
                </th>
                <th scope="col" className="px-3 py-2">
                  Workflow
                </th>
                <th scope="col" className="px-3 py-2">
                  Trigger
                </th>
                <th scope="col" className="px-3 py-2">
                  Started
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Duration
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Steps
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Tokens
                </th>
                <th scope="col" className="px-3 py-2 text-right">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {runs.map((r) => (
                <tr key={r.id} className="group hover:bg-slate-50">
                  <td className="px-3 py-2">
                    <input
                      type="checkbox"
                      aria-label={`Select run ${shortId(r.id)} for comparison`}
                      checked={selected.includes(r.id)}
                      onChange={() => toggle(r.id)}
                      className="h-4 w-4 rounded border-slate-300 accent-brand-600"
                    />
                  </td>
                  <td className="px-3 py-2">
                    <StatusBadge status={r.status} />
                  </td>
                  <td className="px-3 py-2">
                    <Link href={`/runs/${r.id}`} className="flex flex-col hover:underline">
                      <span className="font-medium text-slate-900">{workflowName(r)}</span>
                      <span className="text-xs text-slate-500">
                        {r.version ? `v${r.version}` : 'draft'} ·{' '}
                        <span className="font-mono">#{shortId(r.id)}</span>
                        {r.workflowVersion?.note && (
                          <span
                            title={r.workflowVersion.note}
                            className="ml-1 rounded bg-amber-100 px-1 text-[10px] font-semibold text-amber-800"
                          >
                            {versionNoteLabel(r.workflowVersion.note)}
                          </span>
                        )}
                      </span>
                    </Link>
                  </td>
                  <td className="px-3 py-2">
                    <span className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-600">
                      {formatTrigger(r.trigger)}
                    </span>
                  </td>
                  <td className="px-3 py-2 text-slate-600">
                    <time dateTime={r.createdAt} title={absoluteTime(r.startedAt ?? r.createdAt)}>
                      {relativeTime(r.startedAt ?? r.createdAt)}
                    </time>
                  </td>
                  <td className="px-3 py-2 text-right text-slate-700 tabular-nums">
                    {formatDuration(durationOf(r))}
                  </td>
                  <td className="px-3 py-2 text-right text-slate-700 tabular-nums">{r.stepCount ?? '—'}</td>
                  <td className="px-3 py-2 text-right text-slate-700 tabular-nums">
                    {formatTokens(r.tokens)}
                  </td>
                  <td className="px-3 py-2 text-right text-slate-700 tabular-nums">{formatCost(r.cost)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="flex items-center justify-between border-t border-slate-100 px-3 py-2 text-xs text-slate-500">
            <span>
              {runs.length} run{runs.length === 1 ? '' : 's'} shown
            </span>
            {cursor ? (
              <Button size="sm" onClick={() => void loadMore()} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : 'Load more'}
              </Button>
            ) : (
              <span>End of list</span>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
