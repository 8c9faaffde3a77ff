// Which rows of a fixed-row-height list to render: only those in view plus an overscan, so a
// 10,000-step trace costs as many DOM nodes as fit on screen.

export const DEFAULT_OVERSCAN_ROWS = 8;

export function windowRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = DEFAULT_OVERSCAN_ROWS,
): { start: number; end: number } {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count - 1, first - overscan));
  const end = Math.min(count, first + visible + overscan);
  return { start, end: Math.max(start, end) };
}
