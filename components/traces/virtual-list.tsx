'use client';
import { useEffect, useRef, useState } from 'react';
import { windowRange } from './virtual-window';

// Fixed-height windowing: one scroll container, a spacer of the full height, and only the rows
// in view absolutely positioned inside it.
export function VirtualList<T>({
  items,
  rowHeight,
  height,
  renderRow,
  getKey,
  label,
  header,
}: {
  items: T[];
  rowHeight: number;
  height: number | string;
  renderRow: (item: T, index: number) => React.ReactNode;
  getKey: (item: T, index: number) => string;
  label: string;
  header?: React.ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    setViewport(el.clientHeight);
    return () => ro.disconnect();
  }, []);
  const { start, end } = windowRange(scrollTop, viewport, rowHeight, items.length);
  const rows: React.ReactNode[] = [];
  for (let i = start; i < end; i++) {
    rows.push(
      <div
        key={getKey(items[i], i)}
        role="listitem"
        style={{ position: 'absolute', top: i * rowHeight, left: 0, right: 0, height: rowHeight }}
      >
        {renderRow(items[i], i)}
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      className="relative overflow-auto"
      style={{ height }}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
    >
      {header}
      <div role="list" aria-label={label} style={{ position: 'relative', height: items.length * rowHeight }}>
        {rows}
      </div>
    </div>
  );
}
