import { SCHEDULE_SYNC_MS, SCHEDULE_TICK_MS } from '@/lib/queue/limits';
import { dueTicks, scheduledTriggers, type ScheduledTrigger } from '@/lib/queue/schedules';
import type { Runtime } from './runtime';

// trigger.schedule in embedded mode: the web process is the only process on the PGlite database,
// so it looks for due ticks itself and starts the runs directly. In server mode workers do this
// (lib/queue/worker.ts), deduplicated per tick through the queue.

export { scheduledTriggers, dueTicks, type ScheduledTrigger };

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

export function startInProcessScheduler(rt: Pick<Runtime, 'db' | 'engine' | 'dispatcher'>): () => void {
  let triggers: ScheduledTrigger[] = [];
  let lastSync = 0;
  let lastLook = Date.now();
  let busy = false;
  const look = async () => {
    if (busy) return;
    busy = true;
    try {
      const now = Date.now();
      if (now - lastSync >= SCHEDULE_SYNC_MS) {
        triggers = await scheduledTriggers(rt.db.sql);
        lastSync = now;
      }
      for (const t of triggers) {
        for (const at of dueTicks(t, lastLook, now)) {
          const [v] = await rt.db.sql.query<{ id: string; version: number; definition: never }>(
            `SELECT v.id, v.version, v.definition FROM "Workflow" w
               JOIN "WorkflowVersion" v ON v."workflowId" = w.id AND v.version = w."latestVersion" WHERE w.id = $1`,
            [t.workflowId],
          );
          if (!v) continue;
          const runId = await rt.engine.startRun({
            definition: v.definition,
            workflowId: t.workflowId,
            versionId: v.id,
            version: v.version,
            input: { firedAt: at.toISOString() },
            trigger: 'schedule',
          });
          await rt.dispatcher.enqueue(runId);
        }
      }
      lastLook = now;
    } catch (err) {
      console.error('[trellis] schedule check failed', err);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void look(), SCHEDULE_TICK_MS);
  timer.unref?.();
  return () => clearInterval(timer);
}
