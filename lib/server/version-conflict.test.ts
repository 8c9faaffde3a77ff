import { describe, expect, it } from 'vitest';
import { createWorkflow, deriveWorkflowVersion, listVersions } from '@/lib/db/repositories/workflows';
import { pgAvailable } from '@/lib/queue/testing/queue-db';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { toErrorResponse } from './route';
import { usePostgresRuntime } from './testing/route-harness';
import { getWorkflow, saveWorkflow } from './workflows';

// Optimistic concurrency of PUT /api/workflows/:id: a save that names the version it edited
// (baseVersion or If-Match) writes only while that is still the latest. The faults: a newer
// version written behind the editor's back (a rollback note, another save), two saves racing.

const def = (label: string) =>
  ({
    schemaVersion: 1,
    name: 'conflict',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      { id: 'out', type: 'output', position: { x: 0, y: 100 }, config: { value: { label } } },
    ],
    edges: [{ id: 'e', source: 'start', target: 'out' }],
  }) as WorkflowDefinition;

describe.skipIf(!pgAvailable)('saving a workflow against the version it was edited from', () => {
  const ctx = usePostgresRuntime('version_conflict');

  const put = async (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const req = new Request(`http://x/api/workflows/${id}`, {
      method: 'PUT',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });
    const res = await saveWorkflow({ req, params: { id } }).catch(toErrorResponse);
    return { status: res.status, etag: res.headers.get('etag'), body: await res.json() };
  };
  const get = async (id: string) => {
    const res = await getWorkflow({ req: new Request(`http://x/api/workflows/${id}`), params: { id } });
    return { etag: res.headers.get('etag'), body: await res.json() };
  };
  const versions = async (id: string) => (await listVersions(ctx.db.prisma, id)).map((v) => v.version);
  const created = () => createWorkflow(ctx.db.prisma, { name: 'conflict', definition: def('v1') });

  it('refuses a stale save with 409 naming the newer version and its note, writing nothing', async () => {
    const wf = await created();
    // The rollout watcher's write path: a derived version with a note.
    await deriveWorkflowVersion(ctx.db.prisma, wf.id, (latest) => ({
      definition: latest.definition,
      note: 'rolled back: label → shadow (agreement 0.41 < 0.9)',
      result: null,
    }));

    const stale = await put(wf.id, { definition: def('mine'), baseVersion: 1 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('version_conflict');
    expect(stale.body.error.details).toMatchObject({
      baseVersion: 1,
      currentVersion: 2,
      note: 'rolled back: label → shadow (agreement 0.41 < 0.9)',
    });
    expect(stale.body.error.message).toContain('version 2');
    expect(await versions(wf.id)).toEqual([2, 1]);
    expect((await get(wf.id)).body.definition.nodes[1].config.value.label).toBe('v1');

    // The same refusal through If-Match with GET's old ETag.
    const viaHeader = await put(wf.id, { definition: def('mine') }, { 'if-match': '"1"' });
    expect(viaHeader.status).toBe(409);
    expect(await versions(wf.id)).toEqual([2, 1]);
  });

  it('saves when the base is the latest, answering the new ETag, and without a base as before', async () => {
    const wf = await created();
    const { etag } = await get(wf.id);
    expect(etag).toBe('"1"');
    const fresh = await put(wf.id, { definition: def('v2') }, { 'if-match': etag! });
    expect(fresh).toMatchObject({ status: 200, etag: '"2"', body: { version: 2 } });
    const viaBody = await put(wf.id, { definition: def('v3'), baseVersion: 2 });
    expect(viaBody).toMatchObject({ status: 200, body: { version: 3 } });
    // No base named: last write wins, as it did before (API clients that never sent one).
    const blind = await put(wf.id, { definition: def('v4') });
    expect(blind).toMatchObject({ status: 200, body: { version: 4 } });
    expect((await get(wf.id)).etag).toBe('"4"');
  });

  it('lets exactly one of two concurrent saves of the same base win', async () => {
    const wf = await created();
    const [a, b] = await Promise.all([
      put(wf.id, { definition: def('tab A'), baseVersion: 1 }),
      put(wf.id, { definition: def('tab B'), baseVersion: 1 }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? 'tab A' : 'tab B';
    const loser = a.status === 200 ? b : a;
    expect(loser.body.error.details.currentVersion).toBe(2);
    expect(await versions(wf.id)).toEqual([2, 1]);
    expect((await get(wf.id)).body.definition.nodes[1].config.value.label).toBe(winner);
  });

  it('names the field when the base is malformed or the two disagree, writing nothing', async () => {
    const wf = await created();
    const bad = await put(wf.id, { definition: def('x') }, { 'if-match': 'v1' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.problems[0].path).toBe('/baseVersion');
    const both = await put(wf.id, { definition: def('x'), baseVersion: 1 }, { 'if-match': '"2"' });
    expect(both.status).toBe(400);
    expect(both.body.error.details.problems[0].code).toBe('mismatch');
    const zero = await put(wf.id, { definition: def('x'), baseVersion: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.error.details.problems[0].path).toBe('/baseVersion');
    expect(await versions(wf.id)).toEqual([1]);
  });

  it('treats If-Match: * as no base', async () => {
    const wf = await created();
    expect((await put(wf.id, { definition: def('y') }, { 'if-match': '*' })).status).toBe(200);
  });
});
