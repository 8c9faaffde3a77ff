import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import type { SqlQueryable } from '@/lib/db/sql-executor';

// trigger.schedule without a registry to keep in sync: which workflows are scheduled is read from
// the data (enabled, not deleted, latest version has a trigger.schedule node), so saving, enabling,
// disabling and deleting a workflow take effect on the next SCHEDULE_SYNC_MS read with no hook in
// the API. Every worker computes the due ticks; each tick becomes a pg-boss job whose id is derived
// from (workflow, node, tick), and pg-boss inserts ignore a duplicate id, so a tick fires once
// however many workers saw it. Rejected: pg-boss's own schedule() (minute resolution, and its
// registry would have to follow every save/enable/delete through the API).

export interface ScheduledTrigger {
  workflowId: string;
  nodeId: string;
  cron: string;
  timezone?: string;
}

/** Ticks more than this many per workflow per look are dropped (a `* * * * * *` after a long pause). */
export const MAX_TICKS_PER_LOOK = 5;

export async function scheduledTriggers(sql: SqlQueryable): Promise<ScheduledTrigger[]> {
  const rows = await sql.query<{
    workflowId: string;
    nodeId: string;
    config: { cron?: string; timezone?: string };
  }>(
    `SELECT w.id AS "workflowId", n->>'id' AS "nodeId", n->'config' AS config
       FROM "Workflow" w
       JOIN "WorkflowVersion" v ON v."workflowId" = w.id AND v.version = w."latestVersion"
       CROSS JOIN LATERAL jsonb_array_elements(v.definition->'nodes') AS n
      WHERE w.enabled AND w."deletedAt" IS NULL AND n->>'type' = 'trigger.schedule'`,
  );
  return rows
    .filter((r) => typeof r.config?.cron === 'string')
    .map((r) => ({
      workflowId: r.workflowId,
      nodeId: r.nodeId,
      cron: r.config.cron!,
      ...(r.config.timezone ? { timezone: r.config.timezone } : {}),
    }));
}

/** Occurrences in (afterMs, untilMs], oldest first, at most MAX_TICKS_PER_LOOK (the newest ones). */
export function dueTicks(
  t: Pick<ScheduledTrigger, 'cron' | 'timezone'>,
  afterMs: number,
  untilMs: number,
): Date[] {
  try {
    const it = CronExpressionParser.parse(t.cron, {
      currentDate: new Date(afterMs),
      endDate: new Date(untilMs + 1),
      ...(t.timezone ? { tz: t.timezone } : {}),
    });
    const out: Date[] = [];
    while (it.hasNext()) {
      const d = it.next().toDate();
      if (d.getTime() > untilMs) break;
      if (d.getTime() > afterMs) out.push(d);
      if (out.length > MAX_TICKS_PER_LOOK) out.shift();
    }
    return out;
  } catch {
    return []; // validation rejects bad cron on save; an old bad one must not stop the others
  }
}

/** A UUID (v5 layout) derived from the tick, so every worker computes the same job id. */
export function tickJobId(workflowId: string, nodeId: string, firedAt: Date): string {
  const h = createHash('sha1')
    .update(`trellis-tick:${workflowId}:${nodeId}:${firedAt.toISOString()}`)
    .digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
