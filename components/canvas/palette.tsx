'use client';
import { forwardRef, memo, useMemo, useState } from 'react';
import { usePaletteCollapsed } from './use-palette-collapsed';
import { Chevron, groupTone, TypeIcon } from './icons';
import type { NodeTypeInfo } from './types';

export const DND_MIME = 'application/x-trellis-node-type';
const GROUP_ORDER = ['Triggers', 'Data', 'Logic', 'AI', 'Flow', 'Output'];

/**
 * Node types matching a search, best first: a name that starts with it, then a name containing
 * it, then the type id, then only the description. Ties keep the catalog order.
 */
export function rankTypes(types: NodeTypeInfo[], needle: string): NodeTypeInfo[] {
  const score = (t: NodeTypeInfo) => {
    const label = t.label.toLowerCase();
    if (label.startsWith(needle)) return 0;
    if (label.split(/\s+/).some((w) => w.startsWith(needle))) return 1;
    if (label.includes(needle)) return 2;
    if (t.type.toLowerCase().includes(needle)) return 3;
    if (t.description.toLowerCase().includes(needle)) return 4;
    return -1;
  };
  return types
    .map((t, i) => ({ t, i, s: score(t) }))
    .filter((x) => x.s >= 0)
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map((x) => x.t);
}

/** Searchable, grouped node types. Drag one onto the canvas, click it, or search and press Enter (↑/↓ pick, Esc leaves). */
export const Palette = memo(
  forwardRef<HTMLInputElement, { types: NodeTypeInfo[]; onAdd: (type: string) => void }>(function Palette(
    { types, onAdd },
    searchRef,
  ) {
    const [q, setQ] = useState('');
    const [active, setActive] = useState(0);
    const [collapsed, setCollapsed] = usePaletteCollapsed();
    const needle = q.trim().toLowerCase();
    // Searching shows one ranked list (what Enter takes is first); browsing shows the groups.
    const ranked = useMemo(() => (needle ? rankTypes(types, needle) : []), [types, needle]);
    const groups = useMemo(() => {
      const by = new Map<string, NodeTypeInfo[]>();
      for (const t of types) {
        const list = by.get(t.group);
        if (list) list.push(t);
        else by.set(t.group, [t]);
      }
      return [...by.entries()].sort(
        (a, b) => (GROUP_ORDER.indexOf(a[0]) + 1 || 99) - (GROUP_ORDER.indexOf(b[0]) + 1 || 99),
      );
    }, [types]);
    const current = needle ? ranked[Math.min(active, ranked.length - 1)] : undefined;

    const item = (t: NodeTypeInfo, isActive = false) => (
      <li key={t.type}>
        <button
          type="button"
          draggable
          aria-label={`Add ${t.label}`}
          aria-current={isActive ? 'true' : undefined}
          title={`${t.description} — drag onto the canvas or click to add`}
          onDragStart={(e) => {
            e.dataTransfer.setData(DND_MIME, t.type);
            e.dataTransfer.effectAllowed = 'move';
          }}
          onClick={() => onAdd(t.type)}
          className={`group flex w-full cursor-grab items-center gap-2 rounded-md px-1.5 py-1.5 text-left hover:bg-slate-100 focus-visible:bg-slate-100 focus-visible:outline-none active:cursor-grabbing ${
            isActive ? 'bg-brand-50 ring-1 ring-brand-500/40' : ''
          }`}
        >
          <span className={`grid h-6 w-6 shrink-0 place-items-center rounded ${groupTone(t.group)}`}>
            <TypeIcon type={t.type} icon={t.icon} className="h-3.5 w-3.5" />
          </span>
          <span className="min-w-0 flex-1">
            <span className="block truncate text-sm text-slate-800">{t.label}</span>
            <span className="block truncate text-[11px] text-slate-400">{t.description}</span>
          </span>
          {isActive && (
            <kbd className="shrink-0 rounded border border-slate-300 px-1 text-[10px] text-slate-500">↵</kbd>
          )}
        </button>
      </li>
    );

    return (
      <aside
        aria-label="Node palette"
        className={`flex shrink-0 flex-col border-r border-slate-200 bg-white ${collapsed ? 'w-10' : 'w-60'}`}
      >
        {collapsed && (
          <button
            type="button"
            aria-label="Show node palette"
            aria-expanded={false}
            title="Show node palette (/ searches)"
            onClick={() => setCollapsed(false)}
            className="m-1 grid h-8 w-8 place-items-center rounded-md text-slate-500 hover:bg-slate-100 hover:text-slate-800"
          >
            <Chevron direction="right" />
          </button>
        )}
        {/* Collapsed, the search box stays mounted (out of sight) so "/" still finds it and opens the palette. */}
        <div className={collapsed ? 'sr-only' : 'flex items-center gap-1 border-b border-slate-100 p-2'}>
          <label htmlFor="palette-search" className="sr-only">
            Search node types
          </label>
          <input
            ref={searchRef}
            id="palette-search"
            type="search"
            placeholder="Search nodes  ( / )"
            value={q}
            aria-describedby="palette-enter-hint"
            onFocus={() => setCollapsed(false)}
            onChange={(e) => {
              setQ(e.target.value);
              setActive(0);
            }}
            onKeyDown={(e) => {
              if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                e.preventDefault();
                const n = ranked.length;
                if (n) setActive((a) => (Math.min(a, n - 1) + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
              } else if (e.key === 'Enter' && current) {
                onAdd(current.type);
                setQ('');
                setActive(0);
              } else if (e.key === 'Escape') {
                e.preventDefault();
                setQ('');
                setActive(0);
                e.currentTarget.blur();
              }
            }}
            className="h-8 w-full min-w-0 rounded-md border border-slate-200 bg-slate-50 px-2 text-sm outline-none focus:border-brand-500 focus:bg-white focus:ring-2 focus:ring-brand-500/20"
          />
          <button
            type="button"
            aria-label="Hide node palette"
            aria-expanded
            title="Hide node palette"
            onClick={() => setCollapsed(true)}
            className="grid h-8 w-7 shrink-0 place-items-center rounded-md text-slate-400 hover:bg-slate-100 hover:text-slate-700"
          >
            <Chevron direction="left" />
          </button>
        </div>
        <p id="palette-enter-hint" className="sr-only" aria-live="polite">
          {current ? `Enter adds ${current.label}` : ''}
        </p>
        <div className={collapsed ? 'hidden' : 'min-h-0 flex-1 overflow-y-auto p-2'}>
          {needle && ranked.length === 0 && (
            <p className="px-2 py-4 text-center text-xs text-slate-500">No node type matches “{q}”.</p>
          )}
          {needle ? (
            <ul aria-label="Search results" className="space-y-0.5">
              {ranked.map((t) => item(t, t === current))}
            </ul>
          ) : (
            groups.map(([group, list]) => (
              <section key={group} aria-label={group} className="mb-3">
                <h3 className="px-1 pb-1 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">
                  {group}
                </h3>
                <ul className="space-y-0.5">{list.map((t) => item(t))}</ul>
              </section>
            ))
          )}
        </div>
      </aside>
    );
  }),
);
