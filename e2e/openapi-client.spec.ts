import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, request as playwrightRequest, test } from '@playwright/test';
import openapiTS, { astToString } from 'openapi-typescript';

// A typed client generated from the running server's OpenAPI document (openapi-typescript types
// + openapi-fetch) drives create workflow → run → read trace. The client program is type-checked
// with tsc first, and a deliberately wrong call must fail that check: the types are real.

const DIR = path.resolve('test-results/openapi-client');

const CLIENT = `import createClient from 'openapi-fetch';
import type { paths } from './api.js';

const client = createClient<paths>({
  baseUrl: process.env.BASE_URL!,
  headers: { authorization: \`Bearer \${process.env.TOKEN}\` },
});

const created = await client.POST('/api/workflows', {
  body: {
    name: 'From the generated client',
    definition: {
      schemaVersion: 1,
      name: 'From the generated client',
      nodes: [
        { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
        { id: 'double', type: 'transform', position: { x: 0, y: 100 }, config: { value: '{{ input.n * 2 }}' } },
        { id: 'out', type: 'output', position: { x: 0, y: 200 }, config: { value: '{{ steps.double.output }}' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'double' },
        { id: 'e2', source: 'double', target: 'out' },
      ],
    },
  },
});
if (!created.data) throw new Error('create failed: ' + JSON.stringify(created.error));
const workflowId: string = created.data.id;

const started = await client.POST('/api/workflows/{id}/runs', {
  params: { path: { id: workflowId } },
  body: { input: { n: 21 }, wait: true },
});
if (!started.data) throw new Error('run failed: ' + JSON.stringify(started.error));
const runId: string = 'run' in started.data ? started.data.run.id : started.data.runId;

const trace = await client.GET('/api/runs/{id}', { params: { path: { id: runId } } });
if (!trace.data) throw new Error('trace failed: ' + JSON.stringify(trace.error));
const missing = await client.GET('/api/runs/{id}', { params: { path: { id: 'no-such-run' } } });

console.log(
  JSON.stringify({
    workflowId,
    runId,
    status: trace.data.run.status,
    output: trace.data.run.output,
    steps: trace.data.steps.map((s) => \`\${s.nodeId}:\${s.status}\`),
    notFound: { status: missing.response.status, code: missing.error?.error.code },
  }),
);
`;

// A call the document does not allow: wrong path parameter name and a body field of the wrong type.
const WRONG = `import createClient from 'openapi-fetch';
import type { paths } from './api.js';
const client = createClient<paths>({ baseUrl: 'http://127.0.0.1' });
await client.POST('/api/workflows/{id}/runs', { params: { path: { workflowId: 'x' } }, body: { wait: 'yes' } });
`;

const tsc = (file: string) =>
  spawnSync(
    'npx',
    [
      'tsc',
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      file,
    ],
    { cwd: DIR, encoding: 'utf8' },
  );

test('a client generated from /api/openapi.json creates a workflow, runs it and reads its trace', async ({
  request,
  baseURL,
}) => {
  test.setTimeout(180_000);
  // The document is public: fetched without the session.
  const anonymous = await playwrightRequest.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
  });
  const docRes = await anonymous.get('/api/openapi.json');
  expect(docRes.status()).toBe(200);
  const doc = await docRes.json();
  const page = await anonymous.get('/api/docs');
  expect(page.status()).toBe(200);
  expect(await page.text()).toContain('/api/workflows/{id}/runs');
  await anonymous.dispose();

  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { recursive: true });
  fs.writeFileSync(path.join(DIR, 'api.d.ts'), astToString(await openapiTS(doc)));
  fs.writeFileSync(path.join(DIR, 'client.ts'), CLIENT);
  fs.writeFileSync(path.join(DIR, 'wrong.ts'), WRONG);

  const ok = tsc('client.ts');
  expect(ok.status, ok.stdout + ok.stderr).toBe(0);
  const wrong = tsc('wrong.ts');
  expect(wrong.status).not.toBe(0);
  expect(wrong.stdout).toMatch(/workflowId|wait/);

  const tokenRes = await request.post('/api/tokens', { data: { name: 'openapi-client' } });
  expect(tokenRes.status()).toBe(201);
  const { token } = (await tokenRes.json()) as { token: string };
  const out = execFileSync('npx', ['tsx', 'client.ts'], {
    cwd: DIR,
    encoding: 'utf8',
    env: { ...process.env, BASE_URL: baseURL, TOKEN: token },
  });
  const result = JSON.parse(out.trim().split('\n').pop()!);
  expect(result.status).toBe('succeeded');
  expect(result.output).toBe(42);
  expect(result.steps).toEqual(['start:succeeded', 'double:succeeded', 'out:succeeded']);
  expect(result.notFound).toEqual({ status: 404, code: 'not_found' });
});
