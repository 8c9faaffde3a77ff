import { rerunSourceOf } from './rerun-source';
// Numbers as people read them in a trace: short, unit-bearing, never "NaN".

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function formatTokens(n: number | null | undefined): string {
  if (!n) return '—';
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatCost(usd: number | null | undefined): string {
  if (!usd) return '—';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return '—';
  const s = (now - t) / 1000;
  if (s < 10) return 'just now';
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 86400 * 7) return `${Math.floor(s / 86400)} d ago`;
  return new Date(iso).toLocaleDateString();
}

export function absoluteTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isFinite(d.getTime()) ? d.toLocaleString() : '';
}

/** A run's or step's duration: the stored one, else derived from the timestamps (live: until now). */
export function durationOf(
  r: {
    durationMs?: number | null;
    startedAt?: string | null;
    finishedAt?: string | null;
    createdAt?: string;
  },
  now = Date.now(),
): number | null {
  if (typeof r.durationMs === 'number') return r.durationMs;
  const start = r.startedAt ?? r.createdAt;
  if (!start) return null;
  const end = r.finishedAt ? new Date(r.finishedAt).getTime() : now;
  const d = end - new Date(start).getTime();
  return Number.isFinite(d) ? Math.max(0, d) : null;
}

export function shortId(id: string): string {
  return id.length > 10 ? id.slice(-8) : id;
}

/** "rerun:<runId>" triggers read as "rerun of #abcd1234". */
export function formatTrigger(trigger: string): string {
  const source = rerunSourceOf({ trigger });
  return source ? `rerun of #${shortId(source)}` : trigger;
}
