// The status badge of runs and steps, shared by the workflows list, the editor and the traces.
// A step that succeeded via its deterministic fallback reads as "fell back"; agent and shadow
// successes say so too, since that is what a reviewer looks for.

const tones: Record<string, string> = {
  succeeded: 'bg-brand-50 text-brand-700 ring-brand-600/20',
  running: 'bg-sky-50 text-sky-700 ring-sky-600/20',
  queued: 'bg-slate-100 text-slate-600 ring-slate-500/20',
  waiting: 'bg-amber-50 text-amber-700 ring-amber-600/20',
  failed: 'bg-red-50 text-red-700 ring-red-600/20',
  cancelled: 'bg-slate-100 text-slate-600 ring-slate-500/20',
  skipped: 'bg-slate-100 text-slate-500 ring-slate-500/20',
  fallback: 'bg-violet-50 text-violet-700 ring-violet-600/20',
  agent: 'bg-indigo-50 text-indigo-700 ring-indigo-600/20',
  shadow: 'bg-fuchsia-50 text-fuchsia-700 ring-fuchsia-600/20',
};

const dots: Record<string, string> = {
  succeeded: 'bg-brand-500',
  running: 'bg-sky-500 animate-pulse',
  queued: 'bg-slate-400',
  waiting: 'bg-amber-500',
  failed: 'bg-red-500',
  cancelled: 'bg-slate-400',
  skipped: 'bg-slate-300',
  fallback: 'bg-violet-500',
  agent: 'bg-indigo-500',
  shadow: 'bg-fuchsia-500',
};

export const OUTCOME_LABEL: Record<string, string> = {
  succeeded: 'Succeeded',
  running: 'Running',
  queued: 'Queued',
  waiting: 'Waiting',
  failed: 'Failed',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
  fallback: 'Fell back',
  agent: 'Agent',
  shadow: 'Shadow',
  'not-run': 'Not run',
};

export function StatusBadge({ status, size = 'sm' }: { status: string; size?: 'sm' | 'md' }) {
  return (
    <span
      className={`inline-flex items-center gap-1.5 rounded-full font-medium whitespace-nowrap ring-1 ring-inset ${
        size === 'md' ? 'px-2.5 py-0.5 text-sm' : 'px-2 py-0.5 text-xs'
      } ${tones[status] ?? tones.queued}`}
    >
      <span className={`h-1.5 w-1.5 rounded-full ${dots[status] ?? dots.queued}`} aria-hidden />
      {OUTCOME_LABEL[status] ?? status}
    </span>
  );
}
