import type { Db } from '@/lib/db/client';
import type { Engine } from '@/lib/engine/engine';
import { assertRunnable } from './definition-input';
import type { Dispatcher } from './dispatcher';

// The one way a run of a saved workflow starts (runs API, webhooks, schedules in process and in
// workers), so every rule that applies to a run applies to all of them. Kept apart from runs.ts
// (which reads the process runtime) so the runtime and the scheduler can use it without a cycle.

/** What starting a run needs: the runtime of the web process, or a worker's database and engine. */
export interface RunHost {
  db: Db;
  engine: Engine;
  dispatcher: Pick<Dispatcher, 'enqueue'>;
}

/**
 * Starts a run of a saved version: refuses a definition with problems (400 naming each), writes
 * the run and hands it to the dispatcher.
 */
export async function enqueueRun(
  rt: RunHost,
  args: {
    workflowId: string;
    versionId: string | null;
    version: number;
    definition: unknown;
    input: unknown;
    trigger: string;
    /** The trigger node that fires; only its branch runs. */
    triggerNodeId?: string | null;
    /** An incoming W3C traceparent (runs.ts incomingTraceparent). */
    traceContext?: string | null;
  },
): Promise<string> {
  const definition = assertRunnable(args.definition);
  const runId = await rt.engine.startRun({
    definition,
    workflowId: args.workflowId,
    versionId: args.versionId,
    version: args.version,
    input: args.input,
    trigger: args.trigger,
    triggerNodeId: args.triggerNodeId ?? null,
    traceContext: args.traceContext ?? null,
  });
  await rt.dispatcher.enqueue(runId, args.workflowId);
  return runId;
}
