'use client';
import { useState } from 'react';
import {
  describeTarget,
  type ActionLog,
  type BrowserTrace as BrowserTraceShape,
} from '@/lib/browser/action-log';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { formatDuration } from './format';
import type { StepDetail } from './types';

// A browser step in the trace: each action with what it acted on, its timing as a mini waterfall,
// and the screenshot (and DOM snapshot, when kept) taken after it; the requests the guard refused; and, for a step that ran to
// the end, "Accept as the step's actions" (a healed sequence becomes the next run's replay).

type BrowserTrace = Partial<BrowserTraceShape>;

/** The browser trace of a step: its output, or (a failed step) the error details. */
export function browserTraceOf(step: StepDetail): BrowserTrace | null {
  const fromOutput = step.output as BrowserTrace | null | undefined;
  if (fromOutput && Array.isArray(fromOutput.actions)) return fromOutput;
  const fromError = step.error?.details as BrowserTrace | undefined;
  if (fromError && Array.isArray(fromError.actions)) return fromError;
  return null;
}

const curly = (s: string) => `“${s}”`;

function describeAction(a: ActionLog): string {
  const t = a.target;
  if (t && (t.role || t.label || t.text || t.css)) return describeTarget(t, curly);
  if (a.type === 'goto' && a.url) return a.url;
  return '';
}

const pct = (v: number, total: number) => `${Math.min(100, (v / total) * 100)}%`;

export function BrowserActions({
  runId,
  workflowId,
  step,
}: {
  runId: string;
  workflowId: string | null;
  step: StepDetail;
}) {
  const trace = browserTraceOf(step);
  const [accepting, setAccepting] = useState(false);
  const [accepted, setAccepted] = useState<string | null>(null);
  const [acceptError, setAcceptError] = useState<string | null>(null);
  if (!trace) return null;
  const actions = trace.actions ?? [];
  const total = Math.max(1, ...actions.map((a) => a.startMs + a.durationMs));
  const src = (id: string) => `/api/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(id)}`;

  const accept = async () => {
    if (!workflowId) return;
    setAccepting(true);
    setAcceptError(null);
    try {
      const r = await api<{ version: number; actions: number }>(
        `/api/workflows/${encodeURIComponent(workflowId)}/nodes/${encodeURIComponent(step.nodeId)}/browser-actions`,
        { method: 'POST', body: { stepId: step.id } },
      );
      setAccepted(
        `Saved as version ${r.version}: ${r.actions} actions, replayed without the model next run.`,
      );
    } catch (e) {
      setAcceptError(errorMessage(e));
    } finally {
      setAccepting(false);
    }
  };

  return (
    <section aria-label="Browser actions" className="rounded-lg border border-slate-200 bg-white">
      <h3 className="border-b border-slate-100 px-3 py-1.5 text-xs font-semibold tracking-wide text-slate-500 uppercase">
        Browser actions ({actions.length})
      </h3>
      {trace.healed && (
        <p role="note" className="border-b border-teal-100 bg-teal-50 px-3 py-1.5 text-xs text-teal-800">
          Healed from action {trace.healed.fromAction}: {trace.healed.reason}
        </p>
      )}
      {actions.length === 0 ? (
        <p className="px-3 py-3 text-xs text-slate-500">No action ran.</p>
      ) : (
        <ol className="divide-y divide-slate-100">
          {actions.map((a, i) => {
            const label = `${a.index < 0 ? 'start' : `#${a.index}`} ${a.type}`;
            return (
              <li key={i} aria-label={`Action ${label}`} className="flex gap-3 px-3 py-2 text-xs">
                <div className="min-w-0 flex-1">
                  <div className="flex items-center gap-2">
                    <span className="font-mono font-medium text-slate-700">{label}</span>
                    {a.by === 'agent' && (
                      <span className="rounded bg-teal-50 px-1 text-[10px] font-medium text-teal-700">
                        agent
                      </span>
                    )}
                    {a.status !== 'ok' && (
                      <span className="rounded bg-red-50 px-1 text-[10px] font-medium text-red-700">
                        {a.status}
                      </span>
                    )}
                    <span className="ml-auto text-slate-500 tabular-nums">
                      {formatDuration(a.durationMs)}
                    </span>
                  </div>
                  <div className="truncate text-slate-600" title={describeAction(a)}>
                    {describeAction(a)}
                    {a.value !== undefined && <span className="text-slate-400"> ← {a.value}</span>}
                  </div>
                  {a.observed && (
                    <div className="truncate text-[11px] text-slate-400">
                      acted on {a.observed.role} “{a.observed.name}”
                      {a.observed.near ? ` in “${a.observed.near}”` : ''}
                    </div>
                  )}
                  {a.error && <div className="text-[11px] text-red-700">{a.error}</div>}
                  {a.dom && (
                    // Served sandboxed (no script, no subresource): the page's HTML as it was.
                    <a
                      href={src(a.dom)}
                      target="_blank"
                      rel="noreferrer"
                      className="text-[11px] text-brand-700 underline"
                      aria-label={`DOM snapshot after ${label}`}
                    >
                      DOM snapshot
                    </a>
                  )}
                  <div className="relative mt-1 h-1.5 rounded bg-slate-100" aria-hidden>
                    <div
                      className={`absolute top-0 h-1.5 rounded ${a.status === 'ok' ? (a.by === 'agent' ? 'bg-teal-500' : 'bg-brand-500') : 'bg-red-500'}`}
                      style={{ left: pct(a.startMs, total), width: `max(2px, ${pct(a.durationMs, total)})` }}
                    />
                  </div>
                </div>
                {a.screenshot && (
                  <a href={src(a.screenshot)} target="_blank" rel="noreferrer" className="shrink-0">
                    <img
                      src={src(a.screenshot)}
                      alt={`Screenshot after ${label}`}
                      width={120}
                      height={68}
                      loading="lazy"
                      className="h-[68px] w-[120px] rounded border border-slate-200 object-cover object-top"
                    />
                  </a>
                )}
              </li>
            );
          })}
        </ol>
      )}
      {(trace.blocked?.length ?? 0) > 0 && (
        <div className="border-t border-slate-100 px-3 py-2">
          <h4 className="text-[11px] font-semibold text-amber-800">
            Blocked requests ({trace.blocked!.length})
          </h4>
          <ul className="mt-1 space-y-0.5 text-[11px] text-slate-600">
            {trace.blocked!.map((b, i) => (
              <li key={i} className="truncate" title={`${b.url}: ${b.reason}`}>
                <span className="font-mono">{b.url}</span> — {b.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      {workflowId && step.status === 'succeeded' && (
        <div className="flex flex-col gap-1 border-t border-slate-100 px-3 py-2">
          <Button
            variant={trace.healed ? 'primary' : 'secondary'}
            size="sm"
            onClick={() => void accept()}
            disabled={accepting || !!accepted}
          >
            {trace.healed ? 'Accept the healed actions' : 'Accept these actions as recorded'}
          </Button>
          {accepted && (
            <p role="status" className="text-xs text-teal-800">
              {accepted}
            </p>
          )}
          {acceptError && (
            <p role="alert" className="text-xs text-red-700">
              {acceptError}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
