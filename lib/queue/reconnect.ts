import type { SqlExecutor } from '@/lib/db/sql-executor';

// A worker's statements survive a dropped connection (server restart, pg_terminate_backend,
// failover): the pool hands out a fresh connection and the statement or transaction is run again.
// Only connection-level failures are retried; a transaction that was cut off was rolled back by
// the server, so running it again is safe. (A COMMIT cut off after the server applied it is the one
// ambiguous case; the trace batch's insert then fails on its primary key and the run fails loudly.)

export const RECONNECT_ATTEMPTS = 6;
export const RECONNECT_BASE_MS = 100;

const CONNECTION_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
]);

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  return /terminat|Connection terminated|connection (?:is )?closed|ECONNRESET|ECONNREFUSED|Client has encountered a connection error/i.test(
    e.message ?? '',
  );
}

async function retrying<T>(op: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await op();
    } catch (err) {
      if (i + 1 >= RECONNECT_ATTEMPTS || !isConnectionError(err)) throw err;
      await new Promise((r) => setTimeout(r, RECONNECT_BASE_MS * 2 ** i));
    }
  }
}

export function reconnectingExecutor(sql: SqlExecutor): SqlExecutor {
  return {
    kind: sql.kind,
    query: (text, params) => retrying(() => sql.query(text, params)),
    exec: (script) => retrying(() => sql.exec(script)),
    transaction: (fn) => retrying(() => sql.transaction(fn)),
  };
}
