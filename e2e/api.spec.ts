import { expect, test, type APIRequestContext } from '@playwright/test';
import triage from '../examples/support-ticket-triage.json' with { type: 'json' };

// The HTTP API end to end against the real server and database (docs/api.md).

const linear = (name: string) => ({
  schemaVersion: 1,
  name,
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    {
      id: 'double',
      type: 'transform',
      position: { x: 0, y: 100 },
      config: { value: { n: '{{ input.n * 2 }}' } },
    },
    {
      id: 'out',
      type: 'output',
      position: { x: 0, y: 200 },
      config: { value: '{{ steps.double.output.n }}' },
    },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'double' },
    { id: 'e2', source: 'double', target: 'out' },
  ],
});

async function create(request: APIRequestContext, definition: unknown) {
  const res = await request.post('/api/workflows', { data: { definition } });
  expect(res.status()).toBe(201);
  return (await res.json()) as { id: string; version: number };
}

test('validate names every problem by JSON pointer', async ({ request }) => {
  const bad = linear('bad');
  (bad.nodes[1] as { type: string }).type = 'nope';
  const res = await request.post('/api/validate', { data: bad });
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.valid).toBe(false);
  expect(body.problems).toContainEqual(
    expect.objectContaining({ path: '/nodes/1/type', code: 'unknown_node_type' }),
  );
});

test('bad bodies get a 4xx naming the field and nothing is written', async ({ request }) => {
  const before = (await (await request.get('/api/workflows')).json()).workflows.length;
  const notJson = await request.post('/api/workflows', {
    data: '{nope',
    headers: { 'content-type': 'application/json' },
  });
  expect(notJson.status()).toBe(400);
  expect((await notJson.json()).error.code).toBe('validation_error');
  const wrongShape = await request.post('/api/workflows', {
    data: { definition: { schemaVersion: 2, nodes: 'x' } },
  });
  expect(wrongShape.status()).toBe(400);
  const err = (await wrongShape.json()).error;
  expect(err.details.problems[0].path).toMatch(/^\/definition/);
  const after = (await (await request.get('/api/workflows')).json()).workflows.length;
  expect(after).toBe(before);
  expect((await request.get('/api/health')).status()).toBe(200);
});

test('an oversized body is refused with 413', async ({ request }) => {
  const res = await request.post('/api/validate', { data: { pad: 'x'.repeat(3 * 1024 * 1024) } });
  expect(res.status()).toBe(413);
  expect((await res.json()).error.code).toBe('payload_too_large');
});

test('workflow CRUD keeps immutable versions', async ({ request }) => {
  const { id, version } = await create(request, linear('crud'));
  expect(version).toBe(1);
  const saved = await request.put(`/api/workflows/${id}`, { data: { definition: linear('crud renamed') } });
  expect((await saved.json()).version).toBe(2);
  const latest = await (await request.get(`/api/workflows/${id}`)).json();
  expect(latest.name).toBe('crud renamed');
  expect(latest.version).toBe(2);
  const versions = (await (await request.get(`/api/workflows/${id}/versions`)).json()).versions;
  expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  const v1 = await (await request.get(`/api/workflows/${id}/versions/1`)).json();
  expect(v1.definition.name).toBe('crud');
  expect((await request.delete(`/api/workflows/${id}`)).status()).toBe(204);
  expect((await request.get(`/api/workflows/${id}`)).status()).toBe(404);
});

test('a run with wait returns the finished run and its steps; the list pages newest first', async ({
  request,
}) => {
  const { id } = await create(request, linear('run-wait'));
  const res = await request.post(`/api/workflows/${id}/runs`, { data: { input: { n: 21 }, wait: true } });
  expect(res.status()).toBe(200);
  const { run, steps } = await res.json();
  expect(run.status).toBe('succeeded');
  expect(run.output).toBe(42);
  // One row per step; steps that start in the same millisecond may list in either order.
  expect(steps.map((s: { nodeId: string }) => s.nodeId).sort()).toEqual(['double', 'out', 'start']);
  const doubleStep = steps.find((s: { nodeId: string }) => s.nodeId === 'double');
  const step = await (await request.get(`/api/runs/${run.id}/steps/${doubleStep.id}`)).json();
  expect(step.step.output).toEqual({ n: 42 });

  for (let i = 0; i < 2; i++)
    await request.post(`/api/workflows/${id}/runs`, { data: { input: { n: i }, wait: true } });
  const page1 = await (await request.get(`/api/runs?workflowId=${id}&limit=2`)).json();
  expect(page1.runs).toHaveLength(2);
  expect(page1.nextCursor).toBeTruthy();
  const page2 = await (
    await request.get(`/api/runs?workflowId=${id}&limit=2&cursor=${page1.nextCursor}`)
  ).json();
  expect(page2.runs.map((r: { id: string }) => r.id)).toEqual([run.id]);
  expect((await request.get('/api/runs?status=bogus')).status()).toBe(400);
});

