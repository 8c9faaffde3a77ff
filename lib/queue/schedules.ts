import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import type { SqlQueryable } from '@/lib/db/sql-executor';
import { SCHEDULE_SYNC_MS, SCHEDULE_TICK_MS } from './limits';

// trigger.schedule without a registry to keep in sync: which workflows are scheduled is read from
// the data (enabled, not deleted, latest version has a trigger.schedule node), so saving, enabling,
// disabling and deleting a workflow take effect on the next SCHEDULE_SYNC_MS read with no hook in
// the API. One loop (createScheduleLoop) computes the due ticks for both hosts; only `fire`
// differs. Embedded mode starts the run in process (lib/server/schedules.ts). Workers turn each
// tick into a pg-boss job whose id is derived from (workflow, node, tick), and pg-boss inserts
// ignore a duplicate id, so a tick fires once however many workers saw it. Rejected: pg-boss's
// own schedule() (minute resolution, and its registry would have to follow every
// save/enable/delete through the API).

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

/** One occurrence of one trigger node; (workflowId, nodeId, firedAt) identifies it everywhere. */
export interface ScheduleTick {
  workflowId: string;
  nodeId: string;
  firedAt: Date;
}

/** Ticks of all schedule triggers of one workflow within SCHEDULE_BUDGET_WINDOW_MS; more are dropped. */
export const SCHEDULE_TICK_BUDGET_PER_WORKFLOW = 10;
export const SCHEDULE_BUDGET_WINDOW_MS = 60_000;

export interface ScheduleLoopOptions {
  sql: SqlQueryable;
  /**
   * Starts (embedded) or enqueues (workers) one tick. Resolving consumes the tick, also when the
   * run was refused by policy; throwing leaves it and the trigger's later ticks to the next look.
   */
  fire(tick: ScheduleTick): Promise<void>;
  /** Ticks of one trigger closer than this to its previous tick are dropped (the minimum interval). */
  minIntervalMs(): number;
  log?: (s: string) => void;
  now?: () => number;
  tickBudget?: number;
}

export interface ScheduleLoop {
  /** One pass: read the schedules if due, fire what came due since the last pass. */
  look(): Promise<void>;
  /** Look every SCHEDULE_TICK_MS; returns stop. */
  start(): () => void;
}

/**
 * The scheduler both hosts run. Progress is kept per trigger node (the last tick it fired), so a
 * failure part-way through a pass re-tries exactly the ticks that were not fired, and never
 * re-fires one that was.
 */
export function createScheduleLoop(opts: ScheduleLoopOptions): ScheduleLoop {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const budget = opts.tickBudget ?? SCHEDULE_TICK_BUDGET_PER_WORKFLOW;
  let triggers: ScheduledTrigger[] = [];
  let lastSync = -Infinity;
  let lastLook = now();
  /** Per trigger node: ticks up to this instant are done (fired or dropped). */
  const doneUntil = new Map<string, number>();
  /** Per trigger node: the last tick fired, for the minimum interval. */
  const lastFired = new Map<string, number>();
  /** Per workflow: instants of ticks fired within the budget window. */
  const recent = new Map<string, number[]>();
  let busy = false;

  const keyOf = (t: { workflowId: string; nodeId: string }) => `${t.workflowId}\u0000${t.nodeId}`;

  function withinBudget(workflowId: string, at: number): boolean {
    const list = (recent.get(workflowId) ?? []).filter((x) => x > at - SCHEDULE_BUDGET_WINDOW_MS);
    recent.set(workflowId, list);
    return list.length < budget;
  }

  async function look(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const t0 = now();
      if (t0 - lastSync >= SCHEDULE_SYNC_MS) {
        triggers = await scheduledTriggers(opts.sql);
        lastSync = t0;
        const live = new Set(triggers.map(keyOf));
        for (const m of [doneUntil, lastFired]) for (const k of m.keys()) if (!live.has(k)) m.delete(k);
      }
      const minGap = opts.minIntervalMs();
      for (const t of triggers) {
        const key = keyOf(t);
        // A trigger seen for the first time starts from the previous pass, not from the past.
        const after = doneUntil.get(key) ?? lastLook;
        let failed = false;
        for (const at of dueTicks(t, after, t0)) {
          const ms = at.getTime();
          const prev = lastFired.get(key);
          if (prev !== undefined && ms - prev < minGap) {
            doneUntil.set(key, ms);
            continue;
          }
          if (!withinBudget(t.workflowId, ms)) {
            log(
              `schedule ${t.workflowId}/${t.nodeId}: tick ${at.toISOString()} dropped, over the budget of ${budget} per ${SCHEDULE_BUDGET_WINDOW_MS / 1000} s`,
            );
            doneUntil.set(key, ms);
            continue;
          }
          try {
            await opts.fire({ workflowId: t.workflowId, nodeId: t.nodeId, firedAt: at });
          } catch (err) {
            log(
              `schedule ${t.workflowId}/${t.nodeId}: tick ${at.toISOString()} failed, retried next pass: ${(err as Error).message}`,
            );
            failed = true;
            break; // this trigger's later ticks wait too, so they stay in order
          }
          doneUntil.set(key, ms);
          lastFired.set(key, ms);
          recent.get(t.workflowId)!.push(ms);
        }
        // A failed trigger keeps its mark at the last tick it fired; the others are done up to now.
        if (!failed) doneUntil.set(key, t0);
        else if (!doneUntil.has(key)) doneUntil.set(key, after);
      }
      lastLook = t0;
    } catch (err) {
      log(`schedule check failed: ${(err as Error).message}`);
    } finally {
      busy = false;
    }
  }
  return {
    look,
    start() {
      const timer = setInterval(() => void look(), SCHEDULE_TICK_MS);
      timer.unref?.();
      return () => clearInterval(timer);
    },
  };
}
