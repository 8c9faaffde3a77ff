import type { PgBoss } from 'pg-boss';
import { BACKTEST_QUEUE, NOTIFY_POLLING_SECONDS, WORKER_BACKTEST_CONCURRENCY } from './limits';

// Promotion jobs in server mode — backtests and graduation proposals: the web process writes the
// row and sends one job; a worker runs it (lib/promotion/job.ts, graduation-job.ts, through the
// handlers the host builds). The job id is the row's id, so a repeated send is an ignored
// duplicate. Cancellation is a flag on the row that the running job polls, so it reaches
// whichever worker holds it.

export type BacktestJobData = { backtestId: string } | { graduationId: string };

export type PromotionJobKind = 'backtest' | 'graduation';

async function send(boss: PgBoss, data: BacktestJobData, id: string): Promise<void> {
  await boss.send(BACKTEST_QUEUE, data, {
    id,
    // A job is not idempotent mid-way (cases written, money spent): the one retry, after a dead
    // worker's heartbeat lapsed, only lets the handler mark the row interrupted.
    retryLimit: 1,
  });
}

export const sendBacktest = (boss: PgBoss, backtestId: string) => send(boss, { backtestId }, backtestId);
export const sendGraduation = (boss: PgBoss, graduationId: string) =>
  send(boss, { graduationId }, graduationId);

export type PromotionJobHandler = (id: string, signal: AbortSignal) => Promise<unknown>;

/** Consume promotion jobs; returns stop(), which aborts the running ones (they end interrupted). */
export async function workBacktests(
  boss: PgBoss,
  handlers: Partial<Record<PromotionJobKind, PromotionJobHandler>>,
  log: (s: string) => void = () => {},
): Promise<() => Promise<void>> {
  const stopping = new AbortController();
  await boss.work<BacktestJobData>(
    BACKTEST_QUEUE,
    {
      localConcurrency: WORKER_BACKTEST_CONCURRENCY,
      batchSize: 1,
      notifyPollingIntervalSeconds: NOTIFY_POLLING_SECONDS,
      pollingIntervalSeconds: NOTIFY_POLLING_SECONDS,
    },
    async ([job]) => {
      const [kind, id]: [PromotionJobKind, string] =
        'graduationId' in job.data
          ? ['graduation', job.data.graduationId]
          : ['backtest', job.data.backtestId];
      const handler = handlers[kind];
      if (!handler) throw new Error(`this worker takes no ${kind} jobs`);
      try {
        await handler(id, stopping.signal);
      } catch (err) {
        log(`${kind} ${id} failed: ${String((err as Error)?.message ?? err)}`);
        throw err;
      }
    },
  );
  return async () => {
    stopping.abort(new Error('worker stopping'));
    await boss.offWork(BACKTEST_QUEUE, { wait: true }).catch(() => {});
  };
}
