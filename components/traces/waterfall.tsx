'use client';
import { useMemo } from 'react';
import { formatDuration, shortId } from './format';
import { OUTCOME_LABEL, outcomeFill, stepOutcome } from './run-status';
import type { StepSummary } from './types';
import { VirtualList } from './virtual-list';
import { axisTicks, layoutWaterfall, type WaterfallRow } from './waterfall-layout';

export const WATERFALL_ROW_HEIGHT = 30;
const MAX_VISIBLE_ROWS = 16;
const LABEL_W = 208;

const pct = (v: number, total: number) => `${(v / total) * 100}%`;

export function Waterfall({
  steps,
  runStart,
  now,
  names,
  selectedStepId,
  onSelect,
  reused,
  sourceRunId,
}: {
  steps: StepSummary[];
  runStart: string | null | undefined;
  now: number;
  names: Map<string, string>;
  selectedStepId: string | null;
  onSelect: (stepId: string) => void;
  /** Steps a rerun copied from its source run (rerun-source.ts), marked so they are not read as run again. */
  reused?: Set<string>;
  sourceRunId?: string | null;
}) {
  const order = useMemo(() => new Map([...names.keys()].map((id, i) => [id, i])), [names]);
  const layout = useMemo(() => layoutWaterfall(steps, runStart, now, order), [steps, runStart, now, order]);
  // A little headroom so the last bar's label is not glued to the edge.
  const total = layout.totalMs * 1.04;
  const ticks = axisTicks(layout.totalMs);
  const height = Math.min(layout.rows.length, MAX_VISIBLE_ROWS) * WATERFALL_ROW_HEIGHT + 2;

  if (layout.rows.length === 0) {
    return <p className="px-4 py-8 text-center text-sm text-slate-500">No steps have started yet.</p>;
  }

  const isReused = (row: WaterfallRow) =>
    row.bars.length > 0 && row.bars.every((b) => reused?.has(b.step.id));
  const label = (row: WaterfallRow) => {
    const name = names.get(row.nodeId) ?? row.nodeId;
    return row.itemIndex !== null ? `${name} [${row.itemIndex}]` : name;
  };

  return (
    <div className="text-xs">
      <div className="flex border-b border-slate-200 bg-slate-50 text-[10px] text-slate-500">
        <div style={{ width: LABEL_W }} className="shrink-0 px-3 py-1 font-medium tracking-wide uppercase">
          Step
        </div>
        <div className="relative mr-14 flex-1">
          {ticks.map((t) => (
            <span
              key={t}
              className="absolute top-1 -translate-x-1/2 whitespace-nowrap tabular-nums"
              style={{ left: pct(t, total) }}
            >
              {t === 0 ? '0' : formatDuration(t)}
            </span>
          ))}
        </div>
      </div>
      <VirtualList
        items={layout.rows}
        rowHeight={WATERFALL_ROW_HEIGHT}
        height={height}
        label="Step timeline"
        getKey={(r) => r.key}
        renderRow={(row, i) => (
          <div
            className={`flex h-full items-center ${i % 2 ? 'bg-slate-50/60' : ''} ${isReused(row) ? 'opacity-60' : ''} ${row.bars.some((b) => b.step.id === selectedStepId) ? 'bg-brand-50/70' : ''}`}
          >
            {/* The whole label is a button: a row is a target, not only its (maybe 3 px) bar. */}
            <button
              type="button"
              style={{ width: LABEL_W, paddingLeft: 12 + row.depth * 14 }}
              className="flex h-full shrink-0 items-center gap-1.5 truncate pr-2 text-left hover:bg-slate-100"
              title={`${label(row)} (${row.nodeId})`}
              aria-label={`Open ${label(row)}${isReused(row) ? `, reused from #${shortId(sourceRunId ?? '')}` : ''}`}
              onClick={() => row.bars.length && onSelect(row.bars[row.bars.length - 1].step.id)}
            >
              {row.depth > 0 && (
                <span className="text-slate-300" aria-hidden>
                  └
                </span>
              )}
              <span className="truncate font-medium text-slate-700">{label(row)}</span>
              {row.bars.length > 1 && (
                <span className="shrink-0 rounded bg-amber-100 px-1 text-[10px] font-medium text-amber-800">
                  ×{row.bars.length}
                </span>
              )}
              {isReused(row) && (
                <span
                  className="shrink-0 rounded bg-slate-100 px-1 text-[10px] text-slate-500"
                  title="Copied from the source run, not run again"
                >
                  reused from #{shortId(sourceRunId ?? '')}
                </span>
              )}
            </button>
            <div className="relative mr-14 h-full flex-1">
              {ticks.map((t) => (
                <span
                  key={t}
                  className="absolute inset-y-0 w-px bg-slate-100"
                  style={{ left: pct(t, total) }}
                  aria-hidden
                />
              ))}
              {row.gaps.map((g) => (
                <span
                  key={g.start}
                  className="absolute top-1/2 h-0 -translate-y-1/2 border-t-2 border-dotted border-amber-400"
                  style={{ left: pct(g.start, total), width: pct(g.end - g.start, total) }}
                  title={`Backoff before retry: ${formatDuration(g.end - g.start)}`}
                  aria-hidden
                />
              ))}
              {row.bars.map((b) => {
                const outcome = stepOutcome(b.step);
                const dur = b.end - b.start;
                const selected = b.step.id === selectedStepId;
                const waiting = b.step.status === 'waiting';
                const name = `${label(row)} attempt ${b.step.attempt}, ${OUTCOME_LABEL[outcome] ?? outcome}, ${formatDuration(dur)}`;
                return (
                  <button
                    key={b.step.id}
                    type="button"
                    aria-label={name}
                    aria-pressed={selected}
                    title={`${name}${b.step.mode !== 'workflow' ? ` (${b.step.mode})` : ''}\nstarts at +${formatDuration(b.start)}`}
                    onClick={() => onSelect(b.step.id)}
                    className={`absolute top-1/2 h-4 min-w-[3px] -translate-y-1/2 rounded-sm ${outcomeFill(outcome)} ${
                      selected ? 'ring-2 ring-slate-900 ring-offset-1' : 'hover:brightness-110'
                    } ${b.open && !waiting ? 'animate-pulse' : ''}`}
                    style={{
                      left: pct(b.start, total),
                      width: pct(dur, total),
                      backgroundImage: waiting
                        ? 'repeating-linear-gradient(45deg, rgba(255,255,255,.45) 0 4px, transparent 4px 8px)'
                        : undefined,
                    }}
                  />
                );
              })}
              {row.bars.length > 0 && (
                <span
                  className="pointer-events-none absolute top-1/2 -translate-y-1/2 pl-1 text-[10px] whitespace-nowrap text-slate-500 tabular-nums"
                  style={{ left: pct(row.bars[row.bars.length - 1].end, total) }}
                >
                  {formatDuration(row.bars[row.bars.length - 1].end - row.bars[row.bars.length - 1].start)}
                </span>
              )}
            </div>
          </div>
        )}
      />
      <div className="flex items-center gap-4 border-t border-slate-100 px-3 py-1.5 text-[11px] text-slate-500">
        <span>
          {layout.rows.length} row{layout.rows.length === 1 ? '' : 's'} · {steps.length} step record
          {steps.length === 1 ? '' : 's'}
        </span>
        <span className="flex items-center gap-1">
          <span className="inline-block w-5 border-t-2 border-dotted border-amber-400" aria-hidden /> backoff
          between attempts
        </span>
        <span className="flex items-center gap-1">
          <span
            className="inline-block h-2.5 w-5 rounded-sm bg-amber-400"
            style={{
              backgroundImage:
                'repeating-linear-gradient(45deg, rgba(255,255,255,.45) 0 4px, transparent 4px 8px)',
            }}
            aria-hidden
          />
          waiting
        </span>
      </div>
    </div>
  );
}
