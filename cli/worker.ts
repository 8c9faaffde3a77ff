// `trellis worker [--concurrency N]`: consumes the run queue of the shared Postgres database.
// Any number of workers on any machines may point at the same DATABASE_URL; see lib/queue/README.md.
import { startQueueWorker } from '@/lib/queue/worker';
import { SHUTDOWN_GRACE_MS } from '@/lib/queue/limits';
import { minScheduleIntervalMs } from '@/lib/nodes/trigger-schedule';
import { buildEngine, hostTraceStoreOptions } from '@/lib/server/runtime';
import { startScheduledRun } from '@/lib/server/schedules';
import { proposeInWorker, replayBacktest } from '@/lib/server/backtest-host';
import { installConsoleRedaction } from '@/lib/secrets/redact';
import { warmSandbox } from '@/lib/sandbox';
import { warmExecutePath } from '@/lib/server/warm-up';
import { getTelemetry, startTelemetry } from '@/lib/telemetry';
import { VERSION } from '@/lib/server/version';

export const DEFAULT_WORKER_CONCURRENCY = 4;

export async function workerCommand(
  opts: { concurrency: number },
  io: { log: (s: string) => void; error: (s: string) => void },
): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    io.error(
      'trellis worker needs DATABASE_URL (a Postgres database). In embedded mode the web process runs the engine itself.',
    );
    return 2;
  }
  const concurrency =
    Number.isInteger(opts.concurrency) && opts.concurrency > 0
      ? opts.concurrency
      : DEFAULT_WORKER_CONCURRENCY;
  installConsoleRedaction();
  // QuickJS loads, and a run's path is warmed in memory, before the first job is taken, not
  // inside the first run.
  await warmSandbox();
  await warmExecutePath();
  await startTelemetry(VERSION);
  const worker = await startQueueWorker({
    // buildEngine masks payloads with the process's redactor, as in the web process.
    databaseUrl,
    concurrency,
    storeOptions: hostTraceStoreOptions(),
    // Scheduled runs it starts go through the queue like the others: nothing to keep for a local drive.
    makeEngine: (db, store, onEvent) =>
      buildEngine(db, store, onEvent, undefined, { keepStartedRuns: false }),
    // The run row's job is written with the run (the store's onRunCreated), so enqueue has nothing to do.
    startScheduledRun: ({ db, engine }, tick) =>
      startScheduledRun({ db, engine, dispatcher: { enqueue: async () => {} } }, tick, (s) =>
        io.log(`trellis worker: ${s}`),
      ),
    minScheduleIntervalMs: () => minScheduleIntervalMs(),
    runBacktest: replayBacktest,
    runGraduation: proposeInWorker,
    workerId: process.env.TRELLIS_WORKER_ID || undefined,
    log: (s) => io.log(`trellis worker: ${s}`),
  });
  io.log(`trellis worker ${worker.workerId}: concurrency ${concurrency}, waiting for runs`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
  });
  io.log(`trellis worker: ${signal}, finishing in-flight runs (up to ${SHUTDOWN_GRACE_MS} ms)`);
  const { finished, released } = await worker.stop(SHUTDOWN_GRACE_MS);
  io.log(`trellis worker: stopped (${finished} finished, ${released} handed to other workers)`);
  await getTelemetry()?.shutdown();
  return 0;
}
