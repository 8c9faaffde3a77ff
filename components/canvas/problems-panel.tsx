'use client';
import { memo, useState } from 'react';
import type { Problem } from './types';

export interface ProblemRow extends Problem {
  nodeId?: string;
  nodeName?: string;
  /** For problems of a form field rather than the document (invalid JSON): the element to focus. */
  elementId?: string;
}

export const ProblemsPanel = memo(function ProblemsPanel({
  problems,
  status,
  onPick,
}: {
  problems: ProblemRow[];
  /** `checking` while a validation is in flight; `unavailable` when the server cannot validate. */
  status: 'ok' | 'checking' | 'unavailable';
  onPick: (p: ProblemRow) => void;
}) {
  const [open, setOpen] = useState(true);
  const count = problems.length;
  return (
    <section aria-label="Problems" className="shrink-0 border-t border-slate-200 bg-white">
      <button
        type="button"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        className="flex h-8 w-full items-center gap-2 px-3 text-left text-xs font-medium text-slate-700 hover:bg-slate-50"
      >
        <svg
          viewBox="0 0 10 10"
          className={`h-2.5 w-2.5 transition-transform ${open ? 'rotate-90' : ''}`}
          aria-hidden
        >
          <path d="M3 1l4 4-4 4" fill="none" stroke="currentColor" strokeWidth="1.5" />
        </svg>
        Problems
        <span
          className={`rounded-full px-1.5 text-[11px] ${count ? 'bg-red-100 text-red-700' : 'bg-brand-50 text-brand-700'}`}
        >
          {count}
        </span>
        <span className="ml-auto font-normal text-slate-400">
          {status === 'checking'
            ? 'Checking…'
            : status === 'unavailable'
              ? 'Validation unavailable'
              : count
                ? ''
                : 'No problems'}
        </span>
      </button>
      {open && count > 0 && (
        <ul className="max-h-36 overflow-y-auto border-t border-slate-100 py-1">
          {problems.map((p, i) => (
            <li key={`${p.path}-${p.code}-${i}`}>
              <button
                type="button"
                onClick={() => onPick(p)}
                className="flex w-full items-baseline gap-2 px-3 py-1 text-left text-xs hover:bg-red-50"
              >
                <span
                  aria-hidden
                  className={`h-1.5 w-1.5 shrink-0 translate-y-[-1px] rounded-full ${p.severity === 'warning' ? 'bg-amber-500' : 'bg-red-500'}`}
                />
                {p.severity === 'warning' && (
                  <span className="shrink-0 font-medium text-amber-700">Warning</span>
                )}
                <span className="shrink-0 font-medium text-slate-800">{p.nodeName ?? 'Workflow'}</span>
                <span className="text-slate-600">{p.message}</span>
                <span className="ml-auto shrink-0 font-mono text-[10px] text-slate-400">
                  {p.code} · {p.path || '/'}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
});
