'use client';
import { useMemo } from 'react';
import { jsonDiff } from './json-diff';

const kindTone: Record<string, string> = {
  added: 'bg-brand-50 text-brand-700',
  removed: 'bg-red-50 text-red-700',
  changed: 'bg-amber-50 text-amber-800',
};

function compact(v: unknown): string {
  const s = v === undefined ? '' : JSON.stringify(v);
  return s.length > 140 ? s.slice(0, 139) + '…' : s;
}

export function DiffView({ before, after, label }: { before: unknown; after: unknown; label: string }) {
  const diff = useMemo(() => jsonDiff(before, after), [before, after]);
  if (diff.entries.length === 0) {
    return (
      <p className="rounded-md bg-brand-50 px-2.5 py-1.5 text-xs text-brand-700" aria-label={label}>
        Identical
      </p>
    );
  }
  return (
    <div
      aria-label={label}
      role="table"
      className="overflow-hidden rounded-md border border-slate-200 text-xs"
    >
      <div role="rowgroup">
        {diff.entries.map((e) => (
          <div
            role="row"
            key={e.path + e.kind}
            className="grid grid-cols-[minmax(6rem,auto)_4.5rem_1fr] items-start gap-2 border-b border-slate-100 px-2 py-1 last:border-0"
          >
            <span role="cell" className="truncate font-mono text-slate-700" title={e.path || '(whole value)'}>
              {e.path || '(whole value)'}
            </span>
            <span role="cell">
              <span className={`rounded px-1 py-px text-[10px] font-semibold uppercase ${kindTone[e.kind]}`}>
                {e.kind}
              </span>
            </span>
            <span role="cell" className="min-w-0 font-mono break-all">
              {e.kind !== 'added' && (
                <span className="text-red-700 line-through decoration-red-300">{compact(e.before)}</span>
              )}
              {e.kind === 'changed' && <span className="px-1 text-slate-400">→</span>}
              {e.kind !== 'removed' && <span className="text-brand-700">{compact(e.after)}</span>}
            </span>
          </div>
        ))}
      </div>
      {diff.truncated && <p className="bg-slate-50 px-2 py-1 text-slate-500">More differences not shown.</p>}
    </div>
  );
}
