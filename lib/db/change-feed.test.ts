import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretStore } from '@/lib/secrets/store';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { CHANGE_FEED_APPLICATION } from './change-feed';
import { openDb, type Db } from './client';
import { createWorkflow, saveWorkflowVersion } from './repositories/workflows';
import { createTempPostgres, postgresUrl } from './testing/databases';
import { workflowHeads } from './workflow-heads';

// Server mode's change feed (change-feed.ts): this process caches stored secrets and workflow
// heads, and another process writes them. Each write must be seen by the first read that begins
// after it returned, with no wait in between — the notification travels on another session and may
// not have been read yet, so the read's round trip on the listening session is what guarantees
// it — and nothing cached may outlive a lost listening session.

const ROUNDS = 40;
const key = randomBytes(32);

const def = (v: number) =>
  ({
    schemaVersion: 1,
    name: 'fresh',
    nodes: [{ id: 't', type: 'transform', position: { x: 0, y: 0 }, config: { value: v } }],
    edges: [],
  }) as WorkflowDefinition;

/** Every statement any pg client of this process sends while `fn` runs. */
async function sentDuring(fn: () => Promise<void>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    sent.push(typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = query;
  }
  return sent;
}

describe.skipIf(!postgresUrl)('change feed on Postgres', () => {
  let tmp: Awaited<ReturnType<typeof createTempPostgres>>;
  /** This process: caches fed by the change feed. */
  let here: Db;
  /** Another process: writes, and has no feed. */
  let there: Db;
  let admin: pg.Client;

  beforeAll(async () => {
    tmp = await createTempPostgres('changefeed');
    here = await openDb({ databaseUrl: tmp.url });
    there = await openDb({ databaseUrl: tmp.url, changes: false });
    admin = new pg.Client({ connectionString: tmp.url });
    await admin.connect();
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await here?.close();
    await there?.close();
    await tmp?.drop();
  });

  it('serves stored secrets from memory, and a secret written elsewhere from the very next read', async () => {
    const cached = new SecretStore(here.prisma, { key: () => key, changes: here.changes });
    const writer = new SecretStore(there.prisma, { key: () => key });
    await writer.set('TOKEN', 'v0');
    expect((await cached.values()).TOKEN).toBe('v0');
    const sent = await sentDuring(async () => {
      for (let i = 0; i < 5; i++) expect((await cached.values()).TOKEN).toBe('v0');
    });
    // One round trip on the listening session each, no read of the Secret table.
    expect(sent).toEqual(Array(5).fill('SELECT 1'));
    for (let i = 1; i <= ROUNDS; i++) {
      await writer.set('TOKEN', `v${i}`);
      expect((await cached.values()).TOKEN).toBe(`v${i}`);
    }
  });

  it('serves a workflow head from memory, and a version or secret written elsewhere from the very next read', async () => {
    const heads = workflowHeads(here);
    expect(heads.cached).toBe(true);
    const wf = await createWorkflow(there.prisma, { name: 'fresh', definition: def(0) });
    expect((await heads.get(wf.id))?.version).toBe(1);
    for (let i = 1; i <= ROUNDS; i++) {
      await saveWorkflowVersion(there.prisma, wf.id, { definition: def(i) });
      expect((await heads.get(wf.id))?.version).toBe(i + 1);
      await admin.query(`UPDATE "Workflow" SET "webhookSecret" = $2 WHERE id = $1`, [wf.id, `s${i}`]);
      expect((await heads.get(wf.id))?.secret).toBe(`s${i}`);
    }
  });

  it('drops everything it cached when its session is lost, and reads the database until it listens again', async () => {
    const cached = new SecretStore(here.prisma, { key: () => key, changes: here.changes });
    const writer = new SecretStore(there.prisma, { key: () => key });
    await writer.set('LOST', 'before');
    expect((await cached.values()).LOST).toBe('before');
    // Kept: served without reading the table.
    expect(await sentDuring(async () => expect((await cached.values()).LOST).toBe('before'))).toEqual([
      'SELECT 1',
    ]);
    const listening = async () =>
      (
        await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
          [CHANGE_FEED_APPLICATION],
        )
      ).rows;
    const [session] = await listening();
    expect(session).toBeDefined();
    // The session dies, and a write lands while nobody listens: its notification is never heard.
    await admin.query(`SELECT pg_terminate_backend($1)`, [session.pid]);
    await writer.set('LOST', 'while down');
    expect((await cached.values()).LOST).toBe('while down');
    // Listening again (a fresh session): the value cached before the loss must not come back.
    for (let i = 0; i < 200 && !(await listening()).some((r) => r.pid !== session.pid); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect((await listening()).some((r) => r.pid !== session.pid)).toBe(true);
    expect((await cached.values()).LOST).toBe('while down');
    await writer.set('LOST', 'after');
    expect((await cached.values()).LOST).toBe('after');
  });
});
