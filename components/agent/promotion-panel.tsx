'use client';
import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { RECOMMENDATION_LABEL, currentModeLabel, ms, percent, signedMs, usd } from './format';
import type { PromotionAction, PromotionReport, StepReport } from './types';

// Evidence before trusting an agent: the promotion report of one step, with the actions that save
// a new workflow version. Mount it where a node is selected (e.g. the editor's config panel) when
// the node type is agent-capable. Talks to GET/POST /api/workflows/:id/promotion only.

export interface PromotionPanelProps {
  workflowId: string;
  nodeId: string;
  /** Runs to look back over (default: the API's, 50). */
  limit?: number;
  /** The latest saved version: the report reloads when it changes. */
  savedVersion?: number;
  /** Called after an action saved a new version, so the editor can reload the definition. */
  onVersionSaved?: (saved: { version: number; action: PromotionAction }) => void;
}

const ACTIONS: { action: PromotionAction; label: string; hint: string }[] = [
  { action: 'promote', label: 'Promote', hint: 'Use the agent; the deterministic step stays as fallback' },
  { action: 'shadow', label: 'Shadow', hint: 'Run both, use the deterministic output, compare' },
  { action: 'demote', label: 'Demote', hint: 'Run the deterministic step only' },
];

function Row({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div className="flex justify-between gap-3 py-0.5 text-xs" title={title}>
      <dt className="text-slate-500">{label}</dt>
      <dd className="font-mono text-slate-800 tabular-nums">{value}</dd>
    </div>
  );
}

function isActive(action: PromotionAction, current: StepReport['current']): boolean {
  if (action === 'demote') return current.mode === 'workflow';
  if (action === 'shadow') return current.mode === 'agent' && current.shadow;
  return current.mode === 'agent' && !current.shadow;
}

export function PromotionPanel({
  workflowId,
  nodeId,
  limit,
  savedVersion,
  onVersionSaved,
}: PromotionPanelProps) {
  const [report, setReport] = useState<StepReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<PromotionAction | 'load' | null>('load');
  const [saved, setSaved] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<PromotionAction | null>(null);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      setBusy('load');
      try {
        const q = new URLSearchParams({ nodeId, ...(limit ? { limit: String(limit) } : {}) });
        const r = await api<PromotionReport>(
          `/api/workflows/${encodeURIComponent(workflowId)}/promotion?${q}`,
          {
            signal,
          },
        );
        setReport(r.steps[0] ?? null);
        setError(null);
      } catch (err) {
        if ((err as Error).name !== 'AbortError') setError(errorMessage(err));
      } finally {
        if (!signal?.aborted) setBusy(null);
      }
    },
    [workflowId, nodeId, limit],
  );

  useEffect(() => {
    const ctrl = new AbortController();
    void load(ctrl.signal);
    return () => ctrl.abort();
  }, [load, savedVersion]);

  /** Acting against the report's advice is deliberate: it asks first (issue 20 §7). */
  function choose(action: PromotionAction) {
    const advice = report?.recommendation.action;
    if (advice && advice !== action && advice !== 'keep') setConfirming(action);
    else void act(action);
  }

  async function act(action: PromotionAction) {
    setBusy(action);
    setSaved(null);
    try {
      const res = await api<{ version: number }>(
        `/api/workflows/${encodeURIComponent(workflowId)}/promotion`,
        {
          method: 'POST',
          body: { nodeId, action },
        },
      );
      setSaved(`Saved version ${res.version}`);
      onVersionSaved?.({ version: res.version, action });
      await load();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(null);
    }
  }

  const reasons = report ? Object.entries(report.fallback.byReason).sort((a, b) => b[1] - a[1]) : [];
  const fields = report ? Object.entries(report.agreement.fields) : [];

  return (
    <section aria-label="Promotion report" className="flex flex-col gap-3 text-sm">
      <div className="flex items-center justify-between">
        <h3 className="text-[11px] font-semibold tracking-wider text-slate-400 uppercase">
          Promotion report
        </h3>
        <Button
          size="sm"
          variant="ghost"
          onClick={() => void load()}
          disabled={busy !== null}
          aria-label="Refresh report"
        >
          Refresh
        </Button>
      </div>
      {error && (
        <p role="alert" className="rounded-md bg-red-50 px-2 py-1 text-xs text-red-700">
          {error}
        </p>
      )}
      {!report && busy === 'load' && <p className="text-xs text-slate-500">Loading…</p>}
      {report && (
        <>
          <p className="text-xs text-slate-600">
            Mode: <span className="font-medium text-slate-800">{currentModeLabel(report.current)}</span>
          </p>
          <div
            role="status"
            aria-label="Recommendation"
            className="rounded-md border border-slate-200 bg-slate-50 px-2 py-1.5 text-xs"
          >
            <p className="font-semibold text-slate-800">
              {RECOMMENDATION_LABEL[report.recommendation.action]}
            </p>
            <p className="text-slate-600">{report.recommendation.reason}</p>
          </div>
          <dl aria-label="Evidence">
            <Row
              label="Runs compared"
              value={`${report.count} (agent ${report.byMode.agent}, shadow ${report.byMode.shadow}, fallback ${report.byMode.fallback})`}
            />
            <Row
              label="Exact agreement"
              value={`${percent(report.agreement.exactMatchRate)} of ${report.agreement.compared}`}
              title="Shadow runs where the agent's output equals the deterministic output"
            />
            {fields.map(([k, v]) => (
              <Row key={k} label={`  field ${k}`} value={percent(v)} />
            ))}
            <Row label="Fallback rate" value={percent(report.fallback.rate)} />
            {reasons.map(([k, v]) => (
              <Row key={k} label={`  ${k}`} value={percent(v)} />
            ))}
            <Row
              label="Latency (agent vs deterministic)"
              value={`${ms(report.latency.agentMs)} vs ${ms(report.latency.deterministicMs)} (${signedMs(report.latency.deltaMs)})`}
            />
            <Row
              label="Cost per run (agent vs deterministic)"
              value={`${usd(report.cost.agentUsd)} vs ${usd(report.cost.deterministicUsd)} (${usd(report.cost.deltaUsd, true)})`}
            />
          </dl>
          <div className="flex flex-wrap gap-2" role="group" aria-label="Change mode">
            {ACTIONS.map(({ action, label, hint }) => (
              <Button
                key={action}
                size="sm"
                variant={report.recommendation.action === action ? 'primary' : 'secondary'}
                title={hint}
                aria-pressed={isActive(action, report.current)}
                disabled={busy !== null || isActive(action, report.current)}
                onClick={() => choose(action)}
              >
                {label}
              </Button>
            ))}
          </div>
          {saved && (
            <p role="status" className="text-xs text-emerald-700">
              {saved}
            </p>
          )}
        </>
      )}
      <Dialog
        open={confirming !== null}
        title={`${ACTIONS.find((a) => a.action === confirming)?.label ?? ''} against the recommendation?`}
        onClose={() => setConfirming(null)}
        footer={
          <>
            <Button variant="secondary" onClick={() => setConfirming(null)}>
              Cancel
            </Button>
            <Button
              onClick={() => {
                const a = confirming!;
                setConfirming(null);
                void act(a);
              }}
            >
              {ACTIONS.find((a) => a.action === confirming)?.label ?? ''} anyway
            </Button>
          </>
        }
      >
        <p className="mb-1 font-medium">
          The report recommends: {report ? RECOMMENDATION_LABEL[report.recommendation.action] : ''}
        </p>
        <p className="text-slate-600">{report?.recommendation.reason}</p>
      </Dialog>
    </section>
  );
}
