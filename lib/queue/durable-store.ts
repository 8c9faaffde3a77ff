import type { StepStart } from '@/lib/engine/trace-store';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';

// The worker's TraceStore. Trace writes are batched (lib/db), so a run can be a few steps ahead of
// what is durable; after a crash those steps run again. For steps that reach the outside world
// that is not acceptable, so before one starts, everything recorded before it is made durable: a
// worker that dies then repeats at most the steps that were in flight, never a finished one.

/** Node types whose run has effects outside Trellis (requests, model calls, child runs). */
export const SIDE_EFFECT_NODE_TYPES: ReadonlySet<string> = new Set(['http.request', 'llm', 'subworkflow']);

export class DurableTraceStore extends SqlTraceStore {
  override async startStep(step: StepStart): Promise<string> {
    if (SIDE_EFFECT_NODE_TYPES.has(step.nodeType) || step.mode === 'agent') await this.flush();
    return super.startStep(step);
  }
}
