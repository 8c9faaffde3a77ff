// How a step's status and mode read in the traces (the badge itself is components/ui/status-badge).
import { statusStyle } from '@/components/ui/status-style';

export { OUTCOME_LABEL, StatusBadge } from '@/components/ui/status-badge';

/** What a step's outcome means for a reviewer: status, refined by the mode that produced it. */
export function stepOutcome(s: { status: string; mode: string }): string {
  if (s.status !== 'succeeded') return s.status;
  if (s.mode === 'fallback' || s.mode === 'agent' || s.mode === 'shadow' || s.mode === 'healed')
    return s.mode;
  return 'succeeded';
}

/** Waterfall bars: the solid colour of the one status map (components/ui/status-style.ts). */
export const outcomeFill = (outcome: string): string => statusStyle(outcome).solid;
