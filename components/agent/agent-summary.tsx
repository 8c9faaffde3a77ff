'use client';
import { agentSummaryOf, ms, usd } from './format';

// One line under a step's agent turns: how long the agent took against the deterministic step,
// what it spent, and how it ended. The traces UI can drop it into its agent view.

export function AgentSummary({ turns }: { turns: { kind: string; payload: unknown }[] }) {
  const s = agentSummaryOf(turns);
  if (!s) return null;
  return (
    <p aria-label="Agent summary" className="text-xs text-slate-600">
      Agent {s.outcome === 'ok' ? 'answered' : `fell back (${s.reason ?? 'unknown'})`} after {s.modelCalls}{' '}
      model call
      {s.modelCalls === 1 ? '' : 's'} in {ms(s.agentMs)}
      {s.deterministicMs !== undefined ? `; deterministic step ${ms(s.deterministicMs)}` : ''};{' '}
      {s.agentTokens} tokens, {usd(s.agentCost)}.
    </p>
  );
}
