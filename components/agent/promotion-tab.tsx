'use client';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import type { RolloutGates } from '@/lib/workflow/definition';
import { describeGate, gateComparison, type GateResult } from '@/lib/workflow/gates';
import { STAGES, stageLabel, type StageState } from '@/lib/workflow/rollout';
import { DEFAULT_CANARY_PERCENT, MAX_CANARY_PERCENT, MIN_CANARY_PERCENT } from '@/lib/workflow/limits';
import { BacktestPanel } from './backtest-panel';
import { GatesForm } from './gates-form';
import { GraduationPanel } from './graduation-panel';
import { PromotionPanel } from './promotion-panel';
import type { RolloutEvent, StepRollout } from './rollout-types';

// The Promotion tab of one step (issue 16 §6): its rollout stage and the actions that move it,
// the gates and their live verdict, the rollout log, and the promotion report. Talks to
// /api/workflows/:id/rollout (+ /kill, /events) and /promotion over HTTP only.

export interface PromotionTabProps {
  workflowId: string;
  nodeId: string;
  /** The latest saved version: the tab reloads when it changes. */
  savedVersion?: number;
  /** A change saved a new version: the editor reloads the definition so the canvas shows it. */
  onVersionSaved?: (version: number) => void;
}

const GATE_NAME: Record<GateResult['gate'], string> = {
  minSample: 'Sample',
  agreement: 'Agreement',
  fallbackRate: 'Fallback rate',
  p95LatencyMs: 'p95 latency',
  costPerRunUsd: 'Cost per run',
};
const STATUS_TEXT: Record<GateResult['status'], string> = { pass: 'pass', fail: 'fail', no_data: 'no data' };
const STATUS_TONE: Record<GateResult['status'], string> = {
  pass: 'bg-emerald-50 text-emerald-800',
  fail: 'bg-red-50 text-red-800',
  no_data: 'bg-slate-100 text-slate-600',
};
const KIND_TEXT: Record<RolloutEvent['kind'], string> = {
  stage: 'Stage change',
  gates: 'Gates changed',
  rollback: 'Automatic rollback',
  advance: 'Automatic advance',
  kill_switch: 'Kill switch',
  graduation: 'Graduated to a deterministic step',
};

interface Pending {
  to: StageState;
  title: string;
  why: string[];
}

