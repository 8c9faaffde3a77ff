import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toDslError } from '@/cli/sw-run';
import { tempDataDir } from '@/lib/db/testing/databases';
import { loadScenarios, startScenarioServer, type Scenario } from '@/lib/import/testing/sw-scenarios';
import { shutdownJq } from '@/lib/sandbox/jq';

// The conformance scenarios through the HTTP API as Next.js calls it: import the YAML, save the
// definition, run it with wait: true on the embedded database, and read the output or the error.

const TOKEN = 'test-token-sw-routes';
const tmp = tempDataDir('trellis-sw-routes-');
const saved = { ...process.env };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;
type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
let routes: { importSw: { POST: Handler }; workflows: { POST: Handler }; runs: { POST: Handler } };
let server: Awaited<ReturnType<typeof startScenarioServer>>;
let scenarios: Scenario[] = [];

beforeAll(async () => {
  delete process.env.DATABASE_URL;
  process.env.TRELLIS_DATA_DIR = tmp.dir;
  process.env.TRELLIS_API_TOKEN = TOKEN;
  process.env.TRELLIS_HTTP_ALLOW_PRIVATE = 'true';
  server = await startScenarioServer();
  scenarios = loadScenarios(server.base);
  routes = {
    importSw: await import('@/app/api/import/serverless-workflow/route'),
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
  await server?.close();
  await shutdownJq();
  process.env = saved;
  tmp.remove();
});

async function call(h: Handler, path: string, body: unknown, params: Record<string, string> = {}) {
  const req = new Request(`http://127.0.0.1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const res = await h(req, { params: Promise.resolve(params) });
  return { status: res.status, body: (await res.json()) as Body };
}

const NAMES = loadScenarios('http://placeholder').map((s) => s.name);

describe('Serverless Workflow conformance via the API', () => {
  it.each(NAMES)('%s', async (name) => {
    const s = scenarios.find((x) => x.name === name)!;
    const imported = await call(routes.importSw.POST, '/api/import/serverless-workflow', {
      source: stringify(s.workflow),
    });
    if (imported.status !== 200) {
      // Refused at import: the error names the place in the document.
      expect(imported.status).toBe(400);
      expect(s.then.error).toBeDefined();
      expect(imported.body.error.details.problems[0].path).toBe(s.then.error!.instance);
      return;
    }
    expect(imported.body.problems).toEqual([]);
    const created = await call(routes.workflows.POST, '/api/workflows', {
      definition: imported.body.definition,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const run = await call(
      routes.runs.POST,
      `/api/workflows/${id}/runs`,
      { input: s.input, wait: true },
      { id },
    );
    expect(run.status).toBe(200);
    if (s.files) {
      // The API has no file next to the document to read: a call: openapi there is a configuration error.
      expect(imported.body.report.entries[0].status).toBe('unsupported');
      expect(toDslError(run.body.run.error)).toMatchObject({
        type: expect.stringMatching(/configuration$/),
        status: 400,
      });
      return;
    }
    if (s.then.error) {
      expect(run.body.run.status).toBe('failed');
      expect(toDslError(run.body.run.error)).toMatchObject(s.then.error);
    } else {
      expect(run.body.run.status).toBe('succeeded');
      expect(run.body.run.output).toEqual(s.then.output);
    }
  });
});
