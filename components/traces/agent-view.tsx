'use client';
import { useState } from 'react';
import { ConversationView } from './conversation-view';
import { fallbackExplanation } from './fallback-reason';
import { formatCost, formatDuration, formatTokens } from './format';
import { CopyButton } from './copy-button';
import { JsonTree } from './json-view';
import { ShadowComparison } from './shadow-compare';
import type { AgentTurn, StepDetail } from './types';
import { AgentSummary } from '@/components/agent/agent-summary';
import { StatusIcon } from '@/components/ui/status-icon';

const kindStyle: Record<string, { label: string; tone: string }> = {
  request: { label: 'Model request', tone: 'bg-slate-100 text-slate-700' },
  response: { label: 'Model response', tone: 'bg-indigo-50 text-indigo-700' },
  tool_call: { label: 'Tool call', tone: 'bg-sky-50 text-sky-700' },
  tool_result: { label: 'Tool result', tone: 'bg-teal-50 text-teal-700' },
  validation_error: { label: 'Validation error', tone: 'bg-red-50 text-red-700' },
  note: { label: 'Note', tone: 'bg-amber-50 text-amber-800' },
};

function turnHeadline(t: AgentTurn): string | null {
  const p = t.payload as Record<string, unknown> | null;
  if (!p || typeof p !== 'object') return typeof t.payload === 'string' ? t.payload : null;
  if (t.kind === 'tool_call' || t.kind === 'tool_result') {
    const name = (p.name ?? p.tool ?? (p.function as Record<string, unknown> | undefined)?.name) as
      string | undefined;
    return name ? String(name) : null;
  }
  if (t.kind === 'response' && typeof p.content === 'string') return p.content;
  if (typeof p.message === 'string') return p.message;
  return null;
}

export function AgentView({ step, turns }: { step: StepDetail; turns: AgentTurn[] }) {
  const [view, setView] = useState<'conversation' | 'raw'>('conversation');
  const tokens = turns.reduce((n, t) => n + (t.tokens ?? 0), 0) || step.tokens || 0;
  const cost = turns.reduce((n, t) => n + (t.cost ?? 0), 0) || step.cost || 0;
  const reason =
    step.mode === 'fallback' || step.fallbackReason ? fallbackExplanation(step.fallbackReason, turns) : null;
  return (
    <section aria-label="Agent" className="flex flex-col gap-3">
      <div className="flex items-center justify-between">
        <h3 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">Agent turns</h3>
        <div className="flex gap-3 text-xs text-slate-600">
          <span>
            {turns.length} turn{turns.length === 1 ? '' : 's'}
          </span>
          <span>
            <span className="text-slate-400">tokens</span> {formatTokens(tokens)}
          </span>
          <span>
            <span className="text-slate-400">cost</span> {formatCost(cost)}
          </span>
        </div>
      </div>
      {reason && (
        <div
          role="note"
          aria-label="Fallback reason"
          className="rounded-lg border border-orange-200 bg-orange-50 px-3 py-2 text-sm text-orange-950"
        >
          <div className="flex items-center gap-1 text-[11px] font-semibold tracking-wide text-orange-700 uppercase">
            <StatusIcon status="fallback" />
            Fell back to the deterministic step{step.fallbackReason ? ` · ${step.fallbackReason}` : ''}
          </div>
          {reason}
        </div>
      )}
      {step.mode === 'shadow' && <ShadowComparison step={step} />}
      <AgentSummary turns={turns} />
      {turns.length > 0 && (
        <div
          role="radiogroup"
          aria-label="Turns view"
          className="flex gap-1 self-start rounded-md bg-slate-100 p-0.5 text-xs"
        >
          {(['conversation', 'raw'] as const).map((v) => (
            <button
              key={v}
              type="button"
              role="radio"
              aria-checked={view === v}
              onClick={() => setView(v)}
              className={`rounded px-2 py-0.5 font-medium ${view === v ? 'bg-white text-slate-900 shadow-sm' : 'text-slate-500 hover:text-slate-800'}`}
            >
              {v === 'conversation' ? 'Conversation' : 'Raw JSON'}
            </button>
          ))}
        </div>
      )}
      {turns.length === 0 ? (
        <p className="text-sm text-slate-500">No agent turns were recorded for this step.</p>
      ) : view === 'conversation' ? (
        <ConversationView turns={turns} />
      ) : (
        <ol className="flex flex-col gap-2" aria-label="Agent turns">
          {turns.map((t, i) => {
            const k = kindStyle[t.kind] ?? { label: t.kind, tone: 'bg-slate-100 text-slate-700' };
            const head = turnHeadline(t);
            return (
              <li key={t.id ?? `${t.seq}-${i}`} className="rounded-lg border border-slate-200 bg-white">
                <div className="flex items-center gap-2 px-2.5 py-1.5 text-xs">
                  <span className="w-5 text-right text-slate-400 tabular-nums">{t.seq}</span>
                  <span className={`rounded px-1.5 py-px text-[11px] font-semibold ${k.tone}`}>
                    {k.label}
                  </span>
                  {head && <span className="min-w-0 flex-1 truncate text-slate-600">{head}</span>}
                  <span className="ml-auto flex shrink-0 gap-2 text-slate-500 tabular-nums">
                    {t.tokens ? <span>{formatTokens(t.tokens)} tok</span> : null}
                    {t.cost ? <span>{formatCost(t.cost)}</span> : null}
                    {t.latencyMs ? <span>{formatDuration(t.latencyMs)}</span> : null}
                  </span>
                  <CopyButton
                    label={`Copy turn ${t.seq} payload`}
                    text={() => JSON.stringify(t.payload, null, 2) ?? ''}
                  />
                </div>
                <div className="border-t border-slate-100 px-1.5 py-1">
                  <JsonTree
                    label={`Turn ${t.seq} payload`}
                    value={t.payload}
                    openDepth={t.kind === 'request' ? 1 : 2}
                  />
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
