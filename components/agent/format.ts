import type { AgentStepSummary, StepReport } from './types';

// Words and numbers of the promotion panel, kept pure so they are unit-tested without a browser.

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return `${Math.round(rate * 1000) / 10}%`;
}

export function signedMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const sign = ms > 0 ? '+' : ms < 0 ? '−' : '±';
  const abs = Math.abs(ms);
  return `${sign}${abs >= 1000 ? `${(abs / 1000).toFixed(2)} s` : `${Math.round(abs)} ms`}`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

export function usd(value: number | null | undefined, signed = false): string {
  if (value === null || value === undefined) return '—';
  const abs = Math.abs(value);
  const text = abs === 0 ? '$0' : abs < 0.01 ? `$${abs.toFixed(5)}` : `$${abs.toFixed(4)}`;
  if (!signed) return value < 0 ? `−${text}` : text;
  return `${value > 0 ? '+' : value < 0 ? '−' : '±'}${text}`;
}

export const RECOMMENDATION_LABEL: Record<StepReport['recommendation']['action'], string> = {
  promote: 'Promote to agent',
  demote: 'Demote to workflow',
  shadow: 'Run in shadow mode',
  keep: 'Keep as is',
  collect_more: 'Collect more runs',
};

export function currentModeLabel(current: StepReport['current']): string {
  if (current.mode === 'workflow') return 'Workflow (deterministic)';
  return current.shadow
    ? 'Shadow (deterministic output used, agent compared)'
    : 'Agent (deterministic fallback)';
}

/** The summary note of an agent step's turns, if the last turn is one. */
export function agentSummaryOf(turns: { kind: string; payload: unknown }[]): AgentStepSummary | null {
  const last = turns.at(-1);
  if (!last || last.kind !== 'note' || !last.payload || typeof last.payload !== 'object') return null;
  const s = (last.payload as { summary?: AgentStepSummary }).summary;
  return s && typeof s.agentMs === 'number' ? s : null;
}
