import { expect, test } from '@playwright/test';
import { signIn } from './fixtures/sign-in';
import { poster } from './fixtures/api';

// The traces UI against the real API: a workflow whose HTTP step fails once (the demo flaky
// endpoint answers 503, then 200) and is retried; read the run from the list, its waterfall,
// the step output, rerun from a node and compare both runs.

test.beforeEach(async ({ page, baseURL }) => {
  await signIn(page, baseURL ?? 'http://127.0.0.1:3210');
});

function flakyBase(baseURL: string | undefined): string {
  const u = new URL(baseURL ?? 'http://127.0.0.1:3210');
  // The HTTP node only reaches loopback through its allowHosts entry, which names 127.0.0.1.
  u.hostname = '127.0.0.1';
  return u.origin;
}

function definition(name: string, flakyUrl: string) {
  return {
    schemaVersion: 1,
    name,
    nodes: [
      { id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'fetch',
        type: 'http.request',
        name: 'Fetch order',
        position: { x: 0, y: 130 },
        config: { method: 'GET', url: flakyUrl, allowHosts: ['127.0.0.1'] },
        retry: { maxAttempts: 3, backoffMs: 100, factor: 2 },
      },
      {
        id: 'shape',
        type: 'transform',
        name: 'Shape result',
        position: { x: 0, y: 260 },
        config: {
          value: {
            status: '{{ steps.fetch.output.status }}',
            attempt: '{{ steps.fetch.output.body.attempt }}',
          },
        },
      },
      {
        id: 'done',
        type: 'output',
        name: 'Result',
        position: { x: 0, y: 390 },
        config: { value: '{{ steps.shape.output }}' },
      },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'fetch' },
      { id: 'e2', source: 'fetch', target: 'shape' },
      { id: 'e3', source: 'shape', target: 'done' },
    ],
  };
}

test('a retried HTTP step: runs list → waterfall → output → rerun from node → compare', async ({
  page,
  baseURL,
}) => {
  const post = poster(page, baseURL);
  const key = `traces-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const name = `Flaky order ${key}`;
  const flakyUrl = `${flakyBase(baseURL)}/api/demo/flaky?key=${key}&failures=1`;

  const created = await post('/api/workflows', { name, definition: definition(name, flakyUrl) });
  expect(created.status()).toBe(201);
  const { id: workflowId } = (await created.json()) as { id: string };

  const started = await post(`/api/workflows/${workflowId}/runs`, { input: { orderId: 'A-1' }, wait: true });
  expect(started.status()).toBe(200);
  const first = (await started.json()) as {
    run: { id: string; status: string };
    steps: { nodeId: string; attempt: number; status: string }[];
  };
  expect(first.run.status).toBe('succeeded');
  expect(first.steps.filter((s) => s.nodeId === 'fetch').map((s) => s.status)).toEqual([
    'failed',
    'succeeded',
  ]);

  // Open it from the runs list, filtered to this workflow.
  await page.goto(`/runs?workflowId=${workflowId}`);
  await page.getByRole('link', { name: new RegExp(name) }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${first.run.id}$`), { timeout: 30_000 });
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();

  // The waterfall shows both attempts of the HTTP step as separate bars.
  const timeline = page.getByRole('region', { name: 'Timeline' });
  const failedBar = timeline.getByRole('button', { name: /^Fetch order attempt 1, Failed/ });
  const okBar = timeline.getByRole('button', { name: /^Fetch order attempt 2, Succeeded/ });
  await expect(failedBar).toBeVisible();
  await expect(okBar).toBeVisible();

  // The failed attempt explains itself; the second one carries the output.
  await failedBar.click();
  const inspector = page.getByRole('region', { name: 'Step Fetch order' });
  // Generous: against `next dev` the first step request compiles its route.
  await expect(inspector.getByRole('alert', { name: 'Step error' })).toContainText('503', {
    timeout: 30_000,
  });
  await expect(inspector.getByRole('region', { name: 'Attempts' })).toContainText('Attempt 2');
  await okBar.click();
  const output = inspector.getByRole('region', { name: 'Output' });
  await expect(output).toContainText('status');
  await expect(output).toContainText('200');
  await expect(output).toContainText('attempt');

  // Rerun from the HTTP step: a new run opens and finishes (the endpoint now answers at once).
  const [rerun] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/api/runs/${first.run.id}/rerun`), { timeout: 30_000 }),
    inspector.getByRole('button', { name: 'Rerun from Fetch order' }).click(),
  ]);
  expect(rerun.status()).toBe(202);
  await expect(page).not.toHaveURL(new RegExp(`/runs/${first.run.id}$`), { timeout: 30_000 });
  await expect(page).toHaveURL(/\/runs\/[^/]+$/);
  const secondId = page.url().split('/').pop()!;
  await expect(page.getByRole('region', { name: 'Run summary' }).getByText('Succeeded')).toBeVisible({
    timeout: 30_000,
  });
  await expect(
    page
      .getByRole('region', { name: 'Timeline' })
      .getByRole('button', { name: /^Fetch order attempt 1, Succeeded/ }),
  ).toBeVisible();

  // Compare the two runs, node by node.
  await page.getByRole('button', { name: 'Compare…' }).click();
  // A rerun compares with its source by default.
  const pickRun = page.getByRole('dialog', { name: 'Compare with…' });
  await expect(pickRun.getByRole('radio', { name: /rerun source/ })).toBeChecked();
  await pickRun.getByRole('button', { name: 'Compare', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/compare\\?a=${first.run.id}&b=${secondId}`));
  await expect(page.getByRole('heading', { name: 'Compare runs' })).toBeVisible();
  const nodes = page.getByRole('region', { name: 'Nodes' });
  await expect(nodes.getByRole('row', { name: /Fetch order/ })).toBeVisible();
  // The endpoint counted a third call, so the HTTP output differs between the runs.
  const fetchDiff = nodes.getByRole('button', { name: /^Output of Fetch order: \d+ difference/ });
  await expect(fetchDiff).toBeVisible({ timeout: 20_000 });
  await fetchDiff.click();
  await expect(page.getByLabel('Output diff for Fetch order')).toContainText('/body/attempt');
});

test('the runs list filters by workflow and status, with an empty state', async ({ page, baseURL }) => {
  const post = poster(page, baseURL);
  const name = `Filter check ${Date.now()}`;
  const def = {
    schemaVersion: 1,
    name,
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      { id: 'done', type: 'output', position: { x: 0, y: 120 }, config: { value: { ok: true } } },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'done' }],
  };
  const created = await post('/api/workflows', { name, definition: def });
  const { id } = (await created.json()) as { id: string };
  const run = await post(`/api/workflows/${id}/runs`, { input: {}, wait: true });
  expect(run.status()).toBe(200);

  await page.goto(`/runs?workflowId=${id}&status=failed`);
  await expect(page.getByRole('heading', { name: 'No runs match these filters' })).toBeVisible();
  await page.getByLabel('Status').selectOption('succeeded');
  await expect(page.getByRole('link', { name: new RegExp(name) })).toBeVisible();
  await expect(page.getByRole('row', { name: new RegExp(name) }).getByText('Succeeded')).toBeVisible();
  await page.getByRole('button', { name: 'Clear filters' }).first().click();
  await expect(page.getByLabel('Workflow')).toHaveValue('');
});
