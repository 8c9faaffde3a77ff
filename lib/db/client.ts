import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client';
import { migrate, type MigrateResult } from './migrate';
import { pgliteExecutor, pgPoolExecutor, type SqlExecutor } from './sql-executor';
import { pgliteChangeFeed, postgresChangeFeed, type ChangeFeed } from './change-feed';
import { trimArrayParsers } from './pglite-parsers';

// One storage module for both modes (DESIGN.md §5). Embedded: PGlite in TRELLIS_DATA_DIR/db, in
// process. Server: Postgres through @prisma/adapter-pg. Migrations run when a database is opened.

export type DbKind = 'embedded' | 'postgres';

/**
 * Postgres's buffer pool inside the embedded database. PGlite keeps Postgres's default of 128 MB,
 * which sits in the web process's memory for good once touched (Postgres writes all of it at
 * start); the working set of a Trellis database is far smaller, and pages beyond it come from the
 * OS file cache. 8 MB against 32 MB: 26 MB less resident, with no `code` 10k or 30,000-row `map`
 * CPU or time difference in three alternated rounds (issue 21: idle RSS; bench/README.md, memcode).
 */
export const EMBEDDED_SHARED_BUFFERS = '8MB';

export interface Db {
  prisma: PrismaClient;
  kind: DbKind;
  sql: SqlExecutor;
  migrations: MigrateResult;
  /**
   * Changes of workflows and secrets as they commit (change-feed.ts), so what every run reads can
   * be cached. Server mode: a listening session of its own; undefined when opened with
   * `changes: false`.
   */
  changes?: ChangeFeed;
  /** Milliseconds spent opening the database (PGlite start-up or first Postgres connection), migrations excluded. */
  openMs: number;
  /** Embedded: this open created the cluster (initdb, run in a child process). */
  initialized: boolean;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** Postgres URL; when absent the embedded PGlite database is used. */
  databaseUrl?: string;
  /** Embedded mode: the folder that holds `db/` (default TRELLIS_DATA_DIR or ./.trellis). */
  dataDir?: string;
  /** Default true. */
  migrate?: boolean;
  migrationsDir?: string;
  /** Postgres pool size (default 10). */
  poolSize?: number;
  /** Postgres: open the change feed's listening session (default true). */
  changes?: boolean;
}

export function embeddedDbPath(dataDir = process.env.TRELLIS_DATA_DIR ?? './.trellis'): string {
  return path.resolve(dataDir, 'db');
}

/** Opens an isolated database; tests and tools use this, the app uses getDb(). */
export async function openDb(opts: OpenDbOptions = {}): Promise<Db> {
  const t0 = performance.now();
  let prisma: PrismaClient;
  let sql: SqlExecutor;
  let shutdown: () => Promise<void>;
  let kind: DbKind;
  let initialized = false;
  let openFeed: (() => Promise<ChangeFeed>) | undefined;
  if (opts.databaseUrl) {
    kind = 'postgres';
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // An idle client error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    await pool.query('SELECT 1');
    sql = pgPoolExecutor(pool);
    prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    let feed: ChangeFeed | undefined;
    const url = opts.databaseUrl;
    if (opts.changes !== false) openFeed = async () => (feed = await postgresChangeFeed(url));
    shutdown = async () => {
      await feed?.close?.();
      await prisma.$disconnect();
      await pool.end();
    };
  } else {
    kind = 'embedded';
    const dir = embeddedDbPath(opts.dataDir);
    // Loaded only here: a server-mode process (web or worker) never holds PGlite's ~45 MB (issue 21).
    const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('pglite-prisma-adapter'),
    ]);
    fs.mkdirSync(dir, { recursive: true });
    const releaseLock = acquireDirLock(dir);
    let client: PGlite;
    try {
      const params = ['-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`];
      // PGlite runs initdb only when the folder holds no cluster (PG_VERSION); a fresh folder gets
      // it in a child process, so this one never holds initdb's WebAssembly memory.
      if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
        await initdbInChild(dir, params);
        initialized = true;
      }
      client = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...params] });
      await trimArrayParsers(client);
    } catch (err) {
      releaseLock();
      throw err;
    }
    sql = pgliteExecutor(client);
    openFeed = () => pgliteChangeFeed(client);
    prisma = new PrismaClient({ adapter: new PrismaPGlite(client) });
    shutdown = async () => {
      await prisma.$disconnect();
      await client.close();
      releaseLock();
    };
  }
  const openMs = performance.now() - t0;
  let migrations: MigrateResult = { applied: [], edited: [] };
  if (opts.migrate !== false) {
    try {
      migrations = await migrate(sql, { dir: opts.migrationsDir });
    } catch (err) {
      await shutdown().catch(() => {});
      throw err;
    }
  }
  let changes: ChangeFeed | undefined;
  try {
    changes = await openFeed?.();
  } catch (err) {
    await shutdown().catch(() => {});
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    prisma,
    kind,
    sql,
    migrations,
    openMs,
    initialized,
    changes,
    close: () => (closing ??= shutdown()),
  };
}

