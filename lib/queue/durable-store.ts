import type { Db } from '@/lib/db/client';
import type { StepStart } from '@/lib/engine/trace-store';
import { SqlTraceStore, type SqlTraceStoreOptions } from '@/lib/db/sql-trace-store';
import { assertLease } from './fencing';

// The worker's TraceStore. Trace writes are batched (lib/db), so a run can be a few steps ahead of
// what is durable; after a crash those steps run again. For steps that reach the outside world
// that is not acceptable, so before one starts, everything recorded before it is made durable: a
// worker that dies then repeats at most the steps that were in flight, never a finished one.

/** Node types whose run has effects outside Trellis (requests, model calls, child runs). */
export const SIDE_EFFECT_NODE_TYPES: ReadonlySet<string> = new Set(['http.request', 'llm', 'subworkflow']);

export class DurableTraceStore extends SqlTraceStore {
  private readonly leaseSql: Db['sql'];
  /** Set in workers: side-effect steps first check this worker still holds the run's lease. */
  private readonly workerId: string | undefined;

  constructor(db: Pick<Db, 'sql'>, opts: SqlTraceStoreOptions & { workerId?: string } = {}) {
    super(db, opts);
    this.leaseSql = db.sql;
    this.workerId = opts.workerId;
  }

  override async startStep(step: StepStart): Promise<string> {
    if (SIDE_EFFECT_NODE_TYPES.has(step.nodeType) || step.mode === 'agent') {
      await this.flush();
      // A worker that was paused or cut off past its lease stops here, before the effect: the
      // step is never started, and the engine's error ends this drive (worker.ts drops the run).
      if (this.workerId) await assertLease(this.leaseSql, step.runId, this.workerId);
    }
    return super.startStep(step);
  }
}
