import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { tempDataDir } from '@/lib/db/testing/databases';
import { countStatements } from '@/lib/db/testing/statement-counter';
import { createWorkflow, saveWorkflowVersion, setWorkflowEnabled } from '@/lib/db/repositories/workflows';
import { SecretStore } from '@/lib/secrets/store';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { WEBHOOK_SECRET_HEADER, receiveWebhook, rotateWebhookSecret, webhookInfo } from './hooks';
import { toErrorResponse } from './route';
import { createRuntime, type Runtime } from './runtime';

// Issue 21: what one webhook run costs the embedded database, end to end (lookup, run row, steps,
// status, rollout watch), as a count, so a change that adds a round trip to every run shows up
// here rather than as a slower benchmark. And the caches that make it small must never serve a
// stale secret, version or enabled flag: each change is seen by the very next call.

/** Statements one webhook run of a 5-node chain makes: the run row, then one transaction. */
export const WEBHOOK_RUN_STATEMENTS = [
  'INSERT INTO "Run"',
  'tx COPY "Step"',
  'tx UPDATE "Run" SET status',
] as const;

/** webhook → 3 transforms → output; `secretRead`: the third reads secrets.TOKEN (an expression). */
const chain = (value: unknown, secretRead = true) =>
  ({
    schemaVersion: 1,
    name: 'statements',
    nodes: [
      { id: 'hook', type: 'trigger.webhook', position: { x: 0, y: 0 }, config: {} },
      { id: 't1', type: 'transform', position: { x: 0, y: 100 }, config: { value: 1 } },
      { id: 't2', type: 'transform', position: { x: 0, y: 200 }, config: { value: 2 } },
      {
        id: 't3',
        type: 'transform',
        position: { x: 0, y: 300 },
        config: { value: secretRead ? '{{ secrets.TOKEN ?? "none" }}' : 'none' },
      },
      {
        id: 'out',
        type: 'output',
        position: { x: 0, y: 400 },
        config: { value: { v: value, s: '{{ steps.t3.output }}' } },
      },
    ],
    edges: [
      { id: 'a', source: 'hook', target: 't1' },
      { id: 'b', source: 't1', target: 't2' },
      { id: 'c', source: 't2', target: 't3' },
      { id: 'd', source: 't3', target: 'out' },
    ],
  }) as WorkflowDefinition;

describe('one webhook run on the embedded database', () => {
  const tmp = tempDataDir('trellis-statements-');
  const KEY = Symbol.for('trellis.runtime');
  const saved = { ...process.env };
  let db: Db;
  let rt: Runtime;
  const log = countStatements();

  beforeAll(async () => {
    process.env.TRELLIS_DATA_DIR = tmp.dir;
    process.env.TRELLIS_SECRET_KEY = randomBytes(32).toString('hex');
    db = await openDb({ dataDir: tmp.dir });
    // Steps are written when the run ends, not by the flush timer of a slow machine: the count is
    // that of a run shorter than FLUSH_INTERVAL_MS, which is what a small chain is on a quiet one.
    rt = await createRuntime({ db, seed: false, traceStore: { flushIntervalMs: 60_000 } });
    (globalThis as Record<symbol, unknown>)[KEY] = Promise.resolve(rt);
  }, 120_000);
  afterAll(async () => {
    log.uninstall();
    delete (globalThis as Record<symbol, unknown>)[KEY];
    await rt?.dispatcher.close?.();
    await rt?.store.close();
    await db?.close();
    process.env = saved;
    tmp.remove();
  });

  const post = async (workflowId: string, secret: string) => {
    const req = new Request(`http://127.0.0.1/api/hooks/${workflowId}`, {
      method: 'POST',
      body: '{"n":1}',
      headers: { 'content-type': 'application/json', [WEBHOOK_SECRET_HEADER]: secret },
    });
    try {
      return await receiveWebhook({ req, params: { workflowId } });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
  /** Everything the run leaves behind has been written (steps, rollout watch). */
  const settle = async () => {
    await rt.store.flush();
    await rt.rollout.idle();
  };

  it('makes one statement and one transaction of two, reply and rollout watch included', async () => {
    // No expression: the count must not depend on how fast the sandbox answers.
    const def = chain('a', false);
    const wf = await createWorkflow(db.prisma, { name: 'count', definition: def });
    const { secret } = (await webhookInfo(db, wf.id, def))!;
    // The first call reads the workflow and the secrets into memory.
    // The first call reads the workflow and the secrets into memory.
    expect((await post(wf.id, secret)).status).toBe(200);
    await settle();

    log.start();
    const res = await post(wf.id, secret);
    await settle();
    log.stop();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'succeeded', output: { v: 'a', s: 'none' } });
    expect(log.statements.map((s, i) => s.slice(0, WEBHOOK_RUN_STATEMENTS[i]?.length ?? 40))).toEqual(
      WEBHOOK_RUN_STATEMENTS,
    );
    expect(log.transactions).toBe(1);
  });

  it('sees a rotated secret, a disable, a new version and a new secret from the very next call', async () => {
    const wf = await createWorkflow(db.prisma, { name: 'fresh', definition: chain('v1') });
    const first = (await webhookInfo(db, wf.id, chain('v1')))!.secret;
    expect(await (await post(wf.id, first)).json()).toMatchObject({ output: { v: 'v1', s: 'none' } });

    await saveWorkflowVersion(db.prisma, wf.id, { definition: chain('v2') });
    expect(await (await post(wf.id, first)).json()).toMatchObject({ output: { v: 'v2' } });

    await new SecretStore(db.prisma).set('TOKEN', 'tok-1');
    expect(await (await post(wf.id, first)).json()).toMatchObject({ output: { v: 'v2', s: '[REDACTED]' } });

    const rotated = await rotateWebhookSecret({
      req: new Request('http://127.0.0.1/x', { method: 'POST' }),
      params: { id: wf.id },
    });
    const second = ((await rotated.json()) as { secret: string }).secret;
    expect((await post(wf.id, first)).status).toBe(401);
    expect((await post(wf.id, second)).status).toBe(200);

    await setWorkflowEnabled(db.prisma, wf.id, false);
    expect((await post(wf.id, second)).status).toBe(401);
    await setWorkflowEnabled(db.prisma, wf.id, true);
    expect((await post(wf.id, second)).status).toBe(200);
  });
});
