import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toDslError } from '@/cli/sw-run';
import { loadScenarios, startScenarioServer, type Scenario } from '@/lib/import/testing/sw-scenarios';
import { shutdownJq } from '@/lib/sandbox/jq';
import { loadRoute, useEmbeddedRuntime, type Handler } from './testing/route-harness';

// The conformance scenarios through the HTTP API as Next.js calls it: import the YAML, save the
// definition, run it with wait: true on the embedded database, and read the output or the error.

const { call: request } = useEmbeddedRuntime('sw-routes', { env: { TRELLIS_HTTP_ALLOW_PRIVATE: 'true' } });
let routes: Record<'importSw' | 'workflows' | 'runs', Record<string, Handler>>;
let server: Awaited<ReturnType<typeof startScenarioServer>>;
let scenarios: Scenario[] = [];

beforeAll(async () => {
  server = await startScenarioServer();
  scenarios = loadScenarios(server.base);
  routes = {
    importSw: await loadRoute('import/serverless-workflow'),
    workflows: await loadRoute('workflows'),
    runs: await loadRoute('workflows/[id]/runs'),
  };
});

afterAll(async () => {
  await server?.close();
  await shutdownJq();
});

const call = (h: Handler, path: string, body: unknown, params: Record<string, string> = {}) =>
  request(h, 'POST', path, body, params);

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
