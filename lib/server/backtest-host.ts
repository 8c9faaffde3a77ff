import type { Db } from '@/lib/db/client';
import { PrismaBacktestStore } from '@/lib/db/backtest-store';
import { PrismaWorkflowSource } from '@/lib/db/prisma-workflow-source';
import { createChatClient } from '@/lib/agent/model-client';
import { guardedFetch } from '@/lib/net/guarded-fetch';
import { createSandboxServices } from '@/lib/sandbox';
import { PrismaGraduationStore } from '@/lib/db/graduation-store';
import { executeBacktest, INTERRUPTED, type BacktestJobDeps } from '@/lib/promotion/job';
import { executeGraduation, type GraduationJobDeps } from '@/lib/promotion/graduation-job';
import { modelConfigReader } from './model-endpoint';
import { loadPriceTable } from './model-prices';

// The host side of promotion jobs (backtests and graduation proposals): the services a job gets
// (model, prices, sandbox, store) and who runs it. Embedded mode runs them in this process;
// server mode sends a job to the workers (lib/queue/backtest-queue.ts), whose handlers are
// replayBacktest and proposeInWorker below.

/** Promotion jobs the web process runs at once in embedded mode; more wait in order. */
export const MAX_EMBEDDED_BACKTESTS = 2;

/** What a backtest needs from the host: the store, the model, prices, the sandbox, live services. */
export async function backtestDeps(db: Db, signal?: AbortSignal): Promise<BacktestJobDeps> {
  const sandbox = createSandboxServices();
  const { prices } = await loadPriceTable(db.prisma);
  // The endpoint agent steps use (the environment's, else the one saved in Settings), read when
  // the backtest starts: a Settings edit reaches the next backtest without a restart.
  const readModel = modelConfigReader(db);
  const chat = createChatClient({ prices, config: readModel });
  const workflows = new PrismaWorkflowSource(db.prisma);
  return {
    store: new PrismaBacktestStore(db),
    model: await readModel(),
    prices,
    scorers: {
      runCode: sandbox.runCode,
      judge: (a) =>
        chat({
          system: a.system,
          prompt: a.prompt,
          ...(a.model ? { model: a.model } : {}),
          jsonSchema: { type: 'object', properties: { score: { type: 'number' } }, required: ['score'] },
          signal: a.signal,
        }),
    },
    resolveWorkflow: async (wid) => {
      const src = await workflows.getLatest(wid);
      return src
        ? {
            name: src.definition.name,
            description: src.definition.description,
            inputSchema: src.definition.inputSchema,
          }
        : null;
    },
    live: { ...sandbox, fetch: (url, init) => guardedFetch(url, init) },
    ...(signal ? { signal } : {}),
  };
}

/** What a graduation proposal needs from the host: its store, the history, the model, the sandbox. */
export async function graduationDeps(db: Db, signal?: AbortSignal): Promise<GraduationJobDeps> {
  const { prices } = await loadPriceTable(db.prisma);
  return {
    store: new PrismaGraduationStore(db),
    cases: new PrismaBacktestStore(db),
    // The endpoint agent steps use: the environment's, else the one saved in Settings.
    chat: createChatClient({ prices, config: modelConfigReader(db) }),
    sandbox: createSandboxServices(),
    ...(signal ? { signal } : {}),
  };
}

/** Who runs a queued backtest or graduation proposal. */
export interface BacktestDispatcher {
  start(id: string): Promise<void>;
  graduate(id: string): Promise<void>;
  /** Tests and the CLI: wait for one job this process runs. */
  settled(id: string): Promise<void>;
}

/** Embedded mode: this process runs the jobs, MAX_EMBEDDED_BACKTESTS at a time, in order. */
export function createInProcessBacktests(db: Db): BacktestDispatcher & { recover(): Promise<void> } {
  const ends = new Map<string, { promise: Promise<void>; resolve(): void }>();
  const waiting: { id: string; kind: 'backtest' | 'graduation' }[] = [];
  let active = 0;
  const pump = () => {
    while (active < MAX_EMBEDDED_BACKTESTS && waiting.length) {
      const { id, kind } = waiting.shift()!;
      active++;
      void (
        kind === 'backtest'
          ? backtestDeps(db).then((deps) => executeBacktest(id, deps))
          : graduationDeps(db).then((deps) => executeGraduation(id, deps))
      )
        .catch((err) => console.error(`[trellis] ${kind} ${id} failed`, err))
        .then(() => {
          active--;
          ends.get(id)?.resolve();
          ends.delete(id);
          pump();
        });
    }
  };
  const enqueue = (id: string, kind: 'backtest' | 'graduation') => {
    if (ends.has(id)) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    ends.set(id, { promise, resolve });
    waiting.push({ id, kind });
    pump();
  };
  return {
    async start(id) {
      enqueue(id, 'backtest');
    },
    async graduate(id) {
      enqueue(id, 'graduation');
    },
    async settled(id) {
      await ends.get(id)?.promise;
    },
    async recover() {
      // A backtest left running by a process that stopped cannot be resumed (its spend and
      // replies are gone with it): it ends failed; queued ones start.
      const store = new PrismaBacktestStore(db);
      const left = await db.prisma.backtest.findMany({
        where: { status: { in: ['queued', 'running'] } },
        orderBy: { createdAt: 'asc' },
        select: { id: true, status: true },
      });
      for (const b of left) {
        if (b.status === 'running')
          await store.finish(b.id, 'failed', { code: 'internal_error', message: INTERRUPTED });
        else await this.start(b.id);
      }
      const graduations = new PrismaGraduationStore(db);
      for (const g of await graduations.unfinished()) {
        if (g.status === 'running')
          await graduations.finish(g.id, 'failed', {
            error: { code: 'internal_error', message: INTERRUPTED },
          });
        else await this.graduate(g.id);
      }
    },
  };
}

/**
 * A worker's handler for one backtest job. pg-boss retries a job whose worker died (its
 * heartbeat stopped) once; that retry finds the backtest still `running` and ends it failed.
 */
export async function replayBacktest(db: Db, id: string, signal: AbortSignal): Promise<unknown> {
  const deps = await backtestDeps(db, signal);
  if ((await deps.store.get(id))?.status === 'running') {
    await deps.store.finish(id, 'failed', { code: 'internal_error', message: INTERRUPTED });
    return 'failed';
  }
  return executeBacktest(id, deps);
}

/** A worker's handler for one graduation job; a retried job (its worker died) ends it failed. */
export async function proposeInWorker(db: Db, id: string, signal: AbortSignal): Promise<unknown> {
  const deps = await graduationDeps(db, signal);
  if ((await deps.store.get(id))?.status === 'running') {
    await deps.store.finish(id, 'failed', { error: { code: 'internal_error', message: INTERRUPTED } });
    return 'failed';
  }
  return executeGraduation(id, deps);
}
