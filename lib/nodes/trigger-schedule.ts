import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { defineNode, done } from './define-node';

/**
 * Ticks of one schedule must be at least this far apart (a seconds-level cron would start a run
 * every second). TRELLIS_SCHEDULE_MIN_INTERVAL_SECONDS lowers or raises it per server (at least 1).
 */
export const MIN_SCHEDULE_INTERVAL_SECONDS = 60;
export const SCHEDULE_MIN_INTERVAL_ENV = 'TRELLIS_SCHEDULE_MIN_INTERVAL_SECONDS';
/** Consecutive occurrences looked at to find a cron's shortest gap (covers any minute pattern). */
const INTERVAL_SAMPLE = 120;

export function minScheduleIntervalMs(env: Record<string, string | undefined> = process.env): number {
  const raw = Number(env[SCHEDULE_MIN_INTERVAL_ENV]);
  const seconds = Number.isFinite(raw) && raw >= 1 ? Math.floor(raw) : MIN_SCHEDULE_INTERVAL_SECONDS;
  return seconds * 1000;
}

/** The shortest gap between consecutive ticks among the next INTERVAL_SAMPLE of them. */
export function shortestGapMs(cron: string, tz?: string, from = Date.UTC(2026, 0, 1)): number {
  const it = CronExpressionParser.parse(cron, { currentDate: new Date(from), ...(tz ? { tz } : {}) });
  let prev = it.next().toDate().getTime();
  let gap = Infinity;
  for (let i = 0; i < INTERVAL_SAMPLE && it.hasNext(); i++) {
    const t = it.next().toDate().getTime();
    gap = Math.min(gap, t - prev);
    prev = t;
  }
  return gap;
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const triggerScheduleConfig = z
  .object({
    cron: z
      .string()
      .min(1)
      .max(200)
      .describe(
        'Cron expression, e.g. "0 9 * * 1-5" (minute hour day month weekday; optional seconds first)',
      ),
    timezone: z
      .string()
      .max(100)
      .refine(validTimezone, 'unknown time zone')
      .optional()
      .describe('IANA time zone such as "Europe/Berlin"; UTC when empty'),
  })
  .superRefine((c, ctx) => {
    const tz = c.timezone && validTimezone(c.timezone) ? c.timezone : undefined;
    let gap: number;
    try {
      gap = shortestGapMs(c.cron, tz);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['cron'],
        message: `invalid cron expression: ${(err as Error).message}`,
      });
      return;
    }
    const min = minScheduleIntervalMs();
    if (gap < min) {
      ctx.addIssue({
        code: 'custom',
        path: ['cron'],
        message: `fires every ${gap / 1000} s; this server allows at most one tick per ${min / 1000} s (${SCHEDULE_MIN_INTERVAL_ENV})`,
      });
    }
  });

export const triggerSchedule = defineNode({
  type: 'trigger.schedule',
  label: 'Schedule',
  group: 'Triggers',
  icon: 'clock',
  description: 'Starts the workflow on a cron schedule; its output is { firedAt }.',
  config: triggerScheduleConfig,
  defaultConfig: { cron: '0 9 * * *' },
  isTrigger: true,
  async run({ scope, clock }) {
    // The scheduler passes the tick it fired for; a hand-started run uses the clock.
    const given = (scope.input as { firedAt?: unknown } | null | undefined)?.firedAt;
    const firedAt = typeof given === 'string' ? given : new Date(clock.now()).toISOString();
    return done({ firedAt });
  },
});
