import { describe, expect, it } from 'vitest';
import type { SqlQueryable } from '@/lib/db/sql-executor';
import {
  SCHEDULE_BUDGET_WINDOW_MS,
  SCHEDULE_TICK_BUDGET_PER_WORKFLOW,
  createScheduleLoop,
  type ScheduleTick,
} from './schedules';

// The one scheduler loop (issue 15 item 3) that the embedded scheduler and the workers share:
// progress per trigger node, an error part-way re-fires nothing already fired, the minimum
// interval and the per-workflow tick budget (issue 14 item 4).

type Row = { workflowId: string; nodeId: string; config: { cron: string } };
const sqlOf = (rows: Row[]) => ({ query: async () => rows }) as unknown as SqlQueryable;
const T0 = Date.parse('2026-03-01T00:00:00.500Z');

function harness(rows: Row[], opts: { minIntervalMs?: number; fail?: (t: ScheduleTick) => boolean } = {}) {
  let now = T0;
  const fired: string[] = [];
  const loop = createScheduleLoop({
    sql: sqlOf(rows),
    now: () => now,
    minIntervalMs: () => opts.minIntervalMs ?? 1_000,
    fire: async (t) => {
      if (opts.fail?.(t)) throw new Error('database went away');
      fired.push(`${t.nodeId}@${t.firedAt.toISOString().slice(11, 19)}`);
    },
  });
  return {
    fired,
    loop,
    advance: (ms: number) => (now += ms),
  };
}

describe('createScheduleLoop', () => {
  it('fires each trigger node of a workflow once per tick', async () => {
    const h = harness([
      { workflowId: 'wf', nodeId: 'a', config: { cron: '* * * * * *' } },
      { workflowId: 'wf', nodeId: 'b', config: { cron: '* * * * * *' } },
    ]);
    await h.loop.look();
    h.advance(2_000);
    await h.loop.look();
    await h.loop.look();
    expect(h.fired.sort()).toEqual(['a@00:00:01', 'a@00:00:02', 'b@00:00:01', 'b@00:00:02']);
  });

  it('an error part-way through a pass does not re-fire the ticks already started', async () => {
    let failing = true;
    const h = harness(
      [
        { workflowId: 'wf', nodeId: 'a', config: { cron: '* * * * * *' } },
        { workflowId: 'wf', nodeId: 'b', config: { cron: '* * * * * *' } },
        { workflowId: 'wf2', nodeId: 'c', config: { cron: '* * * * * *' } },
      ],
      { fail: (t) => failing && t.nodeId === 'b' && t.firedAt.getUTCSeconds() === 2 },
    );
    await h.loop.look();
    h.advance(2_000); // ticks :01 and :02 due
    await h.loop.look();
    expect(h.fired.sort()).toEqual(['a@00:00:01', 'a@00:00:02', 'b@00:00:01', 'c@00:00:01', 'c@00:00:02']);
    failing = false;
    await h.loop.look();
    // Only b's failed tick comes again; a's and c's are not repeated.
    expect(h.fired.sort()).toEqual([
      'a@00:00:01',
      'a@00:00:02',
      'b@00:00:01',
      'b@00:00:02',
      'c@00:00:01',
      'c@00:00:02',
    ]);
  });

  it('drops ticks closer than the minimum interval to the previous one', async () => {
    const h = harness([{ workflowId: 'wf', nodeId: 'a', config: { cron: '* * * * * *' } }], {
      minIntervalMs: 60_000,
    });
    await h.loop.look();
    for (let i = 0; i < 130; i++) {
      h.advance(1_000);
      await h.loop.look();
    }
    expect(h.fired).toEqual(['a@00:00:01', 'a@00:01:01', 'a@00:02:01']);
  });

  it(`fires at most SCHEDULE_TICK_BUDGET_PER_WORKFLOW (${SCHEDULE_TICK_BUDGET_PER_WORKFLOW}) ticks of one workflow per window`, async () => {
    const rows = Array.from({ length: 4 }, (_, i) => ({
      workflowId: 'wf',
      nodeId: `n${i}`,
      config: { cron: '* * * * * *' },
    }));
    const h = harness([...rows, { workflowId: 'other', nodeId: 'o', config: { cron: '* * * * * *' } }]);
    await h.loop.look();
    for (let i = 0; i < SCHEDULE_BUDGET_WINDOW_MS / 1000 - 1; i++) {
      h.advance(1_000);
      await h.loop.look();
    }
    const ofWf = h.fired.filter((f) => f.startsWith('n'));
    expect(ofWf).toHaveLength(SCHEDULE_TICK_BUDGET_PER_WORKFLOW);
    // Another workflow has its own budget.
    expect(h.fired.filter((f) => f.startsWith('o')).length).toBe(SCHEDULE_TICK_BUDGET_PER_WORKFLOW);
  });
});
