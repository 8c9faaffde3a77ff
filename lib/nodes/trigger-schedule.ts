import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { defineNode, done } from './define-node';

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
    try {
      CronExpressionParser.parse(c.cron, c.timezone && validTimezone(c.timezone) ? { tz: c.timezone } : {});
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['cron'],
        message: `invalid cron expression: ${(err as Error).message}`,
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
