// Small inline glyphs per node type; the registry's `icon` names one of these, and unknown
// names fall back to the group's glyph.
const paths: Record<string, string> = {
  play: 'M6 4l10 6-10 6z',
  webhook: 'M10 3a3 3 0 110 6 3 3 0 010-6zM4 14a3 3 0 116 0M10 14h6a3 3 0 10-3-3',
  clock: 'M10 3a7 7 0 100 14 7 7 0 000-14zM10 6v4l3 2',
  globe: 'M10 3a7 7 0 100 14 7 7 0 000-14zM3 10h14M10 3c2.5 2.5 2.5 11.5 0 14M10 3c-2.5 2.5-2.5 11.5 0 14',
  shuffle: 'M3 6h4l6 8h4M3 14h4l6-8h4M15 4l2 2-2 2M15 12l2 2-2 2',
  code: 'M7 6l-4 4 4 4M13 6l4 4-4 4M11 4l-2 12',
  branch: 'M6 3v8a4 4 0 004 4h4M6 11a4 4 0 014-4h4M12 5l2 2-2 2M12 13l2 2-2 2',
  switch: 'M4 10h4M8 10l4-5h4M8 10h8M8 10l4 5h4',
  map: 'M4 5h12M4 10h12M4 15h12M2 5h.01M2 10h.01M2 15h.01',
  merge: 'M5 3v4a4 4 0 004 4h2M15 3v4a4 4 0 01-4 4M10 11v6',
  hourglass: 'M6 3h8M6 17h8M7 3c0 4 6 4 6 7s-6 3-6 7M13 3c0 4-6 4-6 7s6 3 6 7',
  sparkles:
    'M10 3l1.5 4.5L16 9l-4.5 1.5L10 15l-1.5-4.5L4 9l4.5-1.5zM15 14l.7 1.8 1.8.7-1.8.7L15 19l-.7-1.8-1.8-.7 1.8-.7z',
  check: 'M4 10l4 4 8-9',
  workflow: 'M3 4h5v4H3zM12 12h5v4h-5zM5.5 8v6h6.5',
  output: 'M4 10h10M10 6l4 4-4 4M16 4v12',
  braces:
    'M7 3c-2 0-2 1.5-2 3.5S4 9 3 10c1 1 2 1.5 2 3.5S5 17 7 17M13 3c2 0 2 1.5 2 3.5S16 9 17 10c-1 1-2 1.5-2 3.5S15 17 13 17',
  split: 'M10 17v-6M10 11L5 4M10 11l5-7M3 6l2-2 2 2M13 4h2v2',
  list: 'M7 5h10M7 10h10M7 15h10M3 5h.01M3 10h.01M3 15h.01',
  timer: 'M10 5a6 6 0 100 12 6 6 0 000-12zM10 8v3l2 1M8 2h4',
  flag: 'M5 17V3M5 3h9l-2 3 2 3H5',
  box: 'M3 6l7-3 7 3v8l-7 3-7-3zM3 6l7 3 7-3M10 9v8',
};

const byType: Record<string, string> = {
  'trigger.manual': 'play',
  'trigger.webhook': 'webhook',
  'trigger.schedule': 'clock',
  'http.request': 'globe',
  transform: 'shuffle',
  code: 'code',
  condition: 'branch',
  switch: 'switch',
  map: 'map',
  merge: 'merge',
  delay: 'hourglass',
  llm: 'sparkles',
  approval: 'check',
  subworkflow: 'workflow',
  output: 'output',
};

export function TypeIcon({
  type,
  icon,
  className = 'h-4 w-4',
}: {
  type: string;
  icon?: string;
  className?: string;
}) {
  const d = paths[icon ?? ''] ?? paths[byType[type] ?? ''] ?? paths.box;
  return (
    <svg
      viewBox="0 0 20 20"
      className={className}
      fill="none"
      stroke="currentColor"
      strokeWidth="1.6"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden
    >
      <path d={d} />
    </svg>
  );
}

/** Accent per palette group so the canvas reads at a glance. */
export function groupTone(group: string | undefined): string {
  switch (group) {
    case 'Triggers':
      return 'bg-brand-100 text-brand-700';
    case 'Logic':
      return 'bg-amber-100 text-amber-700';
    case 'AI':
      return 'bg-violet-100 text-violet-700';
    case 'Flow':
      return 'bg-sky-100 text-sky-700';
    case 'Output':
      return 'bg-rose-100 text-rose-700';
    default:
      return 'bg-slate-100 text-slate-700';
  }
}

const chevrons = { left: 'M12 4l-6 6 6 6', right: 'M8 4l6 6-6 6' };

/** The back / show / hide chevron of the toolbar and the palette. */
export function Chevron({ direction }: { direction: keyof typeof chevrons }) {
  return (
    <svg
      viewBox="0 0 20 20"
      className="h-4 w-4"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      aria-hidden
    >
      <path d={chevrons[direction]} />
    </svg>
  );
}
