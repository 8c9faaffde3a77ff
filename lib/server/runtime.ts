import { createRolloutWatcher, type RolloutWatcher } from './rollout-watcher';
import { getDb, type Db } from '@/lib/db/client';
import { SqlTraceStore, type SqlTraceStoreOptions } from '@/lib/db/sql-trace-store';
import { PrismaWorkflowSource } from '@/lib/db/prisma-workflow-source';
import { workflowHeads, type WorkflowHeads } from '@/lib/db/workflow-heads';
import { createChatClient } from '@/lib/agent/model-client';
import { createEngine, type Engine, type EngineOptions } from '@/lib/engine/engine';
import type { EngineEvent } from '@/lib/engine/events';
import { startBoss } from '@/lib/queue/boss';
import { listenRunEvents } from '@/lib/queue/event-bridge';
import { runJobHook } from '@/lib/queue/run-queue';
import { startLocalRuns, webRunSlots } from '@/lib/queue/local-runs';
import { createInProcessDispatcher, createQueueDispatcher, type Dispatcher } from './dispatcher';
import { RECENT_FINISHES_KEPT, RunEventHub } from './run-events';
import { startInProcessScheduler } from './schedules';
import { seedExamplesOnce } from './seed';
import { modelConfigReader } from './model-endpoint';
import { agentOptions } from './model-prices';
import { installConsoleRedaction, secretRedactor } from '@/lib/secrets/redact';
import { exactSealer } from '@/lib/secrets/exact-sealer';
import { SecretStore } from '@/lib/secrets/store';
import { createSandboxServices, warmSandbox } from '@/lib/sandbox';
import { engineTracer, startTelemetry } from '@/lib/telemetry';
import { VERSION } from './version';
import { createInProcessBacktests, type BacktestDispatcher } from './backtest-host';
import { sendBacktest, sendGraduation } from '@/lib/queue/backtest-queue';
import { warmAcceptPath, warmExecutePath } from './warm-up';

// Everything a request handler needs, built once per process. Kept on globalThis because Next.js
// may evaluate this module in more than one bundle, and the embedded database may be opened by
// only one owner.

export interface Runtime {
  db: Db;
  store: SqlTraceStore;
  engine: Engine;
  dispatcher: Dispatcher;
  events: RunEventHub;
  /** Reads rollout gates as this process's runs finish (rollback, auto-advance). */
  rollout: RolloutWatcher;
  /** Who replays backtests: this process (embedded) or a worker (server mode). */
  backtests: BacktestDispatcher;
  /** Saved workflows' latest versions as webhooks read them (kept in memory in embedded mode). */
  heads: WorkflowHeads;
}

const KEY = Symbol.for('trellis.runtime');
type Holder = { [KEY]?: Promise<Runtime> };

export function getRuntime(): Promise<Runtime> {
  const g = globalThis as Holder;
  g[KEY] ??= createRuntime({ schedules: true }).catch((err) => {
    delete g[KEY];
    throw err;
  });
  return g[KEY];
}

/** The process runtime if something opened it; null otherwise (closing must not open one). */
export function openedRuntime(): Promise<Runtime> | null {
  return (globalThis as Holder)[KEY] ?? null;
}

/** Environment variables expressions may read as env.<name>; nothing else of the host leaks. */
export function allowListedEnv(): Record<string, string> {
  const port = process.env.PORT ?? '3000';
  return {
    TRELLIS_DEMO_URL: process.env.TRELLIS_DEMO_URL ?? `http://127.0.0.1:${port}/api/demo`,
  };
}

/** What every host (web process, worker, CLI) gives its trace store: exact payload copies sealed at rest. */
export function hostTraceStoreOptions(): Pick<SqlTraceStoreOptions, 'sealExact'> {
  return { sealExact: exactSealer() };
}

/**
 * Stored secrets as a run reads them (secrets.<name>); reading them also teaches the redactor their
 * values. Embedded mode keeps them in memory until a secret changes.
 */
export function hostSecrets(db: Db): () => Promise<Record<string, string>> {
  const secrets = new SecretStore(db.prisma, { changes: db.changes });
  return () => secrets.values();
}

