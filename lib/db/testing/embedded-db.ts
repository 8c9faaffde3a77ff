import { afterAll, beforeAll } from 'vitest';
import { openDb, type Db } from '../client';
import { tempDataDir } from './databases';

/**
 * A migrated embedded database in a temp folder for the enclosing suite (its beforeAll/afterAll):
 * read `ctx.db` inside tests.
 */
export function useEmbeddedDb(prefix = 'trellis-db-'): { db: Db } {
  const ctx = {} as { db: Db };
  const tmp = tempDataDir(prefix);
  beforeAll(async () => {
    ctx.db = await openDb({ dataDir: tmp.dir });
  }, 120_000);
  afterAll(async () => {
    await ctx.db?.close();
    tmp.remove();
  });
  return ctx;
}
