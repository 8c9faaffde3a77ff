import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PgBoss, WipData } from 'pg-boss';
import { startBoss } from './boss';
import { listenChannel } from './event-bridge';
import { RUN_QUEUE, SCHEDULE_QUEUE, WAKE_RETRY_MS } from './limits';
import { pgAvailable, tempQueueDb } from './testing/queue-db';
import { bossNotifyChannel, createLoopWaker } from './wake';

// Issue 21: one new run job wakes one fetch loop, not all of them (pg-boss's own listener woke
// every idle loop: ten fetches for one job at --concurrency 10).

/** Fetch loops as pg-boss reports them; `fetched(id)` is a loop whose fetch came back. */
function fakeBoss(queues: Record<string, number>) {
  let now = 1_000;
  const loops: WipData[] = [];
  for (const [name, n] of Object.entries(queues))
    for (let i = 0; i < n; i++)
      loops.push({ id: `${name}#${i}`, name, state: 'active', count: 0, lastFetchedOn: null } as WipData);
  const woken: string[] = [];
  const boss = {
    getWipData: () => loops.map((l) => ({ ...l })),
    notifyWorker: (id: string) => void woken.push(id),
  } as unknown as Pick<PgBoss, 'getWipData' | 'notifyWorker'>;
  const loop = (id: string) => loops.find((l) => l.id === id)!;
  return {
    boss,
    woken,
    busy: (id: string, n = 1) => void (loop(id).count = n),
    fetched: (id: string) => void (loop(id).lastFetchedOn = now += 10),
    tick: () => (now += 10),
  };
}

describe('loop waker', () => {
  it('wakes one idle run loop per job, a different one while the first is still fetching', () => {
    vi.useFakeTimers({ now: 1_000 });
    try {
      const f = fakeBoss({ [RUN_QUEUE]: 4 });
      f.busy(`${RUN_QUEUE}#0`);
      const waker = createLoopWaker(f.boss);
      waker.onNotify(RUN_QUEUE);
      expect(f.woken).toEqual([`${RUN_QUEUE}#1`]); // #0 is busy
      waker.onNotify(RUN_QUEUE);
      expect(f.woken).toEqual([`${RUN_QUEUE}#1`, `${RUN_QUEUE}#2`]);
      void waker.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it(`serves a job that found every idle loop still fetching ${WAKE_RETRY_MS} ms later`, () => {
    vi.useFakeTimers({ now: 1_000 });
    try {
      const f = fakeBoss({ [RUN_QUEUE]: 2 });
      f.busy(`${RUN_QUEUE}#0`);
      const waker = createLoopWaker(f.boss);
      waker.onNotify(RUN_QUEUE); // wakes #1
      waker.onNotify(RUN_QUEUE); // #1's fetch may have begun before this job: owed
      expect(f.woken).toEqual([`${RUN_QUEUE}#1`]);
      vi.advanceTimersByTime(WAKE_RETRY_MS);
      expect(f.woken).toHaveLength(1); // still fetching
      vi.setSystemTime(2_000);
      f.fetched(`${RUN_QUEUE}#1`); // came back empty (the other job was taken by someone else)
      vi.advanceTimersByTime(WAKE_RETRY_MS);
      expect(f.woken).toEqual([`${RUN_QUEUE}#1`, `${RUN_QUEUE}#1`]);
      vi.advanceTimersByTime(WAKE_RETRY_MS * 10);
      expect(f.woken).toHaveLength(2); // served once, not again
      void waker.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops a job when every loop is busy: they fetch again as their jobs end', () => {
    const f = fakeBoss({ [RUN_QUEUE]: 2, [SCHEDULE_QUEUE]: 1 });
    f.busy(`${RUN_QUEUE}#0`);
    f.busy(`${RUN_QUEUE}#1`);
    const waker = createLoopWaker(f.boss);
    waker.onNotify(RUN_QUEUE);
    expect(f.woken).toEqual([]);
    waker.afterRunJob();
    expect(f.woken).toEqual([`${RUN_QUEUE}#0`, `${RUN_QUEUE}#1`]);
    waker.onNotify(SCHEDULE_QUEUE); // other queues: every loop, as pg-boss does
    expect(f.woken.at(-1)).toBe(`${SCHEDULE_QUEUE}#0`);
    void waker.close();
  });
});

describe.skipIf(!pgAvailable)("pg-boss's channel", () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let boss: PgBoss;
  beforeAll(async () => {
    tmp = await tempQueueDb('wake');
    boss = await startBoss({ databaseUrl: tmp.url, consumer: false });
  }, 120_000);
  afterAll(async () => {
    await boss?.stop({ graceful: false, close: true, timeout: 2_000 }).catch(() => {});
    await tmp?.drop();
  });

  it('bossNotifyChannel is the channel pg-boss notifies a sent job on, with the queue as payload', async () => {
    const got: string[] = [];
    let up!: () => void;
    const ready = new Promise<void>((r) => (up = r));
    const listener = listenChannel(tmp.url, bossNotifyChannel(), (p) => got.push(p), up);
    try {
      await ready;
      await boss.send(RUN_QUEUE, { runId: 'x' });
      await vi.waitFor(() => expect(got).toContain(RUN_QUEUE));
    } finally {
      await listener.close();
    }
  });
});