/** What every host (web process, worker, CLI) gives the engine besides its store. */
export function hostEngineOptions(
  db: Db,
  env: Record<string, string> = allowListedEnv(),
  secrets: () => Promise<Record<string, string>> = hostSecrets(db),
) {
  // The model endpoint: OPENAI_* from the environment, else the one saved in Settings.
  const model = modelConfigReader(db);
  return {
    workflows: new PrismaWorkflowSource(db.prisma),
    services: { ...createSandboxServices(), chat: createChatClient({ config: model }) },
    env,
    secrets,
    // The one redaction pass: the engine masks every payload before the store or a listener sees it.
    redactor: secretRedactor(),
    // Prices from the Settings table (model_prices), built-in ones until a user edits them.
    agent: { ...agentOptions(db), model },
    // OpenTelemetry export when OTEL_EXPORTER_OTLP_ENDPOINT (or TRELLIS_OTEL_ENDPOINT) is set and
    // the host started it (startTelemetry).
    tracer: engineTracer(),
  };
}

export interface RuntimeOptions {
  db?: Db;
  seed?: boolean;
  /**
   * Server mode: the Postgres URL the queue (pg-boss) and the worker-event listener connect to.
   * Defaults to DATABASE_URL when the database is Postgres. Without one, runs execute in process.
   */
  databaseUrl?: string;
  /** Embedded mode: fire trigger.schedule from this process (getRuntime does; tests opt in). */
  schedules?: boolean;
  /** Force a dispatcher; default: the queue on Postgres with a URL, in-process otherwise. */
  dispatch?: 'queue' | 'in-process';
  /**
   * Server mode: runs this process executes itself at once (default webRunSlots(), from
   * TRELLIS_WEB_RUN_SLOTS); 0 sends every run to the workers (tests of the worker path).
   */
  webRunSlots?: number;
  /** Trace store settings over the host's (tests: a flush interval that never fires mid-run). */
  traceStore?: Pick<SqlTraceStoreOptions, 'flushIntervalMs'>;
}

/** The engine every host builds the same way (web process, worker). */
export function buildEngine(
  db: Db,
  store: SqlTraceStore,
  onEvent: (ev: EngineEvent) => void,
  // Rollout gates are read where runs finish: here, in the web process and in every worker.
  rollout: RolloutWatcher = createRolloutWatcher(db.prisma, { heads: workflowHeads(db) }),
  opts: Pick<EngineOptions, 'keepStartedRuns'> & { secrets?: () => Promise<Record<string, string>> } = {},
): Engine {
  const { secrets, ...engineOpts } = opts;
  return createEngine({
    store,
    ...hostEngineOptions(db, undefined, secrets),
    onEvent: (ev) => {
      onEvent(ev);
      rollout.onEvent(ev);
    },
    ...engineOpts,
  });
}

