import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { changeCache } from './change-feed';
import type { Db } from './client';

// The latest version of a saved workflow with what starting a run of it checks (enabled, webhook
// secret): read by every webhook call and by the rollout watcher after every run. Kept in memory,
// dropped by the change feed when the workflow or a version is written (a save, a rotated secret,
// a disable or delete is seen by the very next call: in server mode a read waits for the feed to
// catch up with when its caller began, change-feed.ts). Without a feed, the database is read each
// time.

export interface WorkflowHead {
  id: string;
  enabled: boolean;
  secret: string | null;
  versionId: string;
  version: number;
  definition: WorkflowDefinition;
}

/** Workflows whose head is kept (embedded mode); the oldest go first. */
export const MAX_CACHED_WORKFLOW_HEADS = 500;

export interface WorkflowHeads {
  /**
   * The head of a workflow that exists and is not deleted; null otherwise. `since`
   * (performance.now(), default now): changes committed before it are seen.
   */
  get(workflowId: string, since?: number): Promise<WorkflowHead | null>;
  /** Whether reads are served from memory (there is a change feed). */
  readonly cached: boolean;
}

export function workflowHeads(db: Pick<Db, 'sql' | 'changes'>): WorkflowHeads {
  const read = async (id: string) =>
    (
      await db.sql.query<WorkflowHead>(
        `SELECT w.id, w.enabled, w."webhookSecret" AS secret, v.id AS "versionId", v.version, v.definition
           FROM "Workflow" w JOIN "WorkflowVersion" v ON v."workflowId" = w.id AND v.version = w."latestVersion"
          WHERE w.id = $1 AND w."deletedAt" IS NULL`,
        [id],
      )
    )[0] ?? null;
  if (!db.changes) return { cached: false, get: read };
  const cache = changeCache<WorkflowHead | null>(db.changes, {
    max: MAX_CACHED_WORKFLOW_HEADS,
    dropOn: (table, key) => (table === 'Workflow' || table === 'WorkflowVersion' ? key : null),
  });
  return {
    cached: true,
    // Unknown ids are not kept: strangers posting made-up ids must not push real heads out.
    get: (id, since) =>
      cache.get(
        id,
        () => read(id),
        (head) => head !== null,
        since,
      ),
  };
}
