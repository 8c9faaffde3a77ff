'use client';
import { useEffect, useMemo, useState } from 'react';
import Link from 'next/link';
import { api, errorMessage } from '@/components/ui/api';
import { Spinner } from '@/components/ui/spinner';
import { DiffView } from './diff-view';
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
import { jsonDiff } from './json-diff';
import { nodeOutcomes, type NodeOutcome } from './node-outcomes';
import { StatusBadge } from './run-status';
import type { RunWithSteps, StepWithTurns } from './types';
import { workflowName } from './types';
import { useDefinition } from './use-run-trace';

/** Outputs are fetched per step; beyond this many nodes the diff loads on demand. */
export const COMPARE_EAGER_NODES = 60;
const FETCH_CONCURRENCY = 4;

async function pool<T>(tasks: (() => Promise<T>)[], n: number): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < tasks.length) await tasks[i++]().catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
}

function useRunOnce(id: string) {
  const [data, setData] = useState<RunWithSteps | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!id) return;
    // The run answer holds one page of steps; the rest is read page by page behind it.
    (async () => {
      const first = await api<RunWithSteps & { stepsCursor?: string | null }>(`/api/runs/${id}`);
      const steps = [...first.steps];
      for (let cursor = first.stepsCursor; cursor;) {
        const page = await api<{ steps: RunWithSteps['steps']; nextCursor: string | null }>(
          `/api/runs/${id}/steps?cursor=${encodeURIComponent(cursor)}`,
        );
        steps.push(...page.steps);
        cursor = page.nextCursor;
      }
      return { run: first.run, steps };
    })().then(setData, (e) => setError(errorMessage(e)));
  }, [id]);
  return { data, error };
}

type Outputs = Map<string, { output: unknown } | { error: string }>;

function Side({ o }: { o: NodeOutcome | undefined }) {
  if (!o) return <span className="text-xs text-slate-400">not run</span>;
  return (
    <div className="flex items-center gap-2">
      <StatusBadge status={o.outcome} />
      <span className="text-xs text-slate-600 tabular-nums">{formatDuration(o.durationMs)}</span>
      {o.attempts > 1 && <span className="text-[11px] text-amber-700">×{o.attempts}</span>}
    </div>
  );
}

