import type { StepSummary } from './types';

// Rows for the timeline: one row per (map parent, node, item); every attempt of that row is its
// own bar, so retries sit side by side with the backoff gap between them visible. Map item rows
// follow their map node. Times are milliseconds from the run's start.

export interface WaterfallBar {
  step: StepSummary;
  start: number;
  end: number;
  /** Still running or waiting: the bar grows until `now`. */
  open: boolean;
}

export interface WaterfallRow {
  key: string;
  nodeId: string;
  parentNodeId: string | null;
  itemIndex: number | null;
  depth: number;
  bars: WaterfallBar[];
  /** Time between one attempt's end and the next one's start (retry backoff). */
  gaps: { start: number; end: number }[];
}

export interface WaterfallLayout {
  rows: WaterfallRow[];
  totalMs: number;
  origin: number;
}

export function rowKey(s: {
  nodeId: string;
  parentNodeId?: string | null;
  itemIndex?: number | null;
}): string {
  return `${s.parentNodeId ?? ''}|${s.nodeId}|${s.itemIndex ?? ''}`;
}

export function layoutWaterfall(
  steps: StepSummary[],
  runStart: string | null | undefined,
  now = Date.now(),
  /** Definition order breaks ties between steps that started in the same millisecond. */
  nodeOrder?: Map<string, number>,
): WaterfallLayout {
  let origin = runStart ? Date.parse(runStart) : NaN;
  if (!Number.isFinite(origin)) {
    origin = Infinity;
    for (const s of steps) origin = Math.min(origin, Date.parse(s.startedAt));
    if (!Number.isFinite(origin)) origin = now;
  }
  const byKey = new Map<string, WaterfallRow>();
  let totalMs = 1;
  for (const s of steps) {
    const key = rowKey(s);
    let row = byKey.get(key);
    if (!row) {
      row = {
        key,
        nodeId: s.nodeId,
        parentNodeId: s.parentNodeId ?? null,
        itemIndex: s.itemIndex ?? null,
        depth: 0,
        bars: [],
        gaps: [],
      };
      byKey.set(key, row);
    }
    const start = Math.max(0, Date.parse(s.startedAt) - origin);
    const finished = s.finishedAt ? Date.parse(s.finishedAt) : NaN;
    // A waiting step (approval) may carry the time it paused as finishedAt; its bar grows until now.
    const open = !Number.isFinite(finished) || s.status === 'waiting';
    let end = open ? now - origin : finished - origin;
    if (!open && typeof s.durationMs === 'number' && !Number.isFinite(end)) end = start + s.durationMs;
    end = Math.max(start, end);
    row.bars.push({ step: s, start, end, open });
    totalMs = Math.max(totalMs, end);
  }
  for (const row of byKey.values()) {
    row.bars.sort((a, b) => a.step.attempt - b.step.attempt || a.start - b.start);
    for (let i = 1; i < row.bars.length; i++) {
      const prev = row.bars[i - 1];
      const cur = row.bars[i];
      if (cur.start > prev.end) row.gaps.push({ start: prev.end, end: cur.start });
    }
  }
  const first = (r: WaterfallRow) => r.bars[0]?.start ?? 0;
  const children = new Map<string, WaterfallRow[]>();
  const top: WaterfallRow[] = [];
  for (const row of byKey.values()) {
    if (row.parentNodeId === null) top.push(row);
    else {
      const list = children.get(row.parentNodeId) ?? [];
      list.push(row);
      children.set(row.parentNodeId, list);
    }
  }
  const ord = (r: WaterfallRow) => nodeOrder?.get(r.nodeId) ?? Number.MAX_SAFE_INTEGER;
  top.sort((a, b) => first(a) - first(b) || ord(a) - ord(b) || a.nodeId.localeCompare(b.nodeId));
  const rows: WaterfallRow[] = [];
  const placed = new Set<string>();
  const place = (row: WaterfallRow, depth: number) => {
    row.depth = depth;
    rows.push(row);
    const kids = children.get(row.nodeId);
    // A node id appears once per parent; guard anyway so a malformed trace cannot loop.
    if (!kids || placed.has(row.nodeId)) return;
    placed.add(row.nodeId);
    kids.sort((a, b) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0) || first(a) - first(b));
    for (const k of kids) place(k, depth + 1);
  };
  for (const row of top) place(row, 0);
  // Item steps whose map row is missing (e.g. still loading) still show, at the end.
  for (const [parent, kids] of children) {
    if (placed.has(parent)) continue;
    kids.sort((a, b) => first(a) - first(b));
    for (const k of kids) place(k, 1);
  }
  return { rows, totalMs, origin };
}

/** Pleasant tick spacing for an axis of `totalMs`: about `count` ticks at 1/2/5 × 10^n ms. */
export function axisTicks(totalMs: number, count = 6): number[] {
  const raw = Math.max(1, totalMs) / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((v) => v >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= totalMs + step / 2; t += step) ticks.push(t);
  return ticks;
}
