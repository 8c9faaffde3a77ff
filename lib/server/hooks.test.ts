import { describe, expect, it } from 'vitest';
import { createWorkflow, saveWorkflowVersion } from '@/lib/db/repositories/workflows';
import { pgAvailable } from '@/lib/queue/testing/queue-db';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import {
  MAX_WEBHOOK_BODY_BYTES,
  WEBHOOK_SECRET_HEADER,
  receiveWebhook,
  rotateWebhookSecret,
  webhookInfo,
} from './hooks';
import { toErrorResponse } from './route';
import { usePostgresRuntime } from './testing/route-harness';

const hookDef = (withOutput: boolean) =>
  ({
    schemaVersion: 1,
    name: 'hook',
    nodes: [
      { id: 'in', type: 'trigger.webhook', position: { x: 0, y: 0 }, config: {} },
      withOutput
        ? {
            id: 'out',
            type: 'output',
            position: { x: 0, y: 100 },
            config: { value: { got: '{{ input.n }}' } },
          }
        : { id: 't', type: 'transform', position: { x: 0, y: 100 }, config: { value: 1 } },
    ],
    edges: [{ id: 'e', source: 'in', target: withOutput ? 'out' : 't' }],
  }) as WorkflowDefinition;

describe.skipIf(!pgAvailable)('POST /api/hooks/:workflowId', () => {
  const ctx = usePostgresRuntime('hooks');

  const call = async (workflowId: string, body: string, headers: Record<string, string> = {}) => {
    const req = new Request(`http://x/api/hooks/${workflowId}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    try {
      return await receiveWebhook({ req, params: { workflowId } });
    } catch (err) {
      return toErrorResponse(err);
    }
  };

  it('answers 200 with the output when the workflow ends in output, 202 otherwise', async () => {
    const a = await createWorkflow(ctx.db.prisma, { name: 'a', definition: hookDef(true) });
    const info = await webhookInfo(ctx.db, a.id, hookDef(true));
    expect(info?.secret).toMatch(/^whsec_/);
    // A second read sees the same secret.
    expect((await webhookInfo(ctx.db, a.id, hookDef(true)))?.secret).toBe(info!.secret);
    const ok = await call(a.id, JSON.stringify({ n: 7 }), { [WEBHOOK_SECRET_HEADER]: info!.secret });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'succeeded', output: { got: 7 } });

    const b = await createWorkflow(ctx.db.prisma, { name: 'b', definition: hookDef(false) });
    const bs = (await webhookInfo(ctx.db, b.id, hookDef(false)))!.secret;
    const accepted = await call(b.id, '{}', { authorization: `Bearer ${bs}` });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    expect((await ctx.rt.store.getRun(runId))?.trigger).toBe('webhook');
  });

  it('refuses a wrong or missing secret, a workflow without webhook trigger, and a body over the limit', async () => {
    const a = await createWorkflow(ctx.db.prisma, { name: 'c', definition: hookDef(true) });
    const secret = (await webhookInfo(ctx.db, a.id, hookDef(true)))!.secret;
    expect((await call(a.id, '{}')).status).toBe(401);
    expect((await call(a.id, '{}', { [WEBHOOK_SECRET_HEADER]: `${secret}x` })).status).toBe(401);
    const big = JSON.stringify({ pad: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES) });
    const tooBig = await call(a.id, big, { [WEBHOOK_SECRET_HEADER]: secret });
    expect(tooBig.status).toBe(413);
    const plain = {
      ...hookDef(true),
      nodes: [{ ...hookDef(true).nodes[0], type: 'trigger.manual' }, hookDef(true).nodes[1]],
    };
    const m = await createWorkflow(ctx.db.prisma, { name: 'm', definition: plain as WorkflowDefinition });
    expect(await webhookInfo(ctx.db, m.id, plain as WorkflowDefinition)).toBeNull();
    expect((await call(m.id, '{}', { [WEBHOOK_SECRET_HEADER]: secret })).status).toBe(401);
    // Issue 14.11: an unknown workflow answers exactly like a wrong secret (no id probing).
    const unknown = await call('00000000-0000-0000-0000-000000000000', '{}', {
      [WEBHOOK_SECRET_HEADER]: secret,
    });
    const wrong = await call(a.id, '{}', { [WEBHOOK_SECRET_HEADER]: `${secret}x` });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual(await wrong.json());
  });

  it('removing the webhook trigger resets the secret: adding it back gets a new one, the old stays refused', async () => {
    const a = await createWorkflow(ctx.db.prisma, { name: 'reset', definition: hookDef(false) });
    const old = (await webhookInfo(ctx.db, a.id, hookDef(false)))!.secret;
    const plain = {
      ...hookDef(false),
      nodes: hookDef(false).nodes.map((n) =>
        n.type === 'trigger.webhook' ? { ...n, type: 'trigger.manual' } : n,
      ),
    } as WorkflowDefinition;
    await saveWorkflowVersion(ctx.db.prisma, a.id, { definition: plain });
    const row = await ctx.db.prisma.workflow.findUnique({
      where: { id: a.id },
      select: { webhookSecret: true },
    });
    expect(row?.webhookSecret).toBeNull();
    await saveWorkflowVersion(ctx.db.prisma, a.id, { definition: hookDef(false) });
    const fresh = (await webhookInfo(ctx.db, a.id, hookDef(false)))!.secret;
    expect(fresh).not.toBe(old);
    expect((await call(a.id, '{}', { [WEBHOOK_SECRET_HEADER]: old })).status).toBe(401);
    expect((await call(a.id, '{}', { [WEBHOOK_SECRET_HEADER]: fresh })).status).toBe(202);
  });

  it('rotating the secret refuses the old one from the next call on and is never cached', async () => {
    const a = await createWorkflow(ctx.db.prisma, { name: 'rot', definition: hookDef(false) });
    const old = (await webhookInfo(ctx.db, a.id, hookDef(false)))!.secret;
    expect((await call(a.id, '{}', { [WEBHOOK_SECRET_HEADER]: old })).status).toBe(202);
    const res = await rotateWebhookSecret({
      req: new Request(`http://x/api/workflows/${a.id}/webhook/rotate`, { method: 'POST' }),
      params: { id: a.id },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { secret: string; header: string; url: string };
    expect(body).toMatchObject({ header: WEBHOOK_SECRET_HEADER, url: `/api/hooks/${a.id}` });
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(old);
    expect((await call(a.id, '{}', { [WEBHOOK_SECRET_HEADER]: old })).status).toBe(401);
    expect((await call(a.id, '{}', { [WEBHOOK_SECRET_HEADER]: body.secret })).status).toBe(202);
    // The owner's view of the workflow shows the new secret.
    expect((await webhookInfo(ctx.db, a.id, hookDef(false)))?.secret).toBe(body.secret);
  });

  it('refuses to rotate for a workflow whose saved version has no webhook trigger (409), or none (404)', async () => {
    const plain = {
      ...hookDef(true),
      nodes: [{ ...hookDef(true).nodes[0], type: 'trigger.manual' }, hookDef(true).nodes[1]],
    } as WorkflowDefinition;
    const m = await createWorkflow(ctx.db.prisma, { name: 'plain-rot', definition: plain });
    const rotate = async (id: string) => {
      try {
        return await rotateWebhookSecret({
          req: new Request('http://x', { method: 'POST' }),
          params: { id },
        });
      } catch (err) {
        return toErrorResponse(err);
      }
    };
    expect((await rotate(m.id)).status).toBe(409);
    expect((await rotate('00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });
});
