const tones: Record<string, string> = {
  succeeded: 'bg-brand-50 text-brand-700 ring-brand-600/20',
  running: 'bg-sky-50 text-sky-700 ring-sky-600/20',
  queued: 'bg-slate-100 text-slate-600 ring-slate-500/20',
  waiting: 'bg-amber-50 text-amber-700 ring-amber-600/20',
  failed: 'bg-red-50 text-red-700 ring-red-600/20',
  cancelled: 'bg-slate-100 text-slate-600 ring-slate-500/20',
  skipped: 'bg-slate-100 text-slate-500 ring-slate-500/20',
  fallback: 'bg-violet-50 text-violet-700 ring-violet-600/20',
};

export function StatusPill({ status }: { status: string }) {
  return (
    <span
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${tones[status] ?? tones.queued}`}
    >
      {status}
    </span>
  );
}
