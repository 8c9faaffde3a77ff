import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

// The few raw-SQL operations that migrations and the batched trace writer need, over either driver.
// Kept apart from Prisma so migrations run before any Prisma client exists and the hot trace path
// skips the ORM. Parameters are sent as text: pass JSON as JSON.stringify(...) with a ::jsonb cast and
// dates as ISO strings with a ::timestamptz cast, so both drivers agree.

export interface SqlQueryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * A transaction on a pipelined session (pgPoolExecutor): a statement is sent at once, however
   * many before it are unanswered, and they run in the order sent. A caller may send statements
   * whose answers it does not need yet without waiting (see `pipelined()`).
   */
  readonly pipelined?: boolean;
  /** Runs a script of one or more statements without parameters. */
  exec(script: string): Promise<void>;
  /**
   * Embedded only: runs `script` (statements without parameters) in one round trip, with `data`
   * as the file `/dev/blob` that `COPY … FROM '/dev/blob'` reads. Outside a transaction the
   * statements of one script commit together or not at all (the simple protocol's implicit
   * transaction). PGlite's parameterized query is six round trips into the database, and COPY
   * reads a row for less than INSERT … SELECT over json_to_recordset (issue 21).
   */
  execWithBlob?(script: string, data: string): Promise<void>;
}

export interface SqlExecutor extends SqlQueryable {
  readonly kind: 'embedded' | 'postgres';
  /** Runs fn in one transaction on one connection; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

/** OID of the json type (not jsonb): the type of every `$n::json` parameter. */
const JSON_OID = 114;

/**
 * A `$n::json` parameter goes to PGlite as UTF-8 bytes, in the binary format, which for json is the
 * same text (json_recv). A string parameter is measured and encoded by PGlite's JavaScript loop
 * (~3 ns a character): the batch of a `code` step over 10,000 items carries a ~1 MB exact copy.
 */
const pgliteSerializers = {
  [JSON_OID]: (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8'),
} as unknown as Record<number, (v: unknown) => string>;

export function pgliteExecutor(db: PGlite): SqlExecutor {
  const wrap = (q: PGlite | PGliteTransaction): SqlQueryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      return (await q.query<T>(sql, params, { serializers: pgliteSerializers })).rows;
    },
    async exec(script: string) {
      await q.exec(script);
    },
    async execWithBlob(script: string, data: string) {
      await q.exec(script, { blob: new Blob([data]) });
    },
  });
  return {
    kind: 'embedded',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
  };
}

/**
 * `pool`'s sessions in pipeline mode (pg's `pipeline: true`, set on the pool) send a statement
 * without waiting for the answers to those before it. A transaction then sends BEGIN with its first
 * statement instead of a round trip before it (issue 21: each round trip is a wake-up of both
 * processes, and a run's transactions wait on them in turn). BEGIN on a live session cannot fail
 * while the statement behind it succeeds outside the transaction: it fails only on a session in a
 * failed transaction (which refuses the next statement too) or a broken one; its answer is checked
 * before COMMIT all the same.
 */
export function pgPoolExecutor(pool: Pool): SqlExecutor {
  const pipelined = (pool as Pool & { options?: { pipeline?: boolean } }).options?.pipeline === true;
  const wrap = (q: Pool | PoolClient, inTransaction = false): SqlQueryable => ({
    pipelined: pipelined && inTransaction,
    async query<T>(sql: string, params?: unknown[]) {
      return (await q.query(sql, params)).rows as T[];
    },
    async exec(script: string) {
      await q.query(script);
    },
  });
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      // A checked-out client has no pool error listener: a connection dropped between two statements
      // (server restart, pg_terminate_backend) would otherwise be an unhandled 'error' event that
      // kills the process. The failure reaches the caller through the next statement instead.
      let broken: Error | undefined;
      const onError = (err: Error) => (broken = err);
      client.on('error', onError);
      try {
        const begun = client.query('BEGIN').then(
          () => undefined,
          (e: Error) => e,
        );
        const failed = pipelined ? undefined : await begun;
        if (failed) throw failed;
        const result = await fn(wrap(client, true));
        const late = await begun;
        if (late) throw late;
        await client.query('COMMIT');
        return result;
      } catch (err) {
        broken ??= await client.query('ROLLBACK').then(
          () => undefined,
          (e: Error) => e,
        );
        throw err;
      } finally {
        client.removeListener('error', onError);
        // A broken connection is discarded, not returned to the pool.
        client.release(broken);
      }
    },
  };
}

/**
 * Statements of one transaction `tx` sent without waiting for their answers when it is pipelined
 * (one after the other otherwise): `send` one whose answer is not needed, `ask` one whose answer
 * is. Both fail with the first failure among the statements sent so far, not with the "current
 * transaction is aborted" of those behind it; `done` waits for everything sent.
 */
export function pipelined(tx: SqlQueryable) {
  const sent: Promise<unknown>[] = [];
  const firstFailure = async (err: unknown): Promise<never> => {
    for (const p of sent) await p;
    throw err;
  };
  return {
    async send(sql: string, params?: unknown[]): Promise<void> {
      if (!tx.pipelined) return void (await tx.query(sql, params));
      const p = tx.query(sql, params);
      p.catch(() => {}); // answered through ask() or done()
      sent.push(p);
    },
    ask<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
      return tx.query<T>(sql, params).catch(firstFailure);
    },
    /** `answer` (a statement sent on `tx` by someone else, e.g. pg-boss), failing as `ask` does. */
    answer<T>(answer: Promise<T>): Promise<T> {
      return answer.catch(firstFailure);
    },
    async done(): Promise<void> {
      for (const p of sent) await p;
    },
  };
}
