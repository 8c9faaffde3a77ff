import { describe, expect, it } from 'vitest';
import { createWorkflow, saveWorkflowVersion } from '@/lib/db/repositories/workflows';
import { pgAvailable } from '@/lib/queue/testing/queue-db';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { toErrorResponse } from './route';
import { usePostgresRuntime } from './testing/route-harness';
import { rerun } from './runs';

// POST /api/runs/:id/rerun { on: 'original' | 'latest' }: which version a rerun runs.

const def = (value: number) =>
  ({
    schemaVersion: 1,
    name: 'rerun-version',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      { id: 'out', type: 'output', position: { x: 0, y: 100 }, config: { value: { v: value } } },
    ],
    edges: [{ id: 'e', source: 'start', target: 'out' }],
  }) as WorkflowDefinition;

describe.skipIf(!pgAvailable)('rerun on the original or the latest version', () => {
  const ctx = usePostgresRuntime('rerun_version');

  const call = async (runId: string, body: unknown) => {
    const req = new Request(`http://x/api/runs/${runId}/rerun`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    try {
      return await rerun({ req, params: { id: runId } });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
  const output = async (runId: string) => (await ctx.rt.dispatcher.settled(runId))?.output;

  it('reruns as it ran by default and on the newest version when asked', async () => {
    const wf = await createWorkflow(ctx.db.prisma, { name: 'rv', definition: def(1) });
    const v1 = await ctx.rt.engine.startRun({
      definition: def(1),
      workflowId: wf.id,
      versionId: null,
      version: 1,
      input: { n: 1 },
      trigger: 'manual',
    });
    await ctx.rt.dispatcher.enqueue(v1);
    expect(await output(v1)).toEqual({ v: 1 });
    await saveWorkflowVersion(ctx.db.prisma, wf.id, { definition: def(2) });

    const same = await call(v1, {});
    expect(same.status).toBe(202);
    const sameId = ((await same.json()) as { runId: string }).runId;
    expect(await output(sameId)).toEqual({ v: 1 });
    expect((await ctx.rt.store.getRun(sameId))?.version).toBe(1);

    const latest = await call(v1, { on: 'latest' });
    expect(latest.status).toBe(202);
    const body = (await latest.json()) as { runId: string; version: number };
    expect(body.version).toBe(2);
    expect(await output(body.runId)).toEqual({ v: 2 });
    const run = await ctx.rt.store.getRun(body.runId);
    expect(run?.version).toBe(2);
    expect(run?.input).toEqual({ n: 1 });
    expect(run?.trigger).toBe(`rerun:${v1}`);
  });

  it('refuses a rerun from a step on latest, naming the field', async () => {
    const wf = await createWorkflow(ctx.db.prisma, { name: 'rv2', definition: def(1) });
    const id = await ctx.rt.engine.startRun({
      definition: def(1),
      workflowId: wf.id,
      versionId: null,
      version: 1,
      input: {},
      trigger: 'manual',
    });
    await ctx.rt.dispatcher.enqueue(id);
    await output(id);
    const res = await call(id, { on: 'latest', fromNodeId: 'out' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('/on');
  });
});
