import { AsyncLocalStorage } from 'node:async_hooks';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

// What changed in the tables runs read on every start (a workflow, its versions, the stored
// secrets), from the `trellis_changes` notifications their triggers send (migration
// 20261130020000_change_notify).
// - Embedded mode: PGlite hands a notification to its listeners before the statement that
//   committed it resolves, so once a write has returned, every cache fed from here has already
//   dropped the old value.
// - Server mode: one session per process LISTENs; a write by any process (another web process, a
//   worker, the CLI, psql) reaches it a little later. A cache is read only after a round trip on
//   that session that was sent after the reader's operation began (`fresh`): Postgres signals the
//   listening backends when the writer commits, before the writer's client hears of the commit,
//   and a backend with a pending notification sends it before it answers the next query on its
//   session. So every change committed before the round trip was sent has been delivered (and the
//   caches dropped it) by the time it answers. While the session is down nothing is cached or
//   served from cache: the callers read the database.

export const CHANGES_CHANNEL = 'trellis_changes';
/** Server mode: the listening session is opened again this long after it dropped. */
export const CHANGE_FEED_RECONNECT_MS = 250;
/** The listening session's application_name (pg_stat_activity). */
export const CHANGE_FEED_APPLICATION = 'trellis-changes';

export type ChangedTable = 'Workflow' | 'WorkflowVersion' | 'Secret';
/** Not a table: the feed lost its session, so every cached value must go. */
export const ALL_CHANGED = '*';

export interface ChangeFeed {
  /** Bumped by every change: a value read before a change must not be cached after it. */
  generation(): number;
  /** Calls `fn` with the table and key (workflow id, secret name) of every change. */
  subscribe(fn: (table: ChangedTable | typeof ALL_CHANGED, key: string) => void): () => void;
  /**
   * Server mode: resolves true once every change committed before `since` (a performance.now()
   * reading: when the caller's operation began) has reached the subscribers; false when the feed
   * has no session, and then nothing may be served from a cache. Absent in embedded mode, where
   * every change has arrived before its write resolved.
   */
  fresh?(since: number): Promise<boolean>;
  /**
   * Server mode: runs one read on the listening session; it also counts as the round trip of
   * `fresh` for every `since` before it was sent, so a caller that needs a read anyway pays no
   * extra one. Null when the feed has no session.
   */
  readFresh?<T>(sql: string, params: unknown[]): Promise<T[] | null>;
  close?(): Promise<void>;
}

