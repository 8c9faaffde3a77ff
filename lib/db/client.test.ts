import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedDbPath, getDb, openDb } from './client';
import { createTempPostgres, postgresUrl, tempDataDir } from './testing/databases';

describe('embedded database (PGlite)', () => {
  const tmp = tempDataDir();
  afterAll(() => tmp.remove());
  const dataDir = path.join(tmp.dir, 'nested', 'data');

  it('creates its folder, migrates on first open, and keeps data without re-running initdb', async () => {
    const first = await openDb({ dataDir });
    expect(first.kind).toBe('embedded');
    expect(first.migrations.applied.length).toBeGreaterThan(0);
    await first.prisma.setting.create({ data: { key: 'k', value: { price: 1.5 } } });
    await first.close();
    const pgVersion = path.join(embeddedDbPath(dataDir), 'PG_VERSION');
    const before = fs.statSync(pgVersion).mtimeMs;

    const second = await openDb({ dataDir });
    try {
      expect(second.migrations.applied).toEqual([]);
      expect(fs.statSync(pgVersion).mtimeMs).toBe(before);
      expect(await second.prisma.setting.findUnique({ where: { key: 'k' } })).toMatchObject({
        value: { price: 1.5 },
      });
    } finally {
      await second.close();
    }
  });

  it('refuses a second open of the same folder while it is open', async () => {
    const db = await openDb({ dataDir });
    try {
      await expect(openDb({ dataDir })).rejects.toThrow(/in use by process/);
    } finally {
      await db.close();
    }
    const again = await openDb({ dataDir });
    await again.close();
  });

  it('getDb returns one shared database per process and reopens after close', async () => {
    const saved = { url: process.env.DATABASE_URL, dir: process.env.TRELLIS_DATA_DIR };
    delete process.env.DATABASE_URL;
    process.env.TRELLIS_DATA_DIR = dataDir;
    try {
      const [a, b] = await Promise.all([getDb(), getDb()]);
      expect(a).toBe(b);
      expect(a.kind).toBe('embedded');
      await a.close();
      const c = await getDb();
      expect(c).not.toBe(a);
      expect(await c.prisma.setting.count()).toBe(1);
      await c.close();
    } finally {
      if (saved.url !== undefined) process.env.DATABASE_URL = saved.url;
      if (saved.dir === undefined) delete process.env.TRELLIS_DATA_DIR;
      else process.env.TRELLIS_DATA_DIR = saved.dir;
    }
  });
});

describe.skipIf(!postgresUrl)('server database (Postgres)', () => {
  it('opens through @prisma/adapter-pg and migrates', async () => {
    const temp = await createTempPostgres('client');
    try {
      const db = await openDb({ databaseUrl: temp.url });
      expect(db.kind).toBe('postgres');
      expect(db.migrations.applied.length).toBeGreaterThan(0);
      await db.prisma.setting.create({ data: { key: 'k', value: [1, 2] } });
      expect(await db.sql.query(`SELECT value FROM "Setting"`)).toEqual([{ value: [1, 2] }]);
      await db.close();
      const again = await openDb({ databaseUrl: temp.url });
      expect(again.migrations.applied).toEqual([]);
      await again.close();
    } finally {
      await temp.drop();
    }
  });
});
