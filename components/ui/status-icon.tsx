// Statuses that differ by more than colour carry a glyph too (WCAG 1.4.1): an agent answer is a
// spark, a fallback to the deterministic step is a return arrow, a shadow run two overlapping
// circles. Other statuses keep the plain dot.

import { statusStyle } from './status-style';

const PATHS: Record<string, React.ReactNode> = {
  agent: <path d="M8 1.5l1.6 4.9 4.9 1.6-4.9 1.6L8 14.5l-1.6-4.9L1.5 8l4.9-1.6z" fill="currentColor" />,
  fallback: (
    <path d="M6 3L2.5 6.5 6 10M3 6.5h6.5a4 4 0 010 8H7" fill="none" stroke="currentColor" strokeWidth="2" />
  ),
  shadow: (
    <g fill="none" stroke="currentColor" strokeWidth="1.6">
      <circle cx="6" cy="8" r="4" />
      <circle cx="10" cy="8" r="4" strokeDasharray="2 1.5" />
    </g>
  ),
};

export const hasStatusIcon = (status: string) => status in PATHS;

export function StatusIcon({ status, className = 'h-3 w-3' }: { status: string; className?: string }) {
  const p = PATHS[status];
  if (!p) return null;
  return (
    <svg viewBox="0 0 16 16" className={`shrink-0 ${className}`} aria-hidden data-icon={status}>
      {p}
    </svg>
  );
}

/** The mark before a status label: its glyph when it has one, else its coloured dot (`dotClass`: size and colour). */
export function StatusMark({ status, dotClass }: { status: string; dotClass: string }) {
  return hasStatusIcon(status) ? (
    <StatusIcon status={status} className={`h-3 w-3 ${statusStyle(status).text}`} />
  ) : (
    <span className={`rounded-full ${dotClass}`} aria-hidden />
  );
}
