import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { pgAvailable, tempQueueDb } from '@/lib/queue/testing/queue-db';
import { startQueueWorker, type QueueWorker } from '@/lib/queue/worker';
import { encodedForms } from '@/lib/payload';
import { SecretStore } from '@/lib/secrets/store';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { receiveWebhook, webhookInfo, WEBHOOK_SECRET_HEADER } from './hooks';
import { buildEngine, createRuntime, type Runtime } from './runtime';

// Issue 13 item 4: the webhook reply is masked the same way whichever mode answers it. Embedded
// mode answers with the engine's outcome in this process; server mode waits for a worker (a real
// pg-boss worker on Postgres) and reads the stored run. Both must be the same masked value.

const SECRET = 'whk-Secret/+= value 8841';
const KEY = Symbol.for('trellis.runtime');

const def = {
  schemaVersion: 1,
  name: 'masked hook',
  nodes: [
    { id: 'in', type: 'trigger.webhook', position: { x: 0, y: 0 }, config: {} },
    {
      id: 'c',
      type: 'code',
      position: { x: 0, y: 100 },
      config: {
        code: 'return { raw: secrets.hookKey, enc: encodeURIComponent(secrets.hookKey), n: input.n };',
      },
    },
    { id: 'out', type: 'output', position: { x: 0, y: 200 }, config: { value: '{{ steps.c.output }}' } },
  ],
  edges: [
    { id: 'e1', source: 'in', target: 'c' },
    { id: 'e2', source: 'c', target: 'out' },
  ],
} as WorkflowDefinition;

describe.skipIf(!pgAvailable)('webhook reply masking: embedded and server mode answer identically', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  const runtimes: Runtime[] = [];
  let worker: QueueWorker | undefined;
  const prevKey = process.env.TRELLIS_SECRET_KEY;

  beforeAll(async () => {
    process.env.TRELLIS_SECRET_KEY = Buffer.alloc(32, 9).toString('hex');
    tmp = await tempQueueDb('hookmask');
    db = await openDb({ databaseUrl: tmp.url });
  }, 120_000);
  afterAll(async () => {
    delete (globalThis as Record<symbol, unknown>)[KEY];
    await worker?.stop(1_000);
    for (const rt of runtimes) await rt.dispatcher.close?.();
    await db?.close();
    await tmp?.drop();
    if (prevKey === undefined) delete process.env.TRELLIS_SECRET_KEY;
    else process.env.TRELLIS_SECRET_KEY = prevKey;
  });

  it('same masked output from the in-process engine and from a queue worker', async () => {
    await new SecretStore(db.prisma).set('hookKey', SECRET);
    const wf = await createWorkflow(db.prisma, { name: def.name, definition: def });
    const secret = (await webhookInfo(db, wf.id, def))!.secret;
    const call = async (rt: Runtime) => {
      (globalThis as Record<symbol, unknown>)[KEY] = Promise.resolve(rt);
      const res = await receiveWebhook({
        req: new Request(`http://x/api/hooks/${wf.id}`, {
          method: 'POST',
          body: JSON.stringify({ n: 1 }),
          headers: { 'content-type': 'application/json', [WEBHOOK_SECRET_HEADER]: secret },
        }),
        params: { workflowId: wf.id },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { runId: string; status: string; output: unknown };
    };

    const embedded = await createRuntime({ db, dispatch: 'in-process', seed: false });
    runtimes.push(embedded);
    const a = await call(embedded);

    const server = await createRuntime({ db, databaseUrl: tmp.url, dispatch: 'queue', seed: false });
    runtimes.push(server);
    worker = await startQueueWorker({ databaseUrl: tmp.url, concurrency: 1, makeEngine: buildEngine });
    const b = await call(server);

    expect(a.runId).not.toBe(b.runId);
    expect(a.output).toEqual({ raw: '[REDACTED]', enc: '[REDACTED]', n: 1 });
    expect(b.output).toEqual(a.output);
    const text = JSON.stringify([a, b]);
    for (const f of encodedForms(SECRET)) expect(text).not.toContain(f);
  }, 120_000);
});
