// The one status → look map: run and step statuses (and a step's outcome refined by its mode:
// fallback, agent, shadow) read the same on the editor canvas, the run canvas, the waterfall and
// every badge. A new status (e.g. `queued` for backlogged runs) is one row here.

export interface StatusStyle {
  label: string;
  /** Badge pill: background, text and ring tint. */
  badge: string;
  /** Solid colour: dots, bars, strips. */
  solid: string;
  /** Editor node card: the ring drawn around it while a run shows its status. */
  ring: string;
  /** Run canvas node card border. */
  border: string;
  /** Text colour for a glyph drawn in the status's colour (status-icon.tsx). */
  text?: string;
  /** Live statuses pulse where they are small (dots, strips), not on long waterfall bars. */
  live?: boolean;
}

export const STATUS_STYLE: Record<string, StatusStyle> = {
  succeeded: {
    label: 'Succeeded',
    badge: 'bg-brand-50 text-brand-700 ring-brand-600/20',
    solid: 'bg-brand-500',
    ring: 'ring-2 ring-brand-500',
    border: 'border-brand-500',
  },
  running: {
    label: 'Running',
    badge: 'bg-sky-50 text-sky-700 ring-sky-600/20',
    solid: 'bg-sky-500',
    ring: 'ring-2 ring-sky-400',
    border: 'border-sky-500',
    live: true,
  },
  queued: {
    label: 'Queued',
    badge: 'bg-slate-100 text-slate-600 ring-slate-500/20',
    solid: 'bg-slate-400',
    ring: 'ring-2 ring-slate-300',
    border: 'border-slate-300',
  },
  waiting: {
    label: 'Waiting',
    badge: 'bg-amber-50 text-amber-700 ring-amber-600/20',
    solid: 'bg-amber-500',
    ring: 'ring-2 ring-amber-400',
    border: 'border-amber-500',
  },
  failed: {
    label: 'Failed',
    badge: 'bg-red-50 text-red-700 ring-red-600/20',
    solid: 'bg-red-500',
    ring: 'ring-2 ring-red-500',
    border: 'border-red-500',
  },
  cancelled: {
    label: 'Cancelled',
    badge: 'bg-slate-100 text-slate-600 ring-slate-500/20',
    solid: 'bg-slate-400',
    ring: 'ring-2 ring-slate-400',
    border: 'border-slate-400',
  },
  skipped: {
    label: 'Skipped',
    badge: 'bg-slate-100 text-slate-500 ring-slate-500/20',
    solid: 'bg-slate-300',
    ring: 'opacity-60 ring-2 ring-slate-200',
    border: 'border-slate-300 border-dashed',
  },
  // Orange with diagonal stripes against the agent's solid indigo: apart by hue, by pattern on
  // bars, and by icon in badges (status-icon.tsx), not by colour alone.
  fallback: {
    label: 'Fell back',
    badge: 'bg-orange-50 text-orange-800 ring-orange-600/30',
    solid:
      'bg-orange-500 bg-[repeating-linear-gradient(135deg,transparent_0_3px,rgb(255_255_255/0.45)_3px_6px)]',
    ring: 'ring-2 ring-orange-500 ring-offset-1',
    border: 'border-orange-500 border-dashed',
    text: 'text-orange-600',
  },
  agent: {
    label: 'Agent',
    badge: 'bg-indigo-50 text-indigo-700 ring-indigo-600/20',
    solid: 'bg-indigo-600',
    ring: 'ring-2 ring-indigo-500',
    border: 'border-indigo-500',
    text: 'text-indigo-600',
  },
  shadow: {
    label: 'Shadow',
    badge: 'bg-fuchsia-50 text-fuchsia-700 ring-fuchsia-600/20',
    solid: 'bg-fuchsia-500',
    ring: 'ring-2 ring-fuchsia-500',
    border: 'border-fuchsia-500',
    text: 'text-fuchsia-600',
  },
  healed: {
    label: 'Healed',
    badge: 'bg-teal-50 text-teal-700 ring-teal-600/20',
    solid: 'bg-teal-500',
    ring: 'ring-2 ring-teal-500',
    border: 'border-teal-500',
  },
  'not-run': {
    label: 'Not run',
    badge: 'bg-slate-50 text-slate-500 ring-slate-400/20',
    solid: 'bg-slate-200',
    ring: '',
    border: 'border-slate-200 border-dashed',
  },
};

/** The style of a status; unknown ones look queued but keep their own name as label. */
export function statusStyle(status: string): StatusStyle {
  return STATUS_STYLE[status] ?? { ...STATUS_STYLE.queued, label: status };
}

/** A small dot or strip: the solid colour, pulsing while live. */
export function statusDot(status: string): string {
  const s = statusStyle(status);
  return s.live ? `${s.solid} animate-pulse` : s.solid;
}

export const statusLabel = (status: string): string => statusStyle(status).label;
