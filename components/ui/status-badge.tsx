// The status badge of runs and steps, shared by the workflows list, the editor and the traces.
// A step that succeeded via its deterministic fallback reads as "fell back"; agent and shadow
// successes say so too, since that is what a reviewer looks for. Colours and labels come from the
// one status map (status-style.ts).
import { StatusMark } from './status-icon';
import { STATUS_STYLE, statusDot, statusStyle } from './status-style';

export const OUTCOME_LABEL: Record<string, string> = Object.fromEntries(
  Object.entries(STATUS_STYLE).map(([k, s]) => [k, s.label]),
);

export function StatusBadge({ status, size = 'sm' }: { status: string; size?: 'sm' | 'md' }) {
  const s = statusStyle(status);
  return (
    <span
      className={`inline-flex items-center gap-1.5 rounded-full font-medium whitespace-nowrap ring-1 ring-inset ${
        size === 'md' ? 'px-2.5 py-0.5 text-sm' : 'px-2 py-0.5 text-xs'
      } ${s.badge}`}
    >
      <StatusMark status={status} dotClass={`h-1.5 w-1.5 ${statusDot(status)}`} />
      {s.label}
    </span>
  );
}