export async function pgliteChangeFeed(client: PGlite): Promise<ChangeFeed> {
  let generation = 0;
  const listeners = new Set<(table: ChangedTable | typeof ALL_CHANGED, key: string) => void>();
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
 * Server mode's feed: a session of its own on `databaseUrl` that LISTENs (see the top of the file).
 * Resolves once it listens; a failure to connect then is the caller's.
 */
export async function postgresChangeFeed(databaseUrl: string): Promise<ChangeFeed> {
  let generation = 0;
  const listeners = new Set<(table: ChangedTable | typeof ALL_CHANGED, key: string) => void>();
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  /** performance.now() when the latest answered round trip was queued on the session. */
  let syncedAt = Number.NEGATIVE_INFINITY;
  /** Round trips of `fresh`: the one on the wire, and the one every later caller shares. */
  let sent: Promise<boolean> | undefined;
  let next: Promise<boolean> | undefined;

  const deliver = (table: ChangedTable | typeof ALL_CHANGED, key: string) => {
    generation++;
    for (const l of listeners) l(table, key);
  };
  const lost = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    syncedAt = Number.NEGATIVE_INFINITY;
    // Notifications may have been missed while the session was going: nothing cached is trusted.
    deliver(ALL_CHANGED, '');
    c.end().catch(() => {});
    if (!closed) retry = setTimeout(() => void connect().catch(() => {}), CHANGE_FEED_RECONNECT_MS).unref();
  };
  const connect = async () => {
    const c = new pg.Client({ connectionString: databaseUrl, application_name: CHANGE_FEED_APPLICATION });
    c.on('notification', (m) => {
      if (m.channel !== CHANGES_CHANNEL || !m.payload) return;
      const at = m.payload.indexOf(':');
      deliver(m.payload.slice(0, at) as ChangedTable, m.payload.slice(at + 1));
    });
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      c.removeAllListeners();
      c.on('error', () => {});
      await c.end().catch(() => {});
      if (!closed) retry = setTimeout(() => void connect().catch(() => {}), CHANGE_FEED_RECONNECT_MS).unref();
      throw err;
    }
    if (closed) return void (await c.end().catch(() => {}));
    // Listening is no work of its own: a process whose work is done exits without closing the Db.
    (c as unknown as { connection?: { stream?: { unref?(): void } } }).connection?.stream?.unref?.();
    client = c;
    // Values loaded while the session was down were not kept; loads still under way are not either.
    generation++;
  };

  /** A read on the listening session; true in `ok` once it answered on the session it was sent on. */
  const roundTrip = async <T>(sql: string, params: unknown[]): Promise<T[] | null> => {
    const c = client;
    if (!c) return null;
    const queuedAt = performance.now();
    try {
      const rows = (await c.query(sql, params)).rows as T[];
      if (client !== c) return null;
      syncedAt = Math.max(syncedAt, queuedAt);
      return rows;
    } catch {
      return null;
    }
  };
  const barrier = () => {
    const p = roundTrip('SELECT 1', []).then((rows) => rows !== null);
    sent = p;
    void p.finally(() => {
      if (sent === p) sent = undefined;
    });
    return p;
  };

  await connect();
  return {
    generation: () => generation,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async fresh(since) {
      if (!client) return false;
      if (syncedAt >= since) return true;
      // One on the wire was queued before this call, so it does not count: share the next one.
      if (next) return next;
      if (!sent) return barrier();
      const n = sent.then(() => {
        next = undefined;
        return barrier();
      });
      next = n;
      return n;
    },
    readFresh: roundTrip,
    async close() {
      closed = true;
      clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}

const operation = new AsyncLocalStorage<number>();

/**
 * Runs `fn` as one operation that began at `since` (performance.now()): a cached read anywhere in
 * it (the run a webhook call starts, its stored secrets) must see the changes committed before
 * then, not those before the read itself, so one round trip on the feed's session at the start
 * serves all of them. Changes committed after `since` are concurrent with the operation.
 */
export function beganAt<T>(since: number, fn: () => T): T {
  return operation.run(since, fn);
}

/** When the current operation began (beganAt), else now. */
export const operationBegan = () => operation.getStore() ?? performance.now();

/**
 * A cache of values read from the database, dropped when the feed reports a change of their key
 * (or of any key: `dropOn` decides). At most `max` keys, the oldest go first. A load that overlaps
 * a change is returned but not kept, so a value read before a write never outlives it. On a feed
 * with `fresh` (server mode), a value is served only once the feed has caught up with `since`.
 */
export function changeCache<V>(
  feed: ChangeFeed,
  opts: { max: number; dropOn: (table: ChangedTable, key: string) => string | 'all' | null },
) {
  const values = new Map<string, V>();
  feed.subscribe((table, key) => {
    if (table === ALL_CHANGED) return values.clear();
    const drop = opts.dropOn(table, key);
    if (drop === 'all') values.clear();
    else if (drop !== null) values.delete(drop);
  });
  return {
    /**
     * `keep`: whether a loaded value is kept (default: every one). `since`: changes committed
     * before this moment (performance.now()) must be seen; default when the operation began.
     */
    async get(
      key: string,
      load: () => Promise<V>,
      keep?: (v: V) => boolean,
      since = operationBegan(),
    ): Promise<V> {
      if (feed.fresh && !(await feed.fresh(since))) return load();
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
