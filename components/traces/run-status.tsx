// How a step's status and mode read in the traces (the badge itself is components/ui/status-badge).
export { OUTCOME_LABEL, StatusBadge } from '@/components/ui/status-badge';

/** What a step's outcome means for a reviewer: status, refined by the mode that produced it. */
export function stepOutcome(s: { status: string; mode: string }): string {
  if (s.status !== 'succeeded') return s.status;
  if (s.mode === 'fallback' || s.mode === 'agent' || s.mode === 'shadow') return s.mode;
  return 'succeeded';
}

export const OUTCOME_FILL: Record<string, string> = {
  succeeded: 'bg-brand-500',
  running: 'bg-sky-500',
  queued: 'bg-slate-300',
  waiting: 'bg-amber-400',
  failed: 'bg-red-500',
  cancelled: 'bg-slate-400',
  skipped: 'bg-slate-300',
  fallback: 'bg-violet-500',
  agent: 'bg-indigo-500',
  shadow: 'bg-fuchsia-500',
};
