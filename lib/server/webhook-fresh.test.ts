import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow, saveWorkflowVersion } from '@/lib/db/repositories/workflows';
import { pgAvailable } from '@/lib/queue/testing/queue-db';
import { SecretStore } from '@/lib/secrets/store';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { WEBHOOK_SECRET_HEADER, receiveWebhook, webhookInfo } from './hooks';
import { toErrorResponse } from './route';
import { usePostgresRuntime } from './testing/route-harness';

// Server mode: the web process serves a webhook's workflow, webhook secret and stored secrets from
// caches fed by the change feed (lib/db/change-feed.ts), and the run it starts reads the stored
// secrets without a round trip of its own (beganAt). Another process writes each of them; the
// very next call must see the write, with no wait in between.

const ROUNDS = 15;
const key = randomBytes(32).toString('hex');

/** webhook → transform reading secrets.TOKEN's length (a number: the redactor masks only the value) → output. */
const def = (v: number) =>
  ({
    schemaVersion: 1,
    name: 'fresh',
    nodes: [
      { id: 'hook', type: 'trigger.webhook', position: { x: 0, y: 0 }, config: {} },
      {
        id: 't',
        type: 'transform',
        position: { x: 0, y: 100 },
        config: { value: '{{ secrets.TOKEN?.length ?? 0 }}' },
      },
      {
        id: 'out',
        type: 'output',
        position: { x: 0, y: 200 },
        config: { value: { v, len: '{{ steps.t.output }}' } },
      },
    ],
    edges: [
      { id: 'a', source: 'hook', target: 't' },
      { id: 'b', source: 't', target: 'out' },
    ],
  }) as WorkflowDefinition;

describe.skipIf(!pgAvailable)('webhooks in server mode see writes made elsewhere from the next call', () => {
  const saved = process.env.TRELLIS_SECRET_KEY;
  process.env.TRELLIS_SECRET_KEY = key;
  const ctx = usePostgresRuntime('webhookfresh', { queue: true });
  /** Another process: no change feed of its own. */
  let there: Db;
  beforeAll(async () => {
    there = await openDb({ databaseUrl: ctx.url, changes: false });
  });
  afterAll(async () => {
    await there?.close();
    if (saved === undefined) delete process.env.TRELLIS_SECRET_KEY;
    else process.env.TRELLIS_SECRET_KEY = saved;
  });

  const post = async (workflowId: string, secret: string) => {
    const req = new Request(`http://x/api/hooks/${workflowId}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', [WEBHOOK_SECRET_HEADER]: secret },
    });
    try {
      return await receiveWebhook({ req, params: { workflowId } });
    } catch (err) {
      return toErrorResponse(err);
    }
  };

  it('a stored secret, a new version, a rotated webhook secret and a disable', async () => {
    const writer = new SecretStore(there.prisma);
    const wf = await createWorkflow(there.prisma, { name: 'fresh', definition: def(0) });
    let secret = (await webhookInfo(there, wf.id, def(0)))!.secret;
    expect(await (await post(wf.id, secret)).json()).toMatchObject({ output: { v: 0, len: 0 } });
    for (let i = 1; i <= ROUNDS; i++) {
      await writer.set('TOKEN', 'x'.repeat(i));
      expect(await (await post(wf.id, secret)).json()).toMatchObject({ output: { v: i - 1, len: i } });
      await saveWorkflowVersion(there.prisma, wf.id, { definition: def(i) });
      expect(await (await post(wf.id, secret)).json()).toMatchObject({ output: { v: i, len: i } });
      const old = secret;
      secret = `whsec_${randomBytes(12).toString('hex')}`;
      await there.sql.query(`UPDATE "Workflow" SET "webhookSecret" = $2 WHERE id = $1`, [wf.id, secret]);
      expect((await post(wf.id, old)).status).toBe(401);
      expect((await post(wf.id, secret)).status).toBe(200);
    }
    await there.sql.query(`UPDATE "Workflow" SET enabled = false WHERE id = $1`, [wf.id]);
    expect((await post(wf.id, secret)).status).toBe(401);
  });
});
