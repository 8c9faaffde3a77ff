import { minScheduleIntervalMs } from '@/lib/nodes/trigger-schedule';
import {
  createScheduleLoop,
  dueTicks,
  type ScheduledTrigger,
  type ScheduleTick,
} from '@/lib/queue/schedules';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { TrellisError } from '@/lib/workflow/errors';
import { enqueueRun, type RunHost } from './enqueue';
import { assertRunCapacity } from './rate-limit';

// trigger.schedule: what a tick does, in both hosts. The loop that finds due ticks is
// lib/queue/schedules.ts (createScheduleLoop); embedded mode runs it here and fires ticks
// directly, workers run it in lib/queue/worker.ts and fire each tick as a deduplicated job whose
// handler calls startScheduledRun.

/** Next occurrences of a schedule (UI: "next run at"). */
export function nextTicks(
  t: Pick<ScheduledTrigger, 'cron' | 'timezone'>,
  count = 3,
  from = Date.now(),
): Date[] {
  const out: Date[] = [];
  let after = from;
  // Walk forward in day-sized windows; dueTicks keeps at most a handful per window.
  for (let i = 0; i < 366 && out.length < count; i++) {
    const until = after + 86_400_000;
    for (const d of dueTicks(t, after, until)) if (out.length < count) out.push(d);
    after = until;
  }
  return out;
}

/** Codes of a refused run: the tick is consumed (logged), not retried. */
const REFUSALS = new Set(['validation_error', 'rate_limited', 'not_found', 'conflict']);

/**
 * Starts the run of one tick under the rules of every run: the workflow enabled and not deleted,
 * the node still a schedule trigger of its latest version, the definition valid, the workflow's
 * run capacity. A tick already started (a retried job, a second pass) starts nothing. Returns the
 * run id, or null when the tick started nothing.
 */
export async function startScheduledRun(
  host: RunHost,
  tick: ScheduleTick,
  log: (s: string) => void = (s) => console.error(`[trellis] ${s}`),
): Promise<string | null> {
  const firedAt = tick.firedAt.toISOString();
  const seen = await host.db.sql.query(
    `SELECT 1 FROM "Run" WHERE "workflowId" = $1 AND trigger = 'schedule' AND "triggerNodeId" = $2
        AND input->>'firedAt' = $3 LIMIT 1`,
    [tick.workflowId, tick.nodeId, firedAt],
  );
  if (seen.length) return null;
  const [v] = await host.db.sql.query<{ id: string; version: number; definition: WorkflowDefinition }>(
    `SELECT v.id, v.version, v.definition FROM "Workflow" w
       JOIN "WorkflowVersion" v ON v."workflowId" = w.id AND v.version = w."latestVersion"
      WHERE w.id = $1 AND w.enabled AND w."deletedAt" IS NULL`,
    [tick.workflowId],
  );
  if (!v) return null;
  if (!v.definition.nodes?.some((n) => n.id === tick.nodeId && n.type === 'trigger.schedule')) return null;
  try {
    await assertRunCapacity(host.db.prisma, tick.workflowId);
    return await enqueueRun(host, {
      workflowId: tick.workflowId,
      versionId: v.id,
      version: v.version,
      definition: v.definition,
      input: { firedAt },
      trigger: 'schedule',
      triggerNodeId: tick.nodeId,
    });
  } catch (err) {
    if (err instanceof TrellisError && REFUSALS.has(err.code)) {
      log(`schedule ${tick.workflowId}/${tick.nodeId} at ${firedAt} refused: ${err.message}`);
      return null;
    }
    throw err;
  }
}

/** Embedded mode: this process is the only one on the PGlite database; it fires ticks itself. */
export function startInProcessScheduler(host: RunHost): () => void {
  const log = (s: string) => console.error(`[trellis] ${s}`);
  return createScheduleLoop({
    sql: host.db.sql,
    minIntervalMs: () => minScheduleIntervalMs(),
    fire: async (tick) => void (await startScheduledRun(host, tick, log)),
    log,
  }).start();
}
