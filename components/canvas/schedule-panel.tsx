'use client';
import { useMemo } from 'react';
import { describeCron, nextFireTimes } from './cron-text';

// The schedule trigger's reading: the cron in words and the next three ticks in the schedule's
// time zone, and a plain warning while the workflow is switched off.

export function SchedulePanel({
  cron,
  timezone,
  enabled,
}: {
  cron: string;
  timezone?: string;
  enabled: boolean | undefined;
}) {
  const next = useMemo(
    () => (cron.trim() ? nextFireTimes(cron, timezone || undefined, new Date()) : null),
    [cron, timezone],
  );
  if (!cron.trim()) return <p className="text-xs text-slate-500">Enter a cron expression above.</p>;
  const opts: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: cron.trim().split(/\s+/).length === 6 ? '2-digit' : undefined,
    timeZoneName: 'short',
  };
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat(undefined, { ...opts, timeZone: timezone || undefined });
  } catch {
    // An unknown zone is validation's to report; the times still show, in the browser's zone.
    fmt = new Intl.DateTimeFormat(undefined, opts);
  }
  return (
    <div className="space-y-2 text-xs">
      <p aria-label="Schedule in words" className="font-medium text-slate-800">
        {describeCron(cron)}
        {timezone ? ` (${timezone})` : ' (server time zone)'}
      </p>
      {next && 'error' in next ? (
        <p className="text-red-600">Cannot read this cron: {next.error}</p>
      ) : (
        <div>
          <div className="mb-1 text-[11px] text-slate-500">Next runs</div>
          <ol aria-label="Next fire times" className="space-y-0.5 font-mono text-[11px] text-slate-700">
            {next?.times.map((t) => (
              <li key={t.getTime()}>{fmt.format(t)}</li>
            ))}
          </ol>
        </div>
      )}
      {enabled === false && (
        <p role="note" className="rounded-md bg-amber-50 px-2 py-1 text-amber-800">
          The workflow is inactive: this schedule does not fire until you switch it on (Active, in the
          header).
        </p>
      )}
    </div>
  );
}