test('an invalid workflow may be saved but not run', async ({ request }) => {
  const def = linear('dangling');
  def.edges.push({ id: 'e3', source: 'out', target: 'ghost' });
  const { id } = await create(request, def);
  const res = await request.post(`/api/workflows/${id}/runs`, { data: { input: {} } });
  expect(res.status()).toBe(400);
  const err = (await res.json()).error;
  expect(err.details.problems).toContainEqual(
    expect.objectContaining({ path: '/definition/edges/2/target' }),
  );
});

test('approval parks the run until decided, and SSE reports the end', async ({ request }) => {
  const { id } = await create(request, triage);
  const started = await request.post(`/api/workflows/${id}/runs`, {
    data: { input: { ticketId: 'T-1001' }, wait: true },
  });
  const { run } = await started.json();
  expect(run.status).toBe('waiting');

  // Through the request fixture: it carries the signed-in session (a bare fetch would get 401).
  const events = request.get(`/api/runs/${run.id}/events`).then((r) => r.text());
  const decided = await request.post(`/api/runs/${run.id}/approvals/approve`, {
    data: { approved: true, comment: 'ok' },
  });
  expect(decided.status()).toBe(200);
  const text = await events;
  expect(text).toContain('event: snapshot');
  expect(text).toMatch(/event: run\ndata: \{[^\n]*"status":"succeeded"/);
  const done = await (await request.get(`/api/runs/${run.id}`)).json();
  expect(done.run.status).toBe('succeeded');
  expect(done.run.output).toEqual({ ticket: 'T-1001', escalated: true });
});

test('rerun from a node reuses upstream outputs', async ({ request }) => {
  const { id } = await create(request, linear('rerun'));
  const first = (
    await (await request.post(`/api/workflows/${id}/runs`, { data: { input: { n: 5 }, wait: true } })).json()
  ).run;
  const res = await request.post(`/api/runs/${first.id}/rerun`, { data: { fromNodeId: 'out' } });
  expect(res.status()).toBe(202);
  const { runId } = await res.json();
  await expect
    .poll(async () => (await (await request.get(`/api/runs/${runId}`)).json()).run.status, {
      timeout: 15_000,
    })
    .toBe('succeeded');
  const rerun = await (await request.get(`/api/runs/${runId}`)).json();
  expect(rerun.run.output).toBe(10);
  expect(rerun.run.trigger).toContain(first.id);
});

test('unknown ids are 404 with a JSON error', async ({ request }) => {
  for (const path of ['/api/workflows/nope', '/api/runs/nope', '/api/workflows/nope/versions/1']) {
    const res = await request.get(path);
    expect(res.status(), path).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  }
});

test("a run's steps page behind the run", async ({ request }) => {
  const { id } = await create(request, linear('step-pages'));
  const { run } = await (
    await request.post(`/api/workflows/${id}/runs`, { data: { input: { n: 1 }, wait: true } })
  ).json();
  // Steps started in the same millisecond are ordered by id: compare with the unpaged list.
  const all = (await (await request.get(`/api/runs/${run.id}`)).json()).steps.map(
    (s: { id: string }) => s.id,
  );
  expect(all).toHaveLength(3);
  const first = await (await request.get(`/api/runs/${run.id}?stepLimit=2`)).json();
  expect(first.steps.map((s: { id: string }) => s.id)).toEqual(all.slice(0, 2));
  expect(first.stepsCursor).toBeTruthy();
  const rest = await (
    await request.get(`/api/runs/${run.id}/steps?limit=2&cursor=${encodeURIComponent(first.stepsCursor)}`)
  ).json();
  expect(rest.steps.map((s: { id: string }) => s.id)).toEqual(all.slice(2));
  expect(rest.nextCursor).toBeNull();
  expect((await request.get(`/api/runs/${run.id}/steps?limit=0`)).status()).toBe(400);
  expect((await request.get(`/api/runs/nope/steps`)).status()).toBe(404);
});
