'use client';
import { forwardRef, memo, useMemo, useState } from 'react';
import { groupTone, TypeIcon } from './icons';
import type { NodeTypeInfo } from './types';

export const DND_MIME = 'application/x-trellis-node-type';
const GROUP_ORDER = ['Triggers', 'Data', 'Logic', 'AI', 'Flow', 'Output'];

/** Searchable, grouped node types. Drag one onto the canvas, or press Enter / click "Add". */
export const Palette = memo(
  forwardRef<HTMLInputElement, { types: NodeTypeInfo[]; onAdd: (type: string) => void }>(function Palette(
    { types, onAdd },
    searchRef,
  ) {
    const [q, setQ] = useState('');
    const groups = useMemo(() => {
      const needle = q.trim().toLowerCase();
      const hits = types.filter(
        (t) =>
          !needle ||
          t.label.toLowerCase().includes(needle) ||
          t.type.toLowerCase().includes(needle) ||
          t.description.toLowerCase().includes(needle),
      );
      const by = new Map<string, NodeTypeInfo[]>();
      for (const t of hits) {
        const list = by.get(t.group);
        if (list) list.push(t);
        else by.set(t.group, [t]);
      }
      return [...by.entries()].sort(
        (a, b) => (GROUP_ORDER.indexOf(a[0]) + 1 || 99) - (GROUP_ORDER.indexOf(b[0]) + 1 || 99),
      );
    }, [types, q]);

    return (
      <aside
        aria-label="Node palette"
        className="flex w-60 shrink-0 flex-col border-r border-slate-200 bg-white"
      >
        <div className="border-b border-slate-100 p-2">
          <label htmlFor="palette-search" className="sr-only">
            Search node types
          </label>
          <input
            ref={searchRef}
            id="palette-search"
            type="search"
            placeholder="Search nodes  ( / )"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && groups[0]?.[1][0]) {
                onAdd(groups[0][1][0].type);
                setQ('');
              }
            }}
            className="h-8 w-full rounded-md border border-slate-200 bg-slate-50 px-2 text-sm outline-none focus:border-brand-500 focus:bg-white focus:ring-2 focus:ring-brand-500/20"
          />
        </div>
        <div className="min-h-0 flex-1 overflow-y-auto p-2">
          {groups.length === 0 && (
            <p className="px-2 py-4 text-center text-xs text-slate-500">No node type matches “{q}”.</p>
          )}
          {groups.map(([group, list]) => (
            <section key={group} aria-label={group} className="mb-3">
              <h3 className="px-1 pb-1 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">
                {group}
              </h3>
              <ul className="space-y-0.5">
                {list.map((t) => (
                  <li key={t.type}>
                    <button
                      type="button"
                      draggable
                      aria-label={`Add ${t.label}`}
                      title={`${t.description} — drag onto the canvas or click to add`}
                      onDragStart={(e) => {
                        e.dataTransfer.setData(DND_MIME, t.type);
                        e.dataTransfer.effectAllowed = 'move';
                      }}
                      onClick={() => onAdd(t.type)}
                      className="group flex w-full cursor-grab items-center gap-2 rounded-md px-1.5 py-1.5 text-left hover:bg-slate-100 focus-visible:bg-slate-100 focus-visible:outline-none active:cursor-grabbing"
                    >
                      <span
                        className={`grid h-6 w-6 shrink-0 place-items-center rounded ${groupTone(t.group)}`}
                      >
                        <TypeIcon type={t.type} icon={t.icon} className="h-3.5 w-3.5" />
                      </span>
                      <span className="min-w-0">
                        <span className="block truncate text-sm text-slate-800">{t.label}</span>
                        <span className="block truncate text-[11px] text-slate-400">{t.description}</span>
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      </aside>
    );
  }),
);
