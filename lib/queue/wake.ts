import { createHash } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { listenChannel, type EventListener } from './event-bridge';
import { RUN_QUEUE, WAKE_RETRY_MS } from './limits';

// Which of a worker's fetch loops look for a new job. pg-boss's own listener wakes every idle loop
// of a queue on each job's NOTIFY, so at `--concurrency 10` one run cost ten fetches, nine of them
// empty (about half of all statements of a short run). Workers start pg-boss without its listener
// (startBoss listen: false) and listen to its channel here: one NOTIFY wakes one idle loop of the
// run queue. pg-boss's polling stays the backstop (NOTIFY_POLLING_SECONDS), as it was.

/** pg-boss's notification channel for its schema (its plans.notifyChannelSql, computed here). */
export function bossNotifyChannel(schema = 'pgboss'): string {
  return `pgboss_${createHash('sha224').update(schema).digest('hex').slice(0, 24)}`;
}

export interface LoopWaker {
  /** A NOTIFY from pg-boss: a job of `queue` was sent. */
  onNotify(queue: string): void;
  /** After a reconnect: every idle loop looks once. */
  wakeAll(): void;
  /** A loop of the run queue finished a job: it and every other busy loop fetch again at once. */
  afterRunJob(): void;
  close(): Promise<void>;
}

/** What the waker uses of pg-boss (a fake in tests). */
export type WakeableBoss = Pick<PgBoss, 'getWipData' | 'notifyWorker'>;

/**
 * Wakes loops on pg-boss's NOTIFY: one idle run-queue loop per notification (one notification per
 * job), every loop of other queues. A notification is owed until a loop that was not already
 * woken starts a fetch after it; while every idle loop is still on its fetch, it is served
 * WAKE_RETRY_MS later, and when no loop is idle it is dropped: busy loops fetch again when their
 * job ends (afterRunJob), which is how a backlog drains.
 */
export function createLoopWaker(boss: WakeableBoss): LoopWaker {
  const woken = new Map<string, number>();
  let owed = 0;
  let timer: NodeJS.Timeout | null = null;
  const loops = (queue: string) => boss.getWipData().filter((w) => w.name === queue && w.state === 'active');

  const serve = () => {
    timer = null;
    const now = Date.now();
    let idle = 0;
    for (const w of loops(RUN_QUEUE)) {
      if (owed === 0) break;
      if (w.count > 0) continue;
      idle++;
      const at = woken.get(w.id);
      // Woken, and its fetch not back yet: that fetch may have begun before this job was sent.
      if (at !== undefined && (w.lastFetchedOn ?? 0) < at) continue;
      woken.set(w.id, now);
      boss.notifyWorker(w.id);
      owed--;
    }
    if (idle === 0) owed = 0;
    else if (owed > 0 && !timer) {
      timer = setTimeout(serve, WAKE_RETRY_MS);
      timer.unref?.();
    }
  };
  const wakeAll = () => {
    for (const w of boss.getWipData()) if (w.count === 0) boss.notifyWorker(w.id);
  };

  return {
    onNotify(queue) {
      if (queue !== RUN_QUEUE) {
        for (const w of loops(queue)) boss.notifyWorker(w.id);
        return;
      }
      owed++;
      serve();
    },
    wakeAll,
    afterRunJob() {
      for (const w of loops(RUN_QUEUE)) if (w.count > 0) boss.notifyWorker(w.id);
    },
    async close() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** createLoopWaker on pg-boss's channel, over a connection of its own. */
export function startLoopWaker(boss: WakeableBoss, databaseUrl: string): LoopWaker {
  const waker = createLoopWaker(boss);
  // Jobs sent while the connection was down notified nobody: every idle loop looks once.
  const listener: EventListener = listenChannel(
    databaseUrl,
    bossNotifyChannel(),
    waker.onNotify,
    waker.wakeAll,
  );
  return {
    ...waker,
    async close() {
      await waker.close();
      await listener.close();
    },
  };
}