export function PromotionTab({ workflowId, nodeId, savedVersion, onVersionSaved }: PromotionTabProps) {
  const [state, setState] = useState<StepRollout | null>(null);
  const [events, setEvents] = useState<RolloutEvent[]>([]);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);
  const [percent, setPercent] = useState(DEFAULT_CANARY_PERCENT);
  const [pending, setPending] = useState<Pending | null>(null);
  const [killOpen, setKillOpen] = useState(false);
  const base = `/api/workflows/${encodeURIComponent(workflowId)}/rollout`;

  const load = useCallback(
    async (signal?: AbortSignal) => {
      setBusy(true);
      try {
        const q = `nodeId=${encodeURIComponent(nodeId)}`;
        const [s, e] = await Promise.all([
          api<{ steps: StepRollout[] }>(`${base}?${q}`, { signal }),
          api<{ events: RolloutEvent[] }>(`${base}/events?${q}&limit=20`, { signal }),
        ]);
        setState(s.steps[0] ?? null);
        setEvents(e.events);
        setMissing(false);
        setError(null);
      } catch (err) {
        if ((err as Error).name === 'AbortError') return;
        // A node (or workflow) the server has not saved yet has no rollout: say what to do.
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setError(errorMessage(err));
      } finally {
        if (!signal?.aborted) setBusy(false);
      }
    },
    [base, nodeId],
  );

  useEffect(() => {
    const ctrl = new AbortController();
    void load(ctrl.signal);
    return () => ctrl.abort();
  }, [load, savedVersion]);

  async function send(body: Record<string, unknown>, done: string) {
    setBusy(true);
    setNotice(null);
    try {
      const r = await api<{ changed: boolean; version: number | null }>(base, {
        method: 'PUT',
        body: { nodeId, ...body },
      });
      setNotice(r.changed ? `${done}: saved version ${r.version}` : 'Nothing to change');
      if (r.changed && r.version) onVersionSaved?.(r.version);
      await load();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  function move(to: StageState) {
    if (!state) return;
    const up = STAGES.indexOf(to.stage) > STAGES.indexOf(state.stage.stage);
    // Serving the agent to more runs than the evidence vouches for is deliberate (issue 20 §7).
    if (up && (to.stage === 'canary' || to.stage === 'agent') && state.verdict.status !== 'pass') {
      const failing = state.verdict.gates.filter((g) => g.status !== 'pass').map(describeGate);
      setPending({
        to,
        title: `Move to ${stageLabel(to)} although the gates do not pass?`,
        why: failing.length ? failing : [`${state.verdict.sample} steps in the window`],
      });
      return;
    }
    void send(
      { stage: to.stage, ...(to.stage === 'canary' ? { canaryPercent: to.canaryPercent } : {}) },
      `Moved to ${stageLabel(to)}`,
    );
  }

  async function kill() {
    setKillOpen(false);
    setBusy(true);
    try {
      const r = await api<{ changed: boolean; version: number | null; demoted: { nodeId: string }[] }>(
        `${base}/kill`,
        { method: 'POST', body: {} },
      );
      setNotice(
        r.changed
          ? `Kill switch: ${r.demoted.length} step(s) back to workflow, version ${r.version}`
          : 'No agent step to demote',
      );
      if (r.changed && r.version) onVersionSaved?.(r.version);
      await load();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  if (missing)
    return (
      <section aria-label="Promotion" className="px-4 py-6 text-sm text-slate-600">
        <p role="status">Save and run to collect evidence: this step is not in the saved workflow yet.</p>
      </section>
    );

  const next =
    state?.next?.stage === 'canary' ? { stage: 'canary' as const, canaryPercent: percent } : state?.next;
  const current = state?.stage.stage;
  return (
    <section aria-label="Promotion" className="flex flex-col text-sm">
      {error && (
        <p role="alert" className="mx-4 mt-3 rounded-md bg-red-50 px-2 py-1 text-xs text-red-700">
          {error}
        </p>
      )}
      {!state && busy && <p className="px-4 py-3 text-xs text-slate-500">Loading rollout…</p>}
      {state && (
        <>
          <div className="border-b border-slate-100 px-4 py-3">
            <h3 className="mb-2 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">Stage</h3>
            {/* Only the stages this step's type may take: a browser step has no shadow or canary. */}
            <ol
              aria-label="Rollout stages"
              className={`mb-2 grid gap-1 text-center text-[11px] ${state.stages.length === STAGES.length ? 'grid-cols-4' : 'grid-cols-2'}`}
            >
              {state.stages.map((s) => (
                <li
                  key={s}
                  aria-current={s === current ? 'step' : undefined}
                  className={`rounded px-1 py-1 ${s === current ? 'bg-brand-600 font-semibold text-white' : 'bg-slate-100 text-slate-500'}`}
                >
                  {s === 'canary' && current === 'canary' ? state.label : s}
                </li>
              ))}
            </ol>
            <p className="mb-2 text-xs text-slate-600">{state.decision.reason}</p>
            <div className="flex flex-wrap items-end gap-2">
              {state.next?.stage === 'canary' && (
                <label className="text-[11px] text-slate-600">
                  Canary share (%)
                  <input
                    type="number"
                    min={MIN_CANARY_PERCENT}
                    max={MAX_CANARY_PERCENT}
                    value={percent}
                    onChange={(e) => setPercent(Number(e.target.value))}
                    className="ml-1 h-7 w-14 rounded-md border border-slate-300 px-1 font-mono text-xs"
                  />
                </label>
              )}
              {next && (
                <Button
                  size="sm"
                  variant={
                    state.verdict.status === 'pass' || next.stage === 'shadow' ? 'primary' : 'secondary'
                  }
                  disabled={busy}
                  onClick={() => move(next)}
                >
                  Advance to {stageLabel(next)}
                </Button>
              )}
              {(current === 'canary' || current === 'agent') && state.stages.includes('shadow') && (
                <Button
                  size="sm"
                  variant="secondary"
                  disabled={busy}
                  onClick={() => move({ stage: 'shadow' })}
                >
                  Roll back to shadow
                </Button>
              )}
              {current !== 'workflow' && (
                <Button
                  size="sm"
                  variant="secondary"
                  disabled={busy}
                  onClick={() => move({ stage: 'workflow' })}
                >
                  Demote to workflow
                </Button>
              )}
              <Button size="sm" variant="danger" disabled={busy} onClick={() => setKillOpen(true)}>
                Kill switch
              </Button>
            </div>
            {notice && (
              <p role="status" className="mt-2 text-xs text-emerald-700">
                {notice}
              </p>
            )}
          </div>

          <div className="border-b border-slate-100 px-4 py-3">
            <h3 className="mb-2 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">
              Live numbers
            </h3>
            <table aria-label="Gate verdict" className="w-full text-xs">
              <tbody>
                {state.verdict.gates.map((g) => (
                  <tr key={g.gate} className="border-b border-slate-50">
                    <th scope="row" className="py-1 text-left font-normal text-slate-500">
                      {GATE_NAME[g.gate]}
                    </th>
                    <td className="py-1 font-mono text-slate-800">{gateComparison(g)}</td>
                    <td className="py-1 text-right">
                      {/* Too few steps is waiting, not failing: no gate decides below the minimum. */}
                      <span
                        className={`rounded px-1.5 py-px text-[10px] font-semibold uppercase ${STATUS_TONE[g.gate === 'minSample' && g.status === 'fail' ? 'no_data' : g.status]}`}
                      >
                        {g.gate === 'minSample' && g.status === 'fail' ? 'too few' : STATUS_TEXT[g.status]}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <dl className="mt-2 space-y-0.5 text-xs text-slate-600">
              <div className="flex justify-between">
                <dt>Window</dt>
                <dd className="font-mono">
                  {state.verdict.sample} of {state.verdict.window} ({state.verdict.status.replace('_', ' ')})
                </dd>
              </div>
              <div className="flex justify-between">
                <dt>Served in window</dt>
                <dd className="font-mono">
                  agent {state.served.agent} · fell back {state.served.fallback} · shadow{' '}
                  {state.served.shadow}
                </dd>
              </div>
              <div className="flex justify-between">
                <dt>Since the agent config changed</dt>
                <dd className="font-mono">{state.evidence.revision} steps</dd>
              </div>
              <div className="flex justify-between">
                <dt>This stage / all</dt>
                <dd className="font-mono">
                  {state.evidence.stage} / {state.evidence.total} steps
                </dd>
              </div>
            </dl>
          </div>

          <div className="border-b border-slate-100 px-4 py-3">
            <h3 className="mb-2 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">Gates</h3>
            <GatesForm
              key={`${state.revision}-${JSON.stringify(state.gates)}-${state.autoAdvance}`}
              nodeId={nodeId}
              gates={state.gates}
              autoAdvance={state.autoAdvance}
              busy={busy}
              onSave={(gates: RolloutGates, autoAdvance) => void send({ gates, autoAdvance }, 'Gates saved')}
            />
          </div>

          <div className="border-b border-slate-100 px-4 py-3">
            <h3 className="mb-2 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">
              Backtests
            </h3>
            <BacktestPanel workflowId={workflowId} nodeId={nodeId} />
          </div>

          <div className="border-b border-slate-100 px-4 py-3">
            <h3 className="mb-2 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">
              Graduation
            </h3>
            <GraduationPanel
              workflowId={workflowId}
              nodeId={nodeId}
              onVersionSaved={(v) => {
                onVersionSaved?.(v);
                void load();
              }}
            />
          </div>

          <div className="border-b border-slate-100 px-4 py-3">
            <h3 className="mb-2 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">
              Rollout log
            </h3>
            {events.length === 0 ? (
              <p className="text-xs text-slate-500">No stage changes yet.</p>
            ) : (
              <ol aria-label="Rollout log" className="space-y-2">
                {events.map((e) => (
                  <li key={e.id} className="rounded-md border border-slate-100 px-2 py-1.5 text-xs">
                    <div className="flex justify-between gap-2">
                      <span
                        className={`font-semibold ${e.kind === 'rollback' || e.kind === 'kill_switch' ? 'text-red-700' : 'text-slate-800'}`}
                      >
                        {KIND_TEXT[e.kind]}
                        {e.fromStage && e.toStage && e.fromStage !== e.toStage
                          ? `: ${e.fromStage} → ${e.toStage}`
                          : ''}
                      </span>
                      <span className="shrink-0 text-slate-400">v{e.version}</span>
                    </div>
                    <p className="text-slate-600">{e.reason}</p>
                    <p className="text-[10px] text-slate-400">
                      {e.actor} · <time dateTime={e.createdAt}>{new Date(e.createdAt).toLocaleString()}</time>
                    </p>
                  </li>
                ))}
              </ol>
            )}
          </div>

          {(current !== 'workflow' || state.evidence.total > 0) && (
            <div className="px-4 py-3">
              <PromotionPanel
                workflowId={workflowId}
                nodeId={nodeId}
                savedVersion={savedVersion}
                onVersionSaved={({ version }) => onVersionSaved?.(version)}
              />
            </div>
          )}
        </>
      )}

      <Dialog
        open={pending !== null}
        title={pending?.title ?? ''}
        onClose={() => setPending(null)}
        footer={
          <>
            <Button variant="secondary" onClick={() => setPending(null)}>
              Cancel
            </Button>
            <Button
              onClick={() => {
                const p = pending!;
                setPending(null);
                void send(
                  {
                    stage: p.to.stage,
                    ...(p.to.stage === 'canary' ? { canaryPercent: p.to.canaryPercent } : {}),
                    confirm: true,
                  },
                  `Moved to ${stageLabel(p.to)} against the gates`,
                );
              }}
            >
              Move anyway
            </Button>
          </>
        }
      >
        <p className="mb-2">The agent would serve runs the evidence does not vouch for:</p>
        <ul className="list-disc pl-5 text-slate-700">
          {pending?.why.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      </Dialog>
      <Dialog
        open={killOpen}
        title="Demote every agent step of this workflow?"
        onClose={() => setKillOpen(false)}
        footer={
          <>
            <Button variant="secondary" onClick={() => setKillOpen(false)}>
              Cancel
            </Button>
            <Button variant="danger" onClick={() => void kill()}>
              Demote all
            </Button>
          </>
        }
      >
        <p>
          Every step in shadow, canary or agent goes back to its deterministic config, in one new version.
        </p>
      </Dialog>
    </section>
  );
}
