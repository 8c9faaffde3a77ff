'use client';
import { useRef } from 'react';

// The inspector's tabs (Settings, Last run, …): a WAI-ARIA tablist with arrow-key movement.
// Callers own which tab is chosen, so the choice survives selecting another step.

export interface InspectorTab {
  id: string;
  label: string;
  content: React.ReactNode;
}

export function InspectorTabs({
  tabs,
  active,
  onChange,
  idPrefix,
}: {
  tabs: InspectorTab[];
  active: string;
  onChange: (id: string) => void;
  idPrefix: string;
}) {
  const current = tabs.find((t) => t.id === active) ?? tabs[0];
  const list = useRef<HTMLDivElement>(null);
  const move = (delta: number) => {
    const i = tabs.indexOf(current);
    const next = tabs[(i + delta + tabs.length) % tabs.length];
    onChange(next.id);
    requestAnimationFrame(() => document.getElementById(`${idPrefix}-tab-${next.id}`)?.focus());
  };
  return (
    <>
      <div
        ref={list}
        role="tablist"
        aria-label="Inspector"
        className="flex gap-1 border-b border-slate-100 px-3"
        onKeyDown={(e) => {
          if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
            e.preventDefault();
            move(e.key === 'ArrowRight' ? 1 : -1);
          }
        }}
      >
        {tabs.map((t) => {
          const on = t.id === current.id;
          return (
            <button
              key={t.id}
              id={`${idPrefix}-tab-${t.id}`}
              type="button"
              role="tab"
              aria-selected={on}
              aria-controls={`${idPrefix}-panel-${t.id}`}
              tabIndex={on ? 0 : -1}
              onClick={() => onChange(t.id)}
              className={`-mb-px border-b-2 px-2 py-2 text-xs font-medium ${on ? 'border-brand-600 text-brand-700' : 'border-transparent text-slate-500 hover:text-slate-800'}`}
            >
              {t.label}
            </button>
          );
        })}
      </div>
      <div
        role="tabpanel"
        id={`${idPrefix}-panel-${current.id}`}
        aria-labelledby={`${idPrefix}-tab-${current.id}`}
      >
        {current.content}
      </div>
    </>
  );
}
