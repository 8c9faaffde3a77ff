import { PGlite } from '@electric-sql/pglite';

// Counts what reaches the embedded database: every statement, from db.sql and from Prisma alike
// (both end in PGlite's query/exec/transaction), and every transaction. Installed on the class,
// so it sees every PGlite of the process; `counting` turns it on around the code under test.

export interface StatementLog {
  /** Statements in the order they ran; those inside a transaction are prefixed `tx `. */
  statements: string[];
  transactions: number;
  start(): void;
  stop(): void;
  /** Puts PGlite back as it was. */
  uninstall(): void;
}

type Proto = {
  query: (this: PGlite, sql: string, ...rest: unknown[]) => Promise<unknown>;
  exec: (this: PGlite, sql: string, ...rest: unknown[]) => Promise<unknown>;
  transaction: (this: PGlite, fn: (tx: Record<string, unknown>) => Promise<unknown>) => Promise<unknown>;
};

export function countStatements(): StatementLog {
  const proto = PGlite.prototype as unknown as Proto;
  const original = { query: proto.query, exec: proto.exec, transaction: proto.transaction };
  let on = false;
  const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();
  const log: StatementLog = {
    statements: [],
    transactions: 0,
    start: () => {
      log.statements = [];
      log.transactions = 0;
      on = true;
    },
    stop: () => {
      on = false;
    },
    uninstall: () => Object.assign(proto, original),
  };
  const note = (sql: string) => on && log.statements.push(oneLine(sql));
  proto.query = function (sql, ...rest) {
    note(sql);
    return original.query.call(this, sql, ...rest);
  };
  proto.exec = function (sql, ...rest) {
    note(sql);
    return original.exec.call(this, sql, ...rest);
  };
  proto.transaction = function (fn) {
    if (on) log.transactions++;
    return original.transaction.call(this, (tx) =>
      fn({
        ...tx,
        query: (sql: string, ...rest: unknown[]) => {
          note(`tx ${sql}`);
          return (tx.query as Proto['query']).call(tx as never, sql, ...rest);
        },
        exec: (sql: string, ...rest: unknown[]) => {
          note(`tx ${sql}`);
          return (tx.exec as Proto['exec']).call(tx as never, sql, ...rest);
        },
      }),
    );
  };
  return log;
}
