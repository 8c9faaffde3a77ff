import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { callJson, loadRoute, useEmbeddedRuntime, type Body, type Handler } from './testing/route-harness';

// POST /api/import/n8n as Next.js calls it, on the process runtime with a fresh embedded
// database: import → save → run → the output the n8n workflow would compute.

const FIXTURES = path.join(import.meta.dirname, '..', 'import', 'fixtures', 'n8n');
const { token } = useEmbeddedRuntime('import-routes');
let routes: Record<'importN8n' | 'workflows' | 'runs', Record<string, Handler>>;

beforeAll(async () => {
  routes = {
    importN8n: await loadRoute('import/n8n'),
    workflows: await loadRoute('workflows'),
    runs: await loadRoute('workflows/[id]/runs'),
  };
});

const call = (h: Handler, path: string, body: unknown, params: Record<string, string> = {}, auth = true) =>
  callJson(h, path, { method: 'POST', body, params, token: auth ? token : null });

describe('POST /api/import/n8n', () => {
  it('imports, saves and runs an n8n workflow with the same routing', async () => {
    const n8n = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'webhook-switch.json'), 'utf8'));
    const imported = await call(routes.importN8n.POST, '/api/import/n8n', n8n);
    expect(imported.status).toBe(200);
    expect(imported.body.problems).toEqual([]);
    expect(imported.body.report.summary).toEqual({ mapped: 4, approximated: 2, placeholder: 0, dropped: 0 });
    const created = await call(routes.workflows.POST, '/api/workflows', {
      definition: imported.body.definition,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const run = await call(
      routes.runs.POST,
      `/api/workflows/${id}/runs`,
      { input: { kind: 'refund', id: 'o-9' }, wait: true },
      { id },
    );
    expect(run.status).toBe(200);
    expect(run.body.run).toMatchObject({ status: 'succeeded', output: { route: 'refund', order: 'o-9' } });
  });

  it('accepts the { workflow } wrapper too', async () => {
    const n8n = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'ai-agent.json'), 'utf8'));
    const res = await call(routes.importN8n.POST, '/api/import/n8n', { workflow: n8n });
    expect(res.status).toBe(200);
    const agent = (res.body.definition.nodes as Body[]).find((n) => n.id === 'AI_Agent')!;
    expect(agent).toMatchObject({
      type: 'llm',
      mode: 'agent',
      agent: { shadow: true, fallback: 'deterministic' },
    });
  });

  it('answers 400 naming the field when the body is not an n8n export, and 401 without auth', async () => {
    const bad = await call(routes.importN8n.POST, '/api/import/n8n', {
      nodes: [{ name: 'x' }],
      connections: {},
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    expect(bad.body.error.details.problems).toContainEqual(
      expect.objectContaining({ path: '/nodes/0/type' }),
    );
    const broken = await call(routes.importN8n.POST, '/api/import/n8n', '{"nodes": [');
    expect(broken.status).toBe(400);
    const anon = await call(routes.importN8n.POST, '/api/import/n8n', {}, {}, false);
    expect(anon.status).toBe(401);
  });
});
