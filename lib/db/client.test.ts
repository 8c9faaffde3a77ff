import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EMBEDDED_SHARED_BUFFERS,
  embeddedDbPath,
  getDb,
  lockOwnerText,
  openDb,
  parseLockOwner,
} from './client';
import { createTempPostgres, postgresUrl, tempDataDir } from './testing/databases';

describe('embedded database (PGlite)', () => {
  const tmp = tempDataDir();
  afterAll(() => tmp.remove());
  const dataDir = path.join(tmp.dir, 'nested', 'data');

  it('creates its folder, migrates on first open, and keeps data without re-running initdb', async () => {
    const first = await openDb({ dataDir });
    expect(first.kind).toBe('embedded');
    // Issue 21 (idle memory): initdb ran in a child process, whose memory is gone with it.
    expect(first.initialized).toBe(true);
    expect(first.migrations.applied.length).toBeGreaterThan(0);
    await first.prisma.setting.create({ data: { key: 'k', value: { price: 1.5 } } });
    await first.close();
    const pgVersion = path.join(embeddedDbPath(dataDir), 'PG_VERSION');
    const before = fs.statSync(pgVersion).mtimeMs;

    const second = await openDb({ dataDir });
    try {
      expect(second.initialized).toBe(false);
      expect(second.migrations.applied).toEqual([]);
      // Issue 21 (idle memory): Postgres's buffer pool is EMBEDDED_SHARED_BUFFERS, not its 128 MB default.
      const [{ shared_buffers }] = await second.sql.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(shared_buffers).toBe(EMBEDDED_SHARED_BUFFERS);
      expect(fs.statSync(pgVersion).mtimeMs).toBe(before);
      expect(await second.prisma.setting.findUnique({ where: { key: 'k' } })).toMatchObject({
        value: { price: 1.5 },
      });
    } finally {
      await second.close();
    }
    // A fresh folder runs initdb: seconds alone, past vitest's default 30 s on a loaded 2-core box.
  }, 120_000);

  it('a failed initdb fails the open with its error and leaves the folder free for the next try', async () => {
    const bad = path.join(tmp.dir, 'bad-initdb');
    const dbDir = embeddedDbPath(bad);
    fs.mkdirSync(dbDir, { recursive: true });
    // A file where initdb must create the folder base/.
    fs.writeFileSync(path.join(dbDir, 'base'), '');
    await expect(openDb({ dataDir: bad })).rejects.toThrow(
      /initdb of the embedded database .* failed \(exit 1\)/,
    );
    fs.rmSync(dbDir, { recursive: true, force: true });
    const db = await openDb({ dataDir: bad });
    try {
      expect(db.initialized).toBe(true);
      expect(await db.sql.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  }, 120_000);

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

  const lockFile = () =>
    path.join(path.dirname(embeddedDbPath(dataDir)), `${path.basename(embeddedDbPath(dataDir))}.lock`);

  it("takes over a lock left by a crashed process that had this process's pid (a restarted container)", async () => {
    const db = await openDb({ dataDir });
    expect(parseLockOwner(fs.readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    await db.close();
    // What a crash leaves: the lock file, naming the pid this process now has.
    for (const stale of [`${process.pid}`, `${process.pid}:1`, lockOwnerText(process.pid)]) {
      fs.writeFileSync(lockFile(), stale);
      const again = await openDb({ dataDir });
      try {
        expect(await again.prisma.setting.count()).toBe(1);
      } finally {
        await again.close();
      }
      expect(fs.existsSync(lockFile())).toBe(false);
    }
  });

  it('takes over a lock whose pid now belongs to another process, and refuses the live owner', async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      fs.writeFileSync(lockFile(), `${other.pid}:1`);
      const db = await openDb({ dataDir });
      await db.close();
      fs.writeFileSync(lockFile(), lockOwnerText(other.pid!));
      await expect(openDb({ dataDir })).rejects.toThrow(new RegExp(`in use by process ${other.pid}`));
    } finally {
      other.kill('SIGKILL');
      fs.rmSync(lockFile(), { force: true });
    }
  });

  // The container case for real: each server runs as pid 1 of its own pid namespace. The first is
  // killed while it holds the database; the second, pid 1 again, must open it.
  const canUnshare = spawnSync('unshare', ['-pf', '--mount-proc', 'true']).status === 0;
  it.skipIf(!canUnshare)(
    'restarts after a crash when the new process has the same pid (pid namespaces)',
    async () => {
      const script = path.join(tmp.dir, 'open-db.mts');
      fs.writeFileSync(
        script,
        [
          `import { openDb } from ${JSON.stringify(path.join(import.meta.dirname, 'client.ts'))};`,
          `const db = await openDb({ dataDir: ${JSON.stringify(dataDir)} });`,
          `console.log('open pid=' + process.pid + ' settings=' + (await db.prisma.setting.count()));`,
          `if (process.argv[2] === 'hold') await new Promise(() => {});`,
          `await db.close();`,
        ].join('\n'),
      );
      const root = path.resolve(import.meta.dirname, '../..');
      const start = (mode: string) =>
        spawn('unshare', ['-pf', '--mount-proc', process.execPath, '--import', 'tsx', script, mode], {
          cwd: root,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      const output = (p: ReturnType<typeof start>) => {
        let text = '';
        p.stdout!.on('data', (d) => (text += d));
        p.stderr!.on('data', (d) => (text += d));
        return () => text;
      };

      const first = start('hold');
      const firstOut = output(first);
      await new Promise<void>((resolve, reject) => {
        const t = setInterval(() => {
          if (firstOut().includes('open pid=')) {
            clearInterval(t);
            resolve();
          }
        }, 50);
        first.once('exit', () => {
          clearInterval(t);
          reject(new Error(`first server exited: ${firstOut()}`));
        });
      });
      expect(firstOut()).toContain('open pid=1 ');
      process.kill(-first.pid!, 'SIGKILL');
      await new Promise((r) => first.once('exit', r));
      expect(parseLockOwner(fs.readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: 1 });

      const second = start('once');
      const secondOut = output(second);
      const code = await new Promise((r) => second.once('exit', r));
      expect(secondOut()).toContain('open pid=1 settings=1');
      expect(code).toBe(0);
      expect(fs.existsSync(lockFile())).toBe(false);
    },
    120_000,
  );

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