export function CompareView({ a, b }: { a: string; b: string }) {
  const A = useRunOnce(a);
  const B = useRunOnce(b);
  const defA = useDefinition(A.data?.run.workflowId, A.data?.run.version);
  const oa = useMemo(() => nodeOutcomes(A.data?.steps ?? []), [A.data]);
  const ob = useMemo(() => nodeOutcomes(B.data?.steps ?? []), [B.data]);
  const [outA, setOutA] = useState<Outputs>(new Map());
  const [outB, setOutB] = useState<Outputs>(new Map());
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [pending, setPending] = useState<Set<string>>(new Set());

  const nodeIds = useMemo(() => {
    const ids: string[] = [];
    const seen = new Set<string>();
    const add = (id: string) => !seen.has(id) && (seen.add(id), ids.push(id));
    for (const n of defA.definition?.nodes ?? []) add(n.id);
    for (const s of A.data?.steps ?? []) if (!s.parentNodeId) add(s.nodeId);
    for (const s of B.data?.steps ?? []) if (!s.parentNodeId) add(s.nodeId);
    return ids;
  }, [defA.definition, A.data, B.data]);
  const names = new Map((defA.definition?.nodes ?? []).map((n) => [n.id, n.name || n.id]));

  const fetchOutputs = async (ids: string[]) => {
    setPending((p) => new Set([...p, ...ids]));
    const tasks: (() => Promise<void>)[] = [];
    for (const [runId, outcomes, set] of [
      [a, oa, setOutA],
      [b, ob, setOutB],
    ] as const) {
      for (const id of ids) {
        const stepId = outcomes.get(id)?.lastStepId;
        if (!stepId) continue;
        tasks.push(async () => {
          try {
            const r = await api<StepWithTurns>(`/api/runs/${runId}/steps/${stepId}`);
            set((m) => new Map(m).set(id, { output: r.step.output }));
          } catch (e) {
            set((m) => new Map(m).set(id, { error: errorMessage(e) }));
          }
        });
      }
    }
    await pool(tasks, FETCH_CONCURRENCY);
    setPending((p) => new Set([...p].filter((id) => !ids.includes(id))));
  };

  const ready = !!A.data && !!B.data;
  useEffect(() => {
    if (!ready || nodeIds.length > COMPARE_EAGER_NODES) return;
    void fetchOutputs(nodeIds);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ready, nodeIds]);

  if (!a || !b) {
    return (
      <p className="p-6 text-sm text-slate-600">
        Pick two runs on the Runs page (tick two rows, then Compare selected).
      </p>
    );
  }
  if (A.error || B.error) {
    return (
      <p role="alert" className="m-6 rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-800">
        Could not load the runs: {A.error ?? B.error}
      </p>
    );
  }
  if (!A.data || !B.data) {
    return (
      <div className="grid flex-1 place-items-center">
        <Spinner label="Loading runs" />
      </div>
    );
  }
  const ra = A.data.run;
  const rb = B.data.run;
  const sameWorkflow = ra.workflowId === rb.workflowId;
  const runOutputDiff = jsonDiff(ra.output, rb.output);

  const header = (r: typeof ra, tag: string) => (
    <div className="flex flex-col gap-1 rounded-xl border border-slate-200 bg-white px-4 py-3 shadow-sm">
      <div className="flex items-center gap-2">
        <span className="grid h-5 w-5 place-items-center rounded bg-slate-900 text-[11px] font-bold text-white">
          {tag}
        </span>
        <Link href={`/runs/${r.id}`} className="font-semibold text-slate-900 hover:underline">
          {workflowName(r)}{' '}
          <span className="font-mono text-xs font-normal text-slate-500">#{shortId(r.id)}</span>
        </Link>
        <StatusBadge status={r.status} />
      </div>
      <div className="flex flex-wrap gap-x-4 text-xs text-slate-600">
        <span>v{r.version ?? '?'}</span>
        <span title={absoluteTime(r.createdAt)}>{relativeTime(r.createdAt)}</span>
        <span>{formatDuration(durationOf(r))}</span>
        {r.tokens ? <span>{formatTokens(r.tokens)} tokens</span> : null}
        {r.cost ? <span>{formatCost(r.cost)}</span> : null}
        <span>{formatTrigger(r.trigger)}</span>
      </div>
    </div>
  );

  return (
    <div className="mx-auto flex w-full max-w-7xl flex-col gap-4 p-6">
      <div>
        <nav aria-label="Breadcrumb" className="text-xs text-slate-500">
          <Link href="/runs" className="hover:underline">
            Runs
          </Link>
          <span className="px-1.5 text-slate-300">/</span>
          Compare
        </nav>
        <h1 className="text-xl font-semibold text-slate-900">Compare runs</h1>
      </div>
      {!sameWorkflow && (
        <p
          role="note"
          className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900"
        >
          These runs belong to different workflows; nodes are matched by id.
        </p>
      )}
      <div className="grid grid-cols-2 gap-4">
        {header(ra, 'A')}
        {header(rb, 'B')}
      </div>
      <section
        aria-label="Run output difference"
        className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm"
      >
        <h2 className="mb-2 text-sm font-semibold text-slate-800">
          Run output{' '}
          <span className="font-normal text-slate-500">
            {runOutputDiff.entries.length ? `${runOutputDiff.entries.length} difference(s)` : 'identical'}
          </span>
        </h2>
        <DiffView before={ra.output} after={rb.output} label="Run output diff" />
      </section>
      <section
        aria-label="Nodes"
        className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm"
      >
        <table className="w-full text-sm">
          <thead className="border-b border-slate-200 bg-slate-50 text-left text-xs font-medium tracking-wide text-slate-500 uppercase">
            <tr>
              <th scope="col" className="px-4 py-2">
                Node
              </th>
              <th scope="col" className="px-4 py-2">
                Run A
              </th>
              <th scope="col" className="px-4 py-2">
                Run B
              </th>
              <th scope="col" className="px-4 py-2">
                Duration Δ
              </th>
              <th scope="col" className="px-4 py-2">
                Output
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {nodeIds.map((id) => {
              const x = oa.get(id);
              const y = ob.get(id);
              const pa = outA.get(id);
              const pb = outB.get(id);
              const loaded = (!x || pa) && (!y || pb);
              const va = pa && 'output' in pa ? pa.output : undefined;
              const vb = pb && 'output' in pb ? pb.output : undefined;
              const diffs = loaded ? jsonDiff(va, vb).entries.length : null;
              const delta =
                x?.durationMs != null && y?.durationMs != null ? y.durationMs - x.durationMs : null;
              const name = names.get(id) ?? id;
              const isOpen = open.has(id);
              return [
                <tr key={id} className={diffs ? 'bg-amber-50/30' : ''}>
                  <td className="px-4 py-2">
                    <div className="font-medium text-slate-800">{name}</div>
                    <div className="font-mono text-[11px] text-slate-400">{id}</div>
                  </td>
                  <td className="px-4 py-2">
                    <Side o={x} />
                  </td>
                  <td className="px-4 py-2">
                    <Side o={y} />
                  </td>
                  <td
                    className={`px-4 py-2 text-xs tabular-nums ${delta === null ? 'text-slate-400' : delta > 0 ? 'text-red-600' : 'text-brand-700'}`}
                  >
                    {delta === null
                      ? '—'
                      : `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${formatDuration(Math.abs(delta))}`}
                  </td>
                  <td className="px-4 py-2">
                    {!x && !y ? (
                      <span className="text-xs text-slate-400">—</span>
                    ) : !loaded && pending.has(id) ? (
                      <span className="text-xs text-slate-400">Loading…</span>
                    ) : !loaded ? (
                      <button
                        type="button"
                        className="text-xs font-medium text-brand-700 hover:underline"
                        onClick={() => void fetchOutputs([id])}
                        aria-label={`Load output diff for ${name}`}
                      >
                        Load diff
                      </button>
                    ) : (
                      <button
                        type="button"
                        aria-expanded={isOpen}
                        aria-label={`Output of ${name}: ${diffs ? `${diffs} difference${diffs > 1 ? 's' : ''}` : 'identical'}`}
                        onClick={() =>
                          setOpen((s) => (s.has(id) ? (s.delete(id), new Set(s)) : new Set(s).add(id)))
                        }
                        className={`rounded px-1.5 py-0.5 text-xs font-medium ${diffs ? 'bg-amber-100 text-amber-800' : 'bg-brand-50 text-brand-700'}`}
                      >
                        {diffs ? `${diffs} difference${diffs > 1 ? 's' : ''}` : 'Identical'}{' '}
                        {isOpen ? '▴' : '▾'}
                      </button>
                    )}
                  </td>
                </tr>,
                isOpen && loaded ? (
                  <tr key={id + ':diff'}>
                    <td colSpan={5} className="bg-slate-50 px-4 py-3">
                      <DiffView before={va} after={vb} label={`Output diff for ${name}`} />
                    </td>
                  </tr>
                ) : null,
              ];
            })}
          </tbody>
        </table>
      </section>
    </div>
  );
}
