import type { PGlite } from '@electric-sql/pglite';

// What changed in the tables runs read on every start (a workflow, its versions, the stored
// secrets), from the `trellis_changes` notifications their triggers send (migration
// 20261130020000_change_notify). Embedded mode only: PGlite hands a notification to its listeners
// before the statement that committed it resolves, so once a write has returned, every cache fed
// from here has already dropped the old value. A Postgres listener hears it later, on another
// connection, so server mode has no feed and its callers read the database as before.

export const CHANGES_CHANNEL = 'trellis_changes';

export type ChangedTable = 'Workflow' | 'WorkflowVersion' | 'Secret';

export interface ChangeFeed {
  /** Bumped by every change: a value read before a change must not be cached after it. */
  generation(): number;
  /** Calls `fn` with the table and key (workflow id, secret name) of every change. */
  subscribe(fn: (table: ChangedTable, key: string) => void): () => void;
}

export async function pgliteChangeFeed(client: PGlite): Promise<ChangeFeed> {
  let generation = 0;
  const listeners = new Set<(table: ChangedTable, key: string) => void>();
  await client.listen(CHANGES_CHANNEL, (payload) => {
    generation++;
    const at = payload.indexOf(':');
    const table = payload.slice(0, at) as ChangedTable;
    const key = payload.slice(at + 1);
    for (const l of listeners) l(table, key);
  });
  return {
    generation: () => generation,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/**
 * A cache of values read from the database, dropped when the feed reports a change of their key
 * (or of any key: `dropOn` decides). At most `max` keys, the oldest go first. A load that overlaps
 * a change is returned but not kept, so a value read before a write never outlives it.
 */
export function changeCache<V>(
  feed: ChangeFeed,
  opts: { max: number; dropOn: (table: ChangedTable, key: string) => string | 'all' | null },
) {
  const values = new Map<string, V>();
  feed.subscribe((table, key) => {
    const drop = opts.dropOn(table, key);
    if (drop === 'all') values.clear();
    else if (drop !== null) values.delete(drop);
  });
  return {
    /** `keep`: whether a loaded value is kept (default: every one). */
    async get(key: string, load: () => Promise<V>, keep?: (v: V) => boolean): Promise<V> {
      if (values.has(key)) return values.get(key)!;
      const before = feed.generation();
      const v = await load();
      if (feed.generation() === before && (keep?.(v) ?? true)) {
        values.set(key, v);
        while (values.size > opts.max) values.delete(values.keys().next().value!);
      }
      return v;
    },
    /** Keys held (tests). */
    size: () => values.size,
  };
}
