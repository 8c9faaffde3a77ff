'use client';
import { createContext, useContext, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';

// The expression picker: references grouped by where they come from (the run input, each upstream
// step by its name), with the fields seen in the last run. A filter box takes the focus; ↑/↓ move,
// Enter inserts, Esc goes back to the field. It is positioned against the viewport, so it flips
// above its field near the bottom edge and never spills off the side.

export interface RefItem {
  /** What gets inserted. */
  path: string;
  /** What the row shows (relative to the group). */
  label: string;
  /** The value seen in the last run, when there was one. */
  preview?: string;
}
export interface RefGroup {
  label: string;
  items: RefItem[];
}
export interface ReferenceSource {
  groups: RefGroup[];
  /** Run data is being fetched for the groups. */
  loading: boolean;
  /** Ask for the last run's fields (fetched lazily, the first time a picker opens). */
  request: () => void;
}

export const ReferencesContext = createContext<ReferenceSource>({
  groups: [],
  loading: false,
  request: () => {},
});
export const useReferences = () => useContext(ReferencesContext);

const WIDTH = 288;
const MAX_HEIGHT = 320;
const MARGIN = 8;

/** Where a popover of size w×h goes next to `anchor` so it stays inside a vw×vh viewport. */
export function placePopover(
  anchor: { top: number; bottom: number; right: number },
  w: number,
  h: number,
  vw: number,
  vh: number,
): { top: number; left: number } {
  const below = anchor.bottom + 4;
  const above = anchor.top - 4 - h;
  const preferred = below + h <= vh - MARGIN ? below : above >= MARGIN ? above : below;
  // Whatever the field's place (even scrolled half out of view), the picker stays inside.
  const top = Math.max(MARGIN, Math.min(preferred, vh - MARGIN - h));
  const left = Math.max(MARGIN, Math.min(anchor.right - w, vw - MARGIN - w));
  return { top, left };
}

export function ReferencePicker({
  label,
  anchor,
  onPick,
  onClose,
}: {
  label: string;
  anchor: React.RefObject<HTMLElement | null>;
  onPick: (path: string) => void;
  onClose: () => void;
}) {
  const { groups, loading, request } = useReferences();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const [pos, setPos] = useState<{ top: number; left: number } | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const listId = useId();

  // eslint-disable-next-line react-hooks/exhaustive-deps -- once per opening
  useLayoutEffect(() => request(), []);

  const shown = useMemo(() => {
    // Every word must match the step's name or the path: "shape tier" finds Shape order's tier.
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return groups
      .map((g) => ({
        ...g,
        items: g.items.filter((i) => {
          const hay = `${g.label} ${i.path} ${i.label}`.toLowerCase();
          return words.every((w) => hay.includes(w));
        }),
      }))
      .filter((g) => g.items.length > 0);
  }, [groups, query]);
  const flat = shown.flatMap((g) => g.items);
  const current = Math.min(active, flat.length - 1);

  useLayoutEffect(() => {
    const place = () => {
      const a = anchor.current?.getBoundingClientRect();
      const el = box.current;
      if (!a || !el) return;
      setPos(placePopover(a, el.offsetWidth, el.offsetHeight, window.innerWidth, window.innerHeight));
    };
    place();
    window.addEventListener('resize', place);
    window.addEventListener('scroll', place, true);
    return () => {
      window.removeEventListener('resize', place);
      window.removeEventListener('scroll', place, true);
    };
  }, [anchor, flat.length, loading]);

  // Scroll the list only: scrollIntoView would also scroll the inspector under the field.
  useLayoutEffect(() => {
    const list = document.getElementById(listId);
    const opt = document.getElementById(`${listId}-${current}`);
    if (!list || !opt) return;
    const top = opt.offsetTop; // the list is the options' offset parent (relative)
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + opt.offsetHeight > list.scrollTop + list.clientHeight)
      list.scrollTop = top + opt.offsetHeight - list.clientHeight;
  }, [current, listId]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = flat.length;
      if (n) setActive((current + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (flat[current]) onPick(flat[current].path);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    } else if (e.key === 'Tab') {
      onClose();
    }
  };

  let index = -1;
  return (
    <div
      ref={box}
      role="dialog"
      aria-label={`References for ${label}`}
      style={{
        position: 'fixed',
        width: WIDTH,
        maxHeight: MAX_HEIGHT,
        ...(pos ?? { top: 0, left: 0, opacity: 0 }),
      }}
      className="z-50 flex flex-col rounded-md border border-slate-200 bg-white text-xs shadow-lg"
      onBlur={(e) => {
        if (!box.current?.contains(e.relatedTarget as Node | null)) onClose();
      }}
    >
      <input
        autoFocus
        role="combobox"
        aria-label="Filter references"
        aria-expanded
        aria-controls={listId}
        aria-activedescendant={current >= 0 ? `${listId}-${current}` : undefined}
        placeholder="Filter… (↑↓ Enter, Esc)"
        className="m-1 rounded border border-slate-200 px-2 py-1 text-xs outline-none focus:border-brand-500"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <div
        id={listId}
        role="listbox"
        aria-label={`References for ${label}`}
        className="relative min-h-0 overflow-auto pb-1"
      >
        {shown.map((g) => (
          <div key={g.label} role="group" aria-label={g.label}>
            <div className="sticky top-0 bg-slate-50 px-2 py-0.5 text-[10px] font-semibold tracking-wide text-slate-500 uppercase">
              {g.label}
            </div>
            {g.items.map((item) => {
              index++;
              const i = index;
              return (
                <div
                  key={item.path}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === current}
                  title={item.path}
                  className={`flex cursor-pointer items-baseline gap-2 px-2 py-1 ${i === current ? 'bg-brand-50 text-brand-800' : 'hover:bg-slate-50'}`}
                  onMouseDown={(e) => e.preventDefault()}
                  onMouseEnter={() => setActive(i)}
                  onClick={() => onPick(item.path)}
                >
                  <span className="min-w-0 flex-1 truncate font-mono">{item.label}</span>
                  {item.preview !== undefined && (
                    <span className="max-w-[45%] shrink-0 truncate font-mono text-[10px] text-slate-400">
                      {item.preview}
                    </span>
                  )}
                </div>
              );
            })}
          </div>
        ))}
        {loading && <p className="px-2 py-1 text-slate-400">Loading fields from the last run…</p>}
        {!loading && flat.length === 0 && <p className="px-2 py-1 text-slate-400">No matching reference.</p>}
      </div>
    </div>
  );
}

/** The `{ }` button that opens the picker for one field. */
export function ReferenceButton({
  label,
  open,
  onToggle,
  className,
}: {
  label: string;
  open: boolean;
  onToggle: () => void;
  className: string;
}) {
  return (
    <button
      type="button"
      aria-label={`Insert reference into ${label}`}
      aria-expanded={open}
      title="Insert a reference (Ctrl+Space)"
      // Keep the focus where it is, so a click on an open picker's button closes it.
      onMouseDown={(e) => e.preventDefault()}
      onClick={onToggle}
      className={`rounded border border-slate-200 font-mono text-slate-500 hover:bg-slate-50 hover:text-brand-700 ${className}`}
    >
      {'{ }'}
    </button>
  );
}
