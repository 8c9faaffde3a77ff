import { getDb, type Db } from '@/lib/db/client';
import { PrismaTraceStore } from '@/lib/db/prisma-trace-store';
import { PrismaWorkflowSource } from '@/lib/db/prisma-workflow-source';
import { createChatClient } from '@/lib/agent/model-client';
import { createEngine, type Engine } from '@/lib/engine/engine';
import type { EngineEvent } from '@/lib/engine/events';
import { createInProcessDispatcher, type Dispatcher } from './dispatcher';
import { RunEventHub } from './run-events';
import { seedExamplesOnce } from './seed';

// Everything a request handler needs, built once per process. Kept on globalThis because Next.js
// may evaluate this module in more than one bundle, and the embedded database may be opened by
// only one owner.

export interface Runtime {
  db: Db;
  store: PrismaTraceStore;
  engine: Engine;
  dispatcher: Dispatcher;
  events: RunEventHub;
}

const KEY = Symbol.for('trellis.runtime');
type Holder = { [KEY]?: Promise<Runtime> };

export function getRuntime(): Promise<Runtime> {
  const g = globalThis as Holder;
  g[KEY] ??= createRuntime().catch((err) => {
    delete g[KEY];
    throw err;
  });
  return g[KEY];
}

/** Environment variables expressions may read as env.<name>; nothing else of the host leaks. */
export function allowListedEnv(): Record<string, string> {
  const port = process.env.PORT ?? '3000';
  return {
    TRELLIS_DEMO_URL: process.env.TRELLIS_DEMO_URL ?? `http://127.0.0.1:${port}/api/demo`,
  };
}

/** What every host (web process, worker, CLI) gives the engine besides its store. */
export function hostEngineOptions(db: Db, env: Record<string, string> = allowListedEnv()) {
  return {
    workflows: new PrismaWorkflowSource(db.prisma),
    services: { chat: createChatClient() },
    env,
  };
}

export async function createRuntime(opts: { db?: Db; seed?: boolean } = {}): Promise<Runtime> {
  const db = opts.db ?? (await getDb());
  const store = new PrismaTraceStore(db);
  const events = new RunEventHub();
  const engine = createEngine({
    store,
    ...hostEngineOptions(db),
    onEvent: (ev: EngineEvent) => events.publish(ev),
  });
  const dispatcher = createInProcessDispatcher(engine, async (statuses) =>
    (await db.prisma.run.findMany({ where: { status: { in: statuses } }, select: { id: true } })).map((r) => r.id),
  );
  if (opts.seed ?? db.kind === 'embedded') await seedExamplesOnce(db);
  await dispatcher.recover();
  return { db, store, engine, dispatcher, events };
}
