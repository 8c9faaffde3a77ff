import { PgBoss } from 'pg-boss';
import type { SqlQueryable } from '@/lib/db/sql-executor';
import {
  BACKTEST_QUEUE,
  JOB_HEARTBEAT_SECONDS,
  RETRY_DELAY_SECONDS,
  RUN_JOB_EXPIRE_SECONDS,
  RUN_JOB_RETRY_LIMIT,
  RUN_QUEUE,
  SCHEDULE_QUEUE,
  SUPERVISE_INTERVAL_SECONDS,
} from './limits';

// pg-boss on the Trellis database (its own `pgboss` schema). Producers (the web process) and
// consumers (workers) build the same instance; only consumers call work().

export interface RunJobData {
  runId: string;
}

export interface ScheduleJobData {
  workflowId: string;
  /** The schedule trigger node of this tick (absent in jobs of older versions). */
  nodeId?: string;
  firedAt: string;
}

export interface BossOptions {
  databaseUrl: string;
  /** Consumers run supervision (heartbeat expiry, retries) and hold a LISTEN connection. */
  consumer: boolean;
  /**
   * pg-boss's own LISTEN, which wakes every idle loop of a queue on each job; default: consumers.
   * Workers pass false and listen themselves (wake.ts), one loop per run job.
   */
  listen?: boolean;
  poolSize?: number;
}

export async function startBoss(opts: BossOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 4,
    useListenNotify: opts.listen ?? opts.consumer,
    supervise: opts.consumer,
    schedule: false,
    superviseIntervalSeconds: SUPERVISE_INTERVAL_SECONDS,
    monitorIntervalSeconds: SUPERVISE_INTERVAL_SECONDS,
    registerInstance: opts.consumer,
    instanceName: opts.consumer ? 'trellis-worker' : 'trellis-web',
    instanceHeartbeatSeconds: 5,
  });
  // pg-boss reports connection trouble as events; an unhandled 'error' event would kill the process.
  boss.on('error', (err: unknown) => {
    if (process.env.TRELLIS_QUEUE_DEBUG) console.error('[trellis] queue error', err);
  });
  await boss.start();
  const queues = new Set((await boss.getQueues()).map((q) => q.name));
  const common = {
    notify: true,
    heartbeatSeconds: JOB_HEARTBEAT_SECONDS,
    retryLimit: RUN_JOB_RETRY_LIMIT,
    retryDelay: RETRY_DELAY_SECONDS,
    expireInSeconds: RUN_JOB_EXPIRE_SECONDS,
  };
  for (const name of [RUN_QUEUE, SCHEDULE_QUEUE, BACKTEST_QUEUE]) {
    if (queues.has(name)) continue;
    // Two processes may create it at once; the loser's error is harmless.
    await boss.createQueue(name, common).catch(async (err) => {
      if (!(await boss.getQueue(name))) throw err;
    });
  }
  return boss;
}

/** Lets pg-boss write a job inside a transaction we opened (the run row's). */
export function txDatabase(tx: SqlQueryable) {
  return {
    async executeSql(text: string, values?: unknown[]) {
      return { rows: await tx.query(text, values) };
    },
  };
}
