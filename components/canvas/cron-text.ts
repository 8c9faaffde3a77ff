import { CronExpressionParser } from 'cron-parser';

// A cron expression in plain words ("Every weekday at 09:00") and its next fire times, for the
// schedule trigger's panel. The common shapes get a sentence; anything else is read field by
// field, so the text is never wrong, only sometimes less fluent.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const num = (s: string) => /^\d+$/.test(s);
const pad = (n: string) => n.padStart(2, '0');
const list = (xs: string[]) =>
  xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`;
const dayName = (d: string) => DAYS[Number(d) % 7] ?? d;

function days(dow: string): string | null {
  if (dow === '1-5') return 'every weekday (Monday to Friday)';
  if (dow === '0,6' || dow === '6,0') return 'every Saturday and Sunday';
  if (/^\d(,\d)*$/.test(dow)) return `every ${list(dow.split(',').map(dayName))}`;
  const r = /^(\d)-(\d)$/.exec(dow);
  return r ? `every day from ${dayName(r[1])} to ${dayName(r[2])}` : null;
}

function field(v: string, unit: string): string {
  if (v === '*') return `every ${unit}`;
  const step = /^\*\/(\d+)$/.exec(v);
  if (step) return `every ${step[1]} ${unit}s`;
  return `${unit} ${v}`;
}

/** Plain words for a 5-field (or 6-field, seconds first) cron expression. */
export function describeCron(expr: string): string {
  const src = MACROS[expr.trim().toLowerCase()] ?? expr.trim();
  const parts = src.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) return 'Not a cron expression (5 or 6 fields expected)';
  const [sec, min, hour, dom, mon, dow] = parts.length === 6 ? parts : ['0', ...parts];
  const everyDay = dom === '*' && mon === '*' && dow === '*';

  if (sec !== '0') {
    if (sec === '*' && min === '*' && hour === '*' && everyDay) return 'Every second';
    const s = /^\*\/(\d+)$/.exec(sec);
    if (s && min === '*' && hour === '*' && everyDay) return `Every ${s[1]} seconds`;
  } else {
    if (min === '*' && hour === '*' && everyDay) return 'Every minute';
    const m = /^\*\/(\d+)$/.exec(min);
    if (m && hour === '*' && everyDay) return `Every ${m[1]} minutes`;
    if (num(min) && hour === '*' && everyDay) return `Every hour at minute ${Number(min)}`;
    const h = /^\*\/(\d+)$/.exec(hour);
    if (num(min) && h && everyDay) return `Every ${h[1]} hours at minute ${Number(min)}`;
    if (num(min) && /^\d+(,\d+)*$/.test(hour)) {
      const at = `at ${list(hour.split(',').map((x) => `${pad(x)}:${pad(min)}`))}`;
      if (everyDay) return `Every day ${at}`;
      if (dom === '*' && mon === '*') {
        const d = days(dow);
        if (d) return `${d[0].toUpperCase()}${d.slice(1)} ${at}`;
      }
      if (num(dom) && dow === '*') {
        if (mon === '*') return `On day ${Number(dom)} of every month ${at}`;
        if (num(mon)) return `Every year on ${MONTHS[Number(mon) - 1] ?? mon} ${Number(dom)} ${at}`;
      }
    }
  }
  // Field by field: exact, if not elegant.
  const bits = [
    parts.length === 6 ? field(sec, 'second') : null,
    field(min, 'minute'),
    field(hour, 'hour'),
    dom === '*' ? null : `day of month ${dom}`,
    mon === '*' ? null : `month ${mon}`,
    dow === '*' ? null : (days(dow) ?? `weekday ${dow}`),
  ].filter(Boolean);
  return `At ${bits.join(', ')}`;
}

/** The next `n` fire times after `from`, or the parser's complaint. */
export function nextFireTimes(
  expr: string,
  timezone: string | undefined,
  from: Date,
  n = 3,
): { times: Date[] } | { error: string } {
  try {
    const it = CronExpressionParser.parse(expr, { currentDate: from, ...(timezone ? { tz: timezone } : {}) });
    const times: Date[] = [];
    for (let i = 0; i < n && it.hasNext(); i++) times.push(it.next().toDate());
    return { times };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
