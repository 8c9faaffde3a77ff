import { describe, expect, it } from 'vitest';
import { describeCron, nextFireTimes } from './cron-text';

describe('describeCron', () => {
  it.each([
    ['* * * * *', 'Every minute'],
    ['*/15 * * * *', 'Every 15 minutes'],
    ['5 * * * *', 'Every hour at minute 5'],
    ['0 */6 * * *', 'Every 6 hours at minute 0'],
    ['0 9 * * *', 'Every day at 09:00'],
    ['30 8,17 * * *', 'Every day at 08:30 and 17:30'],
    ['0 9 * * 1-5', 'Every weekday (Monday to Friday) at 09:00'],
    ['0 9 * * 1,5', 'Every Monday and Friday at 09:00'],
    ['0 0 1 * *', 'On day 1 of every month at 00:00'],
    ['0 12 25 12 *', 'Every year on December 25 at 12:00'],
    ['@daily', 'Every day at 00:00'],
    ['*/10 * * * * *', 'Every 10 seconds'],
    ['0 9-17 * * *', 'At minute 0, hour 9-17'],
    ['0 9', 'Not a cron expression (5 or 6 fields expected)'],
  ])('%s → %s', (expr, text) => expect(describeCron(expr)).toBe(text));
});

describe('nextFireTimes', () => {
  it('lists the next three ticks in the schedule time zone', () => {
    const from = new Date('2026-03-02T10:00:00Z'); // a Monday
    const r = nextFireTimes('0 9 * * 1-5', 'Europe/Paris', from);
    expect('times' in r && r.times.map((t) => t.toISOString())).toEqual([
      '2026-03-03T08:00:00.000Z',
      '2026-03-04T08:00:00.000Z',
      '2026-03-05T08:00:00.000Z',
    ]);
  });
  it('returns the parser error for a bad expression', () => {
    expect(nextFireTimes('61 * * * *', undefined, new Date())).toHaveProperty('error');
  });
});
