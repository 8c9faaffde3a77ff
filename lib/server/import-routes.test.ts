import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '@/lib/db/testing/databases';

// POST /api/import/n8n as Next.js calls it, on the process runtime with a fresh embedded
// database: import → save → run → the output the n8n workflow would compute.

const TOKEN = 'test-token-import-routes';
const tmp = tempDataDir('trellis-import-routes-');
const saved = { ...process.env };
const FIXTURES = path.join(import.meta.dirname, '..', 'import', 'fixtures', 'n8n');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;
type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
let routes: { importN8n: { POST: Handler }; workflows: { POST: Handler }; runs: { POST: Handler } };

beforeAll(async () => {
  delete process.env.DATABASE_URL;
  process.env.TRELLIS_DATA_DIR = tmp.dir;
  process.env.TRELLIS_API_TOKEN = TOKEN;
  routes = {
    importN8n: await import('@/app/api/import/n8n/route'),
    workflows: await import('@/app/api/workflows/route'),
    runs: await import('@/app/api/workflows/[id]/runs/route'),
  } as unknown as typeof routes;
  await (await import('./runtime')).getRuntime();
});

afterAll(async () => {
  const { getRuntime } = await import('./runtime');
  const rt = await getRuntime().catch(() => null);
  await rt?.store.close().catch(() => {});
  await rt?.db.close().catch(() => {});
  process.env = saved;
  tmp.remove();
});

async function call(
  h: Handler,
  path: string,
  body: unknown,
  params: Record<string, string> = {},
  auth = true,
) {
  const req = new Request(`http://127.0.0.1${path}`, {
    method: 'POST',
    headers: { ...(auth ? { authorization: `Bearer ${TOKEN}` } : {}), 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const res = await h(req, { params: Promise.resolve(params) });
  return { status: res.status, body: (await res.json()) as Body };
}

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
