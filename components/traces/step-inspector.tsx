'use client';
import { useEffect, useMemo, useState } from 'react';
import Link from 'next/link';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Spinner } from '@/components/ui/spinner';
import type { WorkflowNode } from '@/lib/workflow/definition';
import { AgentView } from './agent-view';
import { BrowserActions } from './browser-actions';
import { absoluteTime, durationOf, formatCost, formatDuration, formatTokens, shortId } from './format';
import { JsonView } from './json-view';
import { attemptsOf } from './node-outcomes';
import { StatusBadge, stepOutcome } from './run-status';
import type { StepSummary, StepWithTurns } from './types';
import { VirtualList } from './virtual-list';

const ITEM_ROW_H = 30;

function Meta({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="flex flex-col">
      <dt className="text-[10px] font-medium tracking-wide text-slate-400 uppercase">{label}</dt>
      <dd className="text-sm text-slate-800 tabular-nums">{children}</dd>
    </div>
  );
}

/** Which arm served an agent-capable step (the canary's agent arm, or the deterministic one). */
const ARM_TEXT: Record<string, string> = {
  agent: 'served by the agent',
  fallback: 'agent arm, fell back: deterministic output served',
  shadow: 'deterministic arm served, agent in shadow',
};

export function StepInspector({
  runId,
  workflowId = null,
  step,
  steps,
  node,
  name,
  canRerun,
  onSelect,
  onRerunFrom,
  version: runVersion = null,
  latestVersion = null,
  reusedFrom = null,
  onClose,
}: {
  runId: string;
  /** The run's workflow (null for an ad-hoc run): accepting a browser step's actions saves to it. */
  workflowId?: string | null;
  step: StepSummary;
  steps: StepSummary[];
  node: WorkflowNode | undefined;
  name: string;
  canRerun: boolean;
  onSelect: (stepId: string) => void;
  onRerunFrom: (nodeId: string) => void;
  /** The version the run used and the workflow's newest: a rerun from a step runs the former. */
  version?: number | null;
  latestVersion?: number | null;
  /** This step was copied from that run by a rerun, not run again. */
  reusedFrom?: string | null;
  onClose: () => void;
}) {
  const [detail, setDetail] = useState<StepWithTurns | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Refetch when the step finishes: a running step's output is not there yet.
  const version = `${step.id}:${step.status}`;
  useEffect(() => {
    let off = false;
    setError(null);
    api<StepWithTurns>(`/api/runs/${runId}/steps/${step.id}`).then(
      (r) => !off && setDetail(r),
      (e) => !off && setError(errorMessage(e)),
    );
    return () => {
      off = true;
    };
  }, [runId, version, step.id]);

  const attempts = useMemo(() => attemptsOf(steps, step), [steps, step]);
  const items = useMemo(() => {
    const byItem = new Map<number, StepSummary>();
    for (const s of steps) {
      if (s.parentNodeId !== step.nodeId || step.parentNodeId) continue;
      const key = s.itemIndex ?? -1;
      const prev = byItem.get(key);
      // One row per item: its latest step (a body of several nodes shows its last one).
      if (!prev || s.startedAt >= prev.startedAt) byItem.set(key, s);
    }
    return [...byItem.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
  }, [steps, step]);

  const d = detail?.step.id === step.id ? detail : null;
  const outcome = stepOutcome(step);
  const isAgent = step.mode !== 'workflow' || (d?.agentTurns.length ?? 0) > 0;

  return (
    <div className="flex flex-col gap-3" aria-label={`Step ${name}`} role="region">
      <div className="flex items-start justify-between gap-2">
        <div className="min-w-0">
          <div className="flex items-center gap-2">
            <h2 className="truncate text-base font-semibold text-slate-900">{name}</h2>
            <StatusBadge status={outcome} />
          </div>
          <p className="text-xs text-slate-500">
            <span className="font-mono">{step.nodeType}</span> ·{' '}
            <span className="font-mono">{step.nodeId}</span>
            {step.itemIndex !== null && step.itemIndex !== undefined && <> · item {step.itemIndex}</>}
            {step.mode !== 'workflow' && <> · {ARM_TEXT[step.mode] ?? `mode ${step.mode}`}</>}
          </p>
        </div>
        <Button variant="ghost" size="sm" onClick={onClose} aria-label="Close step inspector">
          ✕
        </Button>
      </div>

      {reusedFrom && (
        <p role="note" className="rounded-md bg-slate-100 px-3 py-1.5 text-xs text-slate-600">
          Reused from{' '}
          <Link href={`/runs/${reusedFrom}`} className="font-medium text-brand-700 hover:underline">
            run #{shortId(reusedFrom)}
          </Link>
          : this rerun copied the step&apos;s result instead of running it again.
        </p>
      )}

      <dl className="grid grid-cols-3 gap-x-3 gap-y-2 rounded-lg border border-slate-200 bg-white p-3">
        <Meta label="Attempt">
          {step.attempt} of {attempts.length}
        </Meta>
        <Meta label="Duration">{formatDuration(durationOf(step))}</Meta>
        <Meta label="Started">
          <span title={absoluteTime(step.startedAt)}>{new Date(step.startedAt).toLocaleTimeString()}</span>
        </Meta>
        <Meta label="Tokens">{formatTokens(step.tokens)}</Meta>
        <Meta label="Cost">{formatCost(step.cost)}</Meta>
        <Meta label="Handle">{step.handle ?? '—'}</Meta>
      </dl>

      {canRerun && !step.parentNodeId && (
        <Button
          variant="secondary"
          onClick={() => onRerunFrom(step.nodeId)}
          aria-label={`Rerun from ${name}`}
        >
          <svg
            width="14"
            height="14"
            viewBox="0 0 16 16"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.6"
            aria-hidden
          >
            <path d="M13 8a5 5 0 11-1.5-3.5M13 2v3h-3" />
          </svg>
          Rerun from this step{runVersion !== null ? ` as it ran (v${runVersion})` : ''}
        </Button>
      )}
      {canRerun &&
        !step.parentNodeId &&
        runVersion !== null &&
        latestVersion !== null &&
        latestVersion > runVersion && (
          <p role="note" className="text-xs text-amber-700">
            v{latestVersion} is newer: a rerun from a step reuses this run&apos;s steps, so it runs v
            {runVersion}. Use &ldquo;Rerun on latest&rdquo; to run v{latestVersion} from the start.
          </p>
        )}

      {attempts.length > 1 && (
        <section aria-label="Attempts" className="rounded-lg border border-slate-200 bg-white">
          <h3 className="border-b border-slate-100 px-3 py-1.5 text-xs font-semibold tracking-wide text-slate-500 uppercase">
            Attempts
          </h3>
          <ol className="divide-y divide-slate-100">
            {attempts.map((a, i) => {
              const prev = attempts[i - 1];
              const backoff = prev?.finishedAt ? Date.parse(a.startedAt) - Date.parse(prev.finishedAt) : null;
              return (
                <li key={a.id}>
                  <button
                    type="button"
                    onClick={() => onSelect(a.id)}
                    aria-current={a.id === step.id ? 'true' : undefined}
                    className={`flex w-full items-center gap-2 px-3 py-1.5 text-left text-xs hover:bg-slate-50 ${a.id === step.id ? 'bg-brand-50/60' : ''}`}
                  >
                    <span className="w-16 font-medium text-slate-700">Attempt {a.attempt}</span>
                    <StatusBadge status={stepOutcome(a)} />
                    <span className="text-slate-500 tabular-nums">{formatDuration(durationOf(a))}</span>
                    {backoff !== null && backoff > 0 && (
                      <span className="text-amber-700">after {formatDuration(backoff)} backoff</span>
                    )}
                  </button>
                </li>
              );
            })}
          </ol>
        </section>
      )}

      {error && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
          Could not load the step: {error}
        </p>
      )}
      {!d && !error && <Spinner label="Loading step" />}

      {d?.step.error && (
        <div
          role="alert"
          aria-label="Step error"
          className="rounded-lg border border-red-200 bg-red-50 px-3 py-2"
        >
          <div className="font-mono text-[11px] font-semibold text-red-600">{d.step.error.code}</div>
          <div className="text-sm text-red-900">{d.step.error.message}</div>
          {d.step.error.details !== undefined && (
            <div className="mt-2">
              <JsonView title="Error details" value={d.step.error.details} tone="error" openDepth={1} />
            </div>
          )}
        </div>
      )}

      {items.length > 0 && (
        <section aria-label="Map items" className="rounded-lg border border-slate-200 bg-white">
          <h3 className="border-b border-slate-100 px-3 py-1.5 text-xs font-semibold tracking-wide text-slate-500 uppercase">
            Items ({items.length}
            {items.some((s) => s.status === 'failed')
              ? `, ${items.filter((s) => s.status === 'failed').length} failed`
              : ''}
            )
          </h3>
          <VirtualList
            items={items}
            rowHeight={ITEM_ROW_H}
            height={Math.min(items.length, 8) * ITEM_ROW_H}
            label="Map items"
            getKey={(s) => s.id}
            renderRow={(s) => (
              <button
                type="button"
                onClick={() => onSelect(s.id)}
                className="flex h-full w-full items-center gap-2 border-b border-slate-50 px-3 text-left text-xs hover:bg-slate-50"
              >
                <span className="w-14 font-mono text-slate-500">#{s.itemIndex}</span>
                <StatusBadge status={stepOutcome(s)} />
                <span className="truncate text-slate-600">{s.nodeId}</span>
                {s.attempt > 1 && <span className="text-amber-700">attempt {s.attempt}</span>}
                <span className="ml-auto text-slate-500 tabular-nums">{formatDuration(durationOf(s))}</span>
              </button>
            )}
          />
        </section>
      )}

      {d && step.nodeType === 'browser' && (
        <BrowserActions runId={runId} workflowId={workflowId} step={d.step} />
      )}

      {d && isAgent && <AgentView step={d.step} turns={d.agentTurns} />}

      {d && (
        <>
          <JsonView title="Input" value={d.step.input} />
          {step.mode !== 'shadow' && (
            <JsonView
              title="Output"
              value={d.step.output}
              empty={step.status === 'running' ? 'Still running' : 'No output'}
            />
          )}
        </>
      )}
      {node && (
        <JsonView
          title="Configuration"
          openDepth={1}
          value={{
            config: node.config,
            ...(node.retry ? { retry: node.retry } : {}),
            ...(node.timeoutMs ? { timeoutMs: node.timeoutMs } : {}),
            ...(node.onError ? { onError: node.onError } : {}),
            ...(node.mode ? { mode: node.mode } : {}),
            ...(node.agent ? { agent: node.agent } : {}),
          }}
        />
      )}
      <p className="text-[11px] text-slate-400">
        Step <span className="font-mono">{shortId(step.id)}</span>
      </p>
    </div>
  );
}
