'use client';
import { useEffect, useMemo, useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { api, errorMessage } from '@/components/ui/api';
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
import { JsonView } from './json-view';
import { nodeOutcomes } from './node-outcomes';
import { ApprovalPanel } from './run-actions';
import { OutcomeLegend, RunCanvas } from './run-canvas';
import { StatusBadge } from './run-status';
import { StepInspector } from './step-inspector';
import { ComparePicker } from './compare-picker';
import { rerunSourceOf, reusedStepIds } from './rerun-source';
import { ACTIVE_RUN_STATUSES, workflowName } from './types';
import { useDefinition, useRunTrace } from './use-run-trace';
import { Waterfall } from './waterfall';

function Stat({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="flex flex-col">
      <span className="text-[10px] font-medium tracking-wide text-slate-400 uppercase">{label}</span>
      <span className="text-sm text-slate-800 tabular-nums">{children}</span>
    </div>
  );
}

/** The workflow's newest saved version (null while unknown or for a deleted workflow). */
function useLatestVersion(workflowId: string | null | undefined): number | null {
  const [v, setV] = useState<number | null>(null);
  useEffect(() => {
    if (!workflowId) return;
    let live = true;
    api<{ version: number }>(`/api/workflows/${workflowId}`).then(
      (w) => live && setV(w.version),
      () => live && setV(null),
    );
    return () => {
      live = false;
    };
  }, [workflowId]);
  return v;
}

export function RunView({ runId }: { runId: string }) {
  const router = useRouter();
  const { data, error, reload, live } = useRunTrace(runId);
  const run = data?.run;
  const steps = useMemo(() => data?.steps ?? [], [data]);
  const { definition } = useDefinition(run?.workflowId, run?.version);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const latestVersion = useLatestVersion(run?.workflowId);

  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [live]);
  useEffect(() => setNow(Date.now()), [data]);

  const outcomes = useMemo(() => nodeOutcomes(steps), [steps]);
  const names = useMemo(() => {
    const m = new Map<string, string>();
    for (const n of definition?.nodes ?? []) m.set(n.id, n.name || n.id);
    return m;
  }, [definition]);
  const selected = steps.find((s) => s.id === selectedId) ?? null;
  const waitingApprovals = steps.filter((s) => s.status === 'waiting' && s.nodeType === 'approval');

  const act = async (key: string, fn: () => Promise<void>) => {
    setBusy(key);
    setActionError(null);
    try {
      await fn();
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  const rerun = (fromNodeId?: string, on: 'original' | 'latest' = 'original') =>
    act(on === 'latest' ? 'rerun-latest' : 'rerun', async () => {
      const r = await api<{ runId: string }>(`/api/runs/${runId}/rerun`, {
        method: 'POST',
        body: { ...(fromNodeId ? { fromNodeId } : {}), on },
      });
      router.push(`/runs/${r.runId}`);
    });
  const cancel = () =>
    act('cancel', async () => {
      await api(`/api/runs/${runId}/cancel`, { method: 'POST', body: {} });
      await reload();
    });
  const [comparing, setComparing] = useState(false);
  const reused = useMemo(() => (run ? reusedStepIds(run, steps) : new Set<string>()), [run, steps]);
  const sourceRunId = run ? rerunSourceOf(run) : null;

  if (error && !data) {
    return (
      <div className="mx-auto w-full max-w-3xl p-6">
        <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-800">
          {error.notFound
            ? 'This run does not exist (or the runs API is not available yet).'
            : `Could not load the run: ${error.message}`}
          <div className="mt-3 flex gap-2">
            <Button onClick={() => void reload()}>Retry</Button>
            <Link
              href="/runs"
              className="inline-flex h-8 items-center px-3 text-sm font-medium text-brand-700 hover:underline"
            >
              Back to runs
            </Link>
          </div>
        </div>
      </div>
    );
  }
  if (!run) {
    return (
      <div className="grid flex-1 place-items-center">
        <Spinner label="Loading run" />
      </div>
    );
  }

  const active = ACTIVE_RUN_STATUSES.has(run.status);
  const newer = latestVersion !== null && run.version !== null && latestVersion > run.version;
  const duration = durationOf(run, now);
  const finishedMs = run.finishedAt ? Date.parse(run.finishedAt) : 0;
  const queuedMs = run.startedAt ? Date.parse(run.startedAt) - Date.parse(run.createdAt) : null;

  return (
    <div className="flex w-full flex-col gap-4 p-6">
      <nav aria-label="Breadcrumb" className="text-xs text-slate-500">
        <Link href="/runs" className="hover:text-slate-800 hover:underline">
          Runs
        </Link>
        <span className="px-1.5 text-slate-300">/</span>
        <span className="font-mono">#{shortId(run.id)}</span>
      </nav>

      <section
        aria-label="Run summary"
        className="flex flex-wrap items-start justify-between gap-4 rounded-xl border border-slate-200 bg-white px-5 py-4 shadow-sm"
      >
        <div className="flex flex-col gap-3">
          <div className="flex flex-wrap items-center gap-3">
            <StatusBadge status={run.status} size="md" />
            <h1 className="text-xl font-semibold text-slate-900">{workflowName(run)}</h1>
            {run.version !== null && (
              <span className="rounded-md bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-600">
                v{run.version}
              </span>
            )}
            {live && (
              <span className="inline-flex items-center gap-1.5 text-xs text-sky-700">
                <span className="h-2 w-2 animate-pulse rounded-full bg-sky-500" aria-hidden /> Live
              </span>
            )}
          </div>
          <div className="flex flex-wrap gap-x-8 gap-y-2">
            <Stat label="Trigger">{formatTrigger(run.trigger)}</Stat>
            <Stat label="Started">
              <time
                dateTime={run.startedAt ?? run.createdAt}
                title={absoluteTime(run.startedAt ?? run.createdAt)}
              >
                {relativeTime(run.startedAt ?? run.createdAt, now)}
              </time>
            </Stat>
            <Stat label="Duration">{formatDuration(duration)}</Stat>
            {queuedMs !== null && queuedMs > 0 && <Stat label="Queued">{formatDuration(queuedMs)}</Stat>}
            <Stat label="Steps">{run.stepCount ?? steps.length}</Stat>
            <Stat label="Tokens">{formatTokens(run.tokens)}</Stat>
            <Stat label="Cost">{formatCost(run.cost)}</Stat>
          </div>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          {active && (
            <Button variant="danger" disabled={busy !== null} onClick={() => void cancel()}>
              Cancel run
            </Button>
          )}
          {newer && (
            <Button
              variant="primary"
              disabled={busy !== null}
              onClick={() => void rerun(undefined, 'latest')}
            >
              {busy === 'rerun-latest' ? 'Starting…' : `Rerun on latest (v${latestVersion})`}
            </Button>
          )}
          <Button
            variant={newer ? 'secondary' : 'primary'}
            disabled={busy !== null}
            onClick={() => void rerun()}
          >
            {busy === 'rerun'
              ? 'Starting…'
              : `Rerun as it ran${run.version !== null ? ` (v${run.version})` : ''}`}
          </Button>
          {run.workflowId && (
            <Button disabled={busy !== null} onClick={() => setComparing(true)}>
              Compare…
            </Button>
          )}
          {run.workflowId && (
            <Link
              href={`/workflows/${run.workflowId}${run.version ? `?version=${run.version}` : ''}`}
              className="inline-flex h-8 items-center rounded-md border border-slate-300 bg-white px-3 text-sm font-medium text-slate-800 shadow-sm hover:bg-slate-50"
            >
              Open in editor
            </Link>
          )}
          {newer && (
            <p role="note" className="basis-full text-xs text-amber-700">
              A newer version (v{latestVersion}) exists; this run used v{run.version}.
            </p>
          )}
        </div>
      </section>

      {actionError && (
        <p role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
          {actionError}
        </p>
      )}
      {run.error && (
        <div
          role="alert"
          aria-label="Run error"
          className="rounded-lg border border-red-200 bg-red-50 px-4 py-3"
        >
          <span className="mr-2 font-mono text-xs font-semibold text-red-600">{run.error.code}</span>
          <span className="text-sm text-red-900">{run.error.message}</span>
        </div>
      )}
      {waitingApprovals.map((s) => (
        <ApprovalPanel
          key={s.id}
          runId={runId}
          step={s}
          name={names.get(s.nodeId) ?? s.nodeId}
          onDone={() => void reload()}
        />
      ))}

      <div className="grid min-h-0 gap-4 xl:grid-cols-[minmax(0,1fr)_440px]">
        <div className="flex min-w-0 flex-col gap-4">
          <section
            aria-label="Graph"
            className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm"
          >
            <div className="flex items-center justify-between border-b border-slate-100 px-4 py-2">
              <h2 className="text-sm font-semibold text-slate-800">
                Graph <span className="font-normal text-slate-400">as of v{run.version ?? '?'}</span>
              </h2>
              <OutcomeLegend />
            </div>
            <div className="h-96 bg-slate-50">
              {definition ? (
                <RunCanvas
                  definition={definition}
                  outcomes={outcomes}
                  finished={!active}
                  selectedNodeId={selected?.parentNodeId ?? selected?.nodeId ?? null}
                  onSelectNode={(id) => setSelectedId(outcomes.get(id)?.lastStepId ?? null)}
                />
              ) : (
                <div className="grid h-full place-items-center text-sm text-slate-400">
                  {run.workflowId ? <Spinner label="Loading graph" /> : 'No saved workflow for this run'}
                </div>
              )}
            </div>
          </section>
          <section
            aria-label="Timeline"
            className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm"
          >
            <div className="border-b border-slate-100 px-4 py-2">
              <h2 className="text-sm font-semibold text-slate-800">Timeline</h2>
            </div>
            <Waterfall
              steps={steps}
              runStart={run.startedAt ?? run.createdAt}
              // A finished run's layout never changes; only a live one grows its open bars.
              now={live ? now : finishedMs}
              names={names}
              selectedStepId={selectedId}
              onSelect={setSelectedId}
              reused={reused}
              sourceRunId={sourceRunId}
            />
          </section>
        </div>
        <aside
          aria-label="Inspector"
          className="flex min-w-0 flex-col gap-3 xl:sticky xl:top-4 xl:max-h-[calc(100vh-6rem)] xl:self-start xl:overflow-y-auto"
        >
          {selected ? (
            <StepInspector
              key={selected.id}
              runId={runId}
              workflowId={run.workflowId}
              step={selected}
              steps={steps}
              node={definition?.nodes.find((n) => n.id === selected.nodeId)}
              name={names.get(selected.nodeId) ?? selected.nodeId}
              canRerun={!!run.workflowId && busy === null}
              onSelect={setSelectedId}
              onRerunFrom={(id) => void rerun(id)}
              version={run.version}
              latestVersion={latestVersion}
              reusedFrom={reused.has(selected.id) ? sourceRunId : null}
              onClose={() => setSelectedId(null)}
            />
          ) : (
            <>
              <p className="rounded-lg border border-dashed border-slate-300 bg-white px-3 py-2 text-xs text-slate-500">
                Select a node or a bar to inspect a step.
              </p>
              <JsonView title="Run input" value={run.input} />
              <JsonView
                title="Run output"
                value={run.output}
                empty={active ? 'Still running' : 'No output'}
              />
            </>
          )}
        </aside>
      </div>
      <ComparePicker run={run} open={comparing} onClose={() => setComparing(false)} />
    </div>
  );
}