export async function createRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  installConsoleRedaction();
  await startTelemetry(VERSION);
  const db = opts.db ?? (await getDb());
  const databaseUrl =
    opts.databaseUrl ?? (db.kind === 'postgres' ? process.env.DATABASE_URL || undefined : undefined);
  const useQueue =
    (opts.dispatch ?? (db.kind === 'postgres' && databaseUrl ? 'queue' : 'in-process')) === 'queue';
  // Server mode keeps recent outcomes for waiters that subscribe late (RECENT_FINISHES_KEPT).
  const events = new RunEventHub(useQueue ? RECENT_FINISHES_KEPT : 0);
  if (useQueue) {
    if (!databaseUrl) throw new Error('The queue dispatcher needs a Postgres URL (DATABASE_URL)');
    const boss = await startBoss({ databaseUrl, consumer: false });
    const sentWithRun = new Set<string>();
    const heads = workflowHeads(db);
    const rollout = createRolloutWatcher(db.prisma, { heads });
    const publish = (ev: EngineEvent) => events.publish(ev);
    // Runs this process has a slot for execute here (lib/queue/local-runs.ts), on sessions of their
    // own that the database fences like a worker's; the rest go to the workers.
    const slots = opts.webRunSlots ?? webRunSlots();
    // One reader of the stored secrets for the runs driven here and the warm-up run: the values
    // the warm-up reads serve the first run (kept until a secret changes: change-feed.ts).
    const secrets = hostSecrets(db);
    const local =
      slots > 0
        ? startLocalRuns({
            databaseUrl,
            boss,
            slots,
            storeOptions: hostTraceStoreOptions(),
            makeEngine: (localStore, sql, drivesHere) =>
              buildEngine({ ...db, sql }, localStore, publish, rollout, {
                keepStartedRuns: drivesHere,
                secrets,
              }),
            log: (s) => console.error(`[trellis] ${s}`),
          })
        : undefined;
    const store = new SqlTraceStore(db, {
      onRunCreated: runJobHook(boss, sentWithRun),
      ...hostTraceStoreOptions(),
    });
    // Runs execute in workers (their events arrive by NOTIFY) or on `local`'s engine: this one
    // records cancels, decisions and reruns, and keeps nothing of the runs it starts.
    const web = buildEngine(db, store, publish, rollout, { keepStartedRuns: false });
    // New runs are written by the engine that may drive them, which then need not read them back;
    // a cancel of a run driven here stops its steps at once (not at the drive's next poll).
    const engine: Engine = local
      ? {
          ...web,
          startRun: (args) => local.engine.startRun(args),
          cancelRun: (runId) =>
            local.inFlight().includes(runId) ? local.engine.cancelRun(runId) : web.cancelRun(runId),
        }
      : web;
    const listener = listenRunEvents(databaseUrl, (ev) => events.publish(ev));
    const dispatcher = createQueueDispatcher({
      boss,
      sql: db.sql,
      sentWithRun,
      readOutcome: async (runId) => {
        const r = await store.getRun(runId);
        return r && { runId, status: r.status, output: r.output, error: r.error };
      },
      subscribe: (runId, l) => events.subscribe(runId, l),
      recent: (runId) => events.finished(runId),
      local,
    });
    const close = dispatcher.close!;
    dispatcher.close = async () => {
      await listener.close();
      await close();
      await rollout.close();
    };
    if (opts.seed ?? false) await seedExamplesOnce(db);
    // Runs are accepted here. With web run slots this process also executes them (local-runs.ts),
    // so its sandbox and a run's path are warmed as in embedded mode; without, workers execute them
    // and warm their own path (cli/worker.ts), and this process starts no sandbox at all.
    if (local) {
      await warmSandbox();
      await warmExecutePath({ secrets });
      // Their sessions are open, and have run a run's statements once, before ready.
      await local.warm();
    }
    await warmAcceptPath(store);
    const backtests: BacktestDispatcher = {
      start: (id) => sendBacktest(boss, id),
      graduate: (id) => sendGraduation(boss, id),
      settled: async () => {},
    };
    return { db, store, engine, dispatcher, events, rollout, backtests, heads };
  }
  const store = new SqlTraceStore(db, { ...hostTraceStoreOptions(), ...opts.traceStore });
  const heads = workflowHeads(db);
  const rollout = createRolloutWatcher(db.prisma, { heads });
  const secrets = hostSecrets(db);
  const engine = buildEngine(db, store, (ev) => events.publish(ev), rollout, { secrets });
  const dispatcher = createInProcessDispatcher(engine, {
    listRuns: (statuses) =>
      db.prisma.run.findMany({
        where: { status: { in: statuses } },
        select: { id: true, workflowId: true },
        orderBy: { createdAt: 'asc' },
      }),
    workflowOf: async (runId) =>
      (await db.prisma.run.findUnique({ where: { id: runId }, select: { workflowId: true } }))?.workflowId ??
      null,
  });
  const closeDispatcher = dispatcher.close?.bind(dispatcher);
  // Runs that finished while the dispatcher drained may still be read for rollout gates.
  dispatcher.close = async () => {
    await closeDispatcher?.();
    await rollout.close();
  };
  if (opts.seed ?? db.kind === 'embedded') await seedExamplesOnce(db);
  // Runs execute here: the sandbox's workers load QuickJS now, and the rest of a run's path is
  // warmed, not in the first run (GET /api/health waits for the runtime, so "ready" means warm).
  await warmSandbox();
  // With the engine's own secrets reader: its first read (a Prisma query compiled on first use)
  // happens here, and the values it keeps serve the first run.
  await warmExecutePath({ secrets });
  await warmAcceptPath(store);
  await dispatcher.recover();
  if (opts.schedules) startInProcessScheduler({ db, engine, dispatcher });
  const backtests = createInProcessBacktests(db);
  await backtests.recover();
  return { db, store, engine, dispatcher, events, rollout, backtests, heads };
}
