import type { PgBoss } from 'pg-boss';
import { BACKTEST_QUEUE, NOTIFY_POLLING_SECONDS, WORKER_BACKTEST_CONCURRENCY } from './limits';

// Backtests in server mode: the web process writes the Backtest row and sends one job; a worker
// replays it (lib/promotion/job.ts, through the handler the host builds). The job id is the
// backtest id, so a repeated send is an ignored duplicate. Cancellation is a flag on the row that
// the running job polls, so it reaches whichever worker holds it.

export interface BacktestJobData {
  backtestId: string;
}

export async function sendBacktest(boss: PgBoss, backtestId: string): Promise<void> {
  await boss.send(BACKTEST_QUEUE, { backtestId } satisfies BacktestJobData, {
    id: backtestId,
    // A replay is not idempotent mid-way (cases written, money spent): the one retry, after a
    // dead worker's heartbeat lapsed, only lets the handler mark the backtest interrupted.
    retryLimit: 1,
  });
}

/** Consume backtest jobs; returns stop(), which aborts the running ones (they end cancelled). */
export async function workBacktests(
  boss: PgBoss,
  handler: (backtestId: string, signal: AbortSignal) => Promise<unknown>,
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
      try {
        await handler(job.data.backtestId, stopping.signal);
      } catch (err) {
        log(`backtest ${job.data.backtestId} failed: ${String((err as Error)?.message ?? err)}`);
        throw err;
      }
    },
  );
  return async () => {
    stopping.abort(new Error('worker stopping'));
    await boss.offWork(BACKTEST_QUEUE, { wait: true }).catch(() => {});
  };
}