/**
 * The child that runs initdb (pglite-initdb.mjs). initdb grows PGlite's WebAssembly memory to
 * several hundred MB and a WebAssembly memory never shrinks: in process, a fresh embedded install
 * kept ~710 MB of RSS after opening its database against ~320 MB with the child (issue 21).
 */
function initdbScript(): string {
  const beside = fileURLToPath(new URL('./pglite-initdb.mjs', import.meta.url));
  if (fs.existsSync(beside)) return beside;
  // Bundled servers (Next.js) move this module; the script stays in the source tree.
  return path.join(/* turbopackIgnore: true */ process.cwd(), 'lib', 'db', 'pglite-initdb.mjs');
}

async function initdbInChild(dir: string, params: string[]): Promise<void> {
  const child = spawn(process.execPath, [initdbScript(), dir, JSON.stringify(params)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: process.env,
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0)
    throw new Error(`initdb of the embedded database ${dir} failed (exit ${code}): ${stderr.trim()}`);
}

// PGlite's files must be opened by one process at a time; a second opener would corrupt them. The
// lock file names its owner as `<pid>:<start time>` so a lock left by a crashed process is taken
// over. A pid alone is not enough: in a container the restarted server is often given the same pid
// as the one that crashed (pid 1, or the same small number), and an unrelated process may have
// reused the pid. So a lock is live only when its pid runs, was started at the recorded instant
// (/proc/<pid>/stat; assumed yes where that cannot be read), and, for our own pid, when this
// process really holds it. A second open in the same process is refused: getDb() is the way to
// share one.
const heldKey = Symbol.for('trellis.db.locks');
const heldLocks = ((globalThis as { [heldKey]?: Set<string> })[heldKey] ??= new Set<string>());

function acquireDirLock(dir: string): () => void {
  const file = path.join(dir, '..', `${path.basename(dir)}.lock`);
  for (let i = 0; i < 2; i++) {
    try {
      fs.writeFileSync(file, lockOwnerText(process.pid), { flag: 'wx' });
      heldLocks.add(file);
      return () => {
        heldLocks.delete(file);
        fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = parseLockOwner(fs.readFileSync(file, 'utf8'));
      if (owner && lockIsLive(file, owner)) {
        throw new Error(
          `The embedded database ${dir} is in use by process ${owner.pid}. Stop it, or set DATABASE_URL to share a Postgres database.`,
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock ${dir}`);
}

export interface LockOwner {
  pid: number;
  /** Start time of the process (clock ticks since boot, from /proc); null when unknown. */
  start: string | null;
}

export function lockOwnerText(pid: number): string {
  const start = processStart(pid);
  return start ? `${pid}:${start}` : String(pid);
}

/** `<pid>` (older lock files) or `<pid>:<start>`; null for anything else. */
export function parseLockOwner(text: string): LockOwner | null {
  const m = /^\s*(\d+)(?::(\d+))?\s*$/.exec(text);
  if (!m || Number(m[1]) <= 0) return null;
  return { pid: Number(m[1]), start: m[2] ?? null };
}

function lockIsLive(file: string, owner: LockOwner): boolean {
  // Our own pid on a lock we do not hold: a previous process with the same pid crashed.
  if (owner.pid === process.pid) return heldLocks.has(file);
  if (!isAlive(owner.pid)) return false;
  if (!owner.start) return true;
  const now = processStart(owner.pid);
  return now === null || now === owner.start;
}

/** Field 22 of /proc/<pid>/stat (starttime); null off Linux or when unreadable. */
function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return /^\d+$/.test(fields[19] ?? '') ? fields[19] : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// On globalThis, not in a module variable: Next.js dev reloads modules and may bundle this file more
// than once, and each copy must reuse the one open database.
const globalKey = Symbol.for('trellis.db');
type GlobalWithDb = typeof globalThis & { [globalKey]?: Promise<Db> };

/** The process-wide database, opened (and migrated) on first use from DATABASE_URL / TRELLIS_DATA_DIR. */
export function getDb(): Promise<Db> {
  const g = globalThis as GlobalWithDb;
  if (!g[globalKey]) {
    const opening = openDb({ databaseUrl: process.env.DATABASE_URL || undefined }).then((db) => {
      const close = db.close;
      return {
        ...db,
        close: async () => {
          if (g[globalKey] === opening) delete g[globalKey];
          await close();
        },
      };
    });
    g[globalKey] = opening;
    // A failed open must not poison the process: the next call tries again.
    opening.catch(() => {
      if (g[globalKey] === opening) delete g[globalKey];
    });
  }
  return g[globalKey];
}
