import { expect, test, type Page } from '@playwright/test';

// Agent mode end to end (issue 8). The e2e server runs WITHOUT OPENAI_* env, so this spec walks
// the no_model_configured path through the API and the UI: promote a step, run, read the fallback
// reason in the trace, switch to shadow, run several times, read the promotion report through the
// API and the promotion panel. The real-model path (the openai SDK against the scripted server:
// tool use, invalid output, timeouts, 429/500, injection, shadow, budget) is covered by the Vitest
// scenario tests in lib/engine/agent-step.test.ts, which start the mock LLM on 127.0.0.1.

const E2E_EMAIL = process.env.E2E_EMAIL ?? 'e2e@trellis.test';
const E2E_PASSWORD = process.env.E2E_PASSWORD ?? 'e2e-password-trellis';
const SHADOW_RUNS = 5;

async function signIn(page: Page, baseURL: string | undefined) {
  if (process.env.TRELLIS_API_TOKEN) {
    await page.context().setExtraHTTPHeaders({ authorization: `Bearer ${process.env.TRELLIS_API_TOKEN}` });
    return;
  }
  const me = await page.request.get('/api/auth/me');
  if (me.ok()) return;
  const body = (await me.json().catch(() => ({}))) as { setupRequired?: boolean };
  const origin = new URL(baseURL ?? 'http://127.0.0.1:3210').origin;
  const creds = { data: { email: E2E_EMAIL, password: E2E_PASSWORD }, headers: { origin } };
  const res = body.setupRequired
    ? await page.request.post('/api/auth/setup', creds)
    : await page.request.post('/api/auth/login', creds);
  expect(res.ok(), `sign in as ${E2E_EMAIL}: ${res.status()} ${await res.text()}`).toBe(true);
}

function poster(page: Page, baseURL: string | undefined) {
  const origin = new URL(baseURL ?? 'http://127.0.0.1:3210').origin;
  return (path: string, data: unknown) => page.request.post(path, { data, headers: { origin } });
}

const definition = (name: string) => ({
  schemaVersion: 1,
  name,
  nodes: [
    { id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, config: {} },
    {
      id: 'label',
      type: 'transform',
      name: 'Label ticket',
      position: { x: 0, y: 140 },
      config: { value: { label: "{{ /invoice|bill/i.test(input.text) ? 'billing' : 'other' }}" } },
      agent: { instructions: 'Label the ticket as billing or other.', tools: ['self'], maxSteps: 4 },
    },
    {
      id: 'out',
      type: 'output',
      name: 'Result',
      position: { x: 0, y: 280 },
      config: { value: '{{ steps.label.output }}' },
    },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'label' },
    { id: 'e2', source: 'label', target: 'out' },
  ],
});

interface StepRow {
  id: string;
  nodeId: string;
  mode: string;
  fallbackReason: string | null;
}

test.beforeEach(async ({ page, baseURL }) => {
  await signIn(page, baseURL);
});

test('promote, fall back without a model, shadow, and read the promotion report', async ({
  page,
  baseURL,
}) => {
  test.slow(); // seven runs with wait: true plus three pages
  const post = poster(page, baseURL);
  const created = await post('/api/workflows', { definition: definition(`Agent e2e ${Date.now()}`) });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };

  // Promote the step: a new version with mode agent.
  const promoted = await post(`/api/workflows/${id}/promotion`, { nodeId: 'label', action: 'promote' });
  expect(promoted.status()).toBe(200);
  const p = (await promoted.json()) as {
    version: number;
    node: { mode: string; agent: { shadow: boolean } };
  };
  expect(p.version).toBe(2);
  expect(p.node.mode).toBe('agent');
  expect(p.node.agent.shadow).toBe(false);

  // Run: no model configured → the deterministic step runs, the trace says why.
  const ran = await post(`/api/workflows/${id}/runs`, { input: { text: 'My invoice is wrong' }, wait: true });
  expect(ran.status()).toBe(200);
  const run = (await ran.json()) as {
    run: { id: string; status: string; output: unknown };
    steps: StepRow[];
  };
  expect(run.run.status).toBe('succeeded');
  expect(run.run.output).toEqual({ label: 'billing' });
  const label = run.steps.find((s) => s.nodeId === 'label')!;
  expect(label.mode).toBe('fallback');
  expect(label.fallbackReason).toBe('no_model_configured');
  const detail = await page.request.get(`/api/runs/${run.run.id}/steps/${label.id}`);
  expect(detail.ok()).toBe(true);
  const d = (await detail.json()) as {
    step: { fallbackReason: string; output: unknown };
    agentTurns: { kind: string; payload: Record<string, unknown> }[];
  };
  expect(d.step.fallbackReason).toBe('no_model_configured');
  expect(d.agentTurns.some((t) => t.kind === 'note' && t.payload.fallback === 'no_model_configured')).toBe(
    true,
  );
  expect(d.agentTurns.at(-1)!.payload).toMatchObject({
    summary: { mode: 'fallback', reason: 'no_model_configured' },
  });

  // The same in the run trace UI.
  await page.goto(`/runs/${run.run.id}`);
  await page
    .getByRole('region', { name: 'Timeline' })
    .getByRole('button', { name: /^Label ticket attempt 1/ })
    .click();
  const inspector = page.getByRole('region', { name: 'Step Label ticket' });
  await expect(inspector.getByRole('note', { name: 'Fallback reason' })).toContainText(
    'no_model_configured',
    {
      timeout: 30_000,
    },
  );

  // Switch to shadow and run several times: the deterministic output is used each time.
  const shadowed = await post(`/api/workflows/${id}/promotion`, { nodeId: 'label', action: 'shadow' });
  expect(((await shadowed.json()) as { node: { agent: { shadow: boolean } } }).node.agent.shadow).toBe(true);
  for (let i = 0; i < SHADOW_RUNS; i++) {
    const r = await post(`/api/workflows/${id}/runs`, { input: { text: `ticket ${i}` }, wait: true });
    const body = (await r.json()) as { run: { status: string; output: unknown }; steps: StepRow[] };
    expect(body.run.status).toBe('succeeded');
    expect(body.run.output).toEqual({ label: 'other' });
    expect(body.steps.find((s) => s.nodeId === 'label')!.mode).toBe('shadow');
  }

  // The report over those runs.
  const rep = await page.request.get(`/api/workflows/${id}/promotion?nodeId=label&limit=20`);
  expect(rep.ok()).toBe(true);
  const report = (await rep.json()) as {
    steps: {
      nodeId: string;
      count: number;
      byMode: Record<string, number>;
      current: { mode: string; shadow: boolean };
      agreement: { compared: number; exactMatchRate: number | null };
      fallback: { rate: number; byReason: Record<string, number> };
      recommendation: { action: string };
    }[];
  };
  const step = report.steps[0];
  expect(step.nodeId).toBe('label');
  expect(step.count).toBe(SHADOW_RUNS + 1);
  expect(step.byMode).toEqual({ agent: 0, shadow: SHADOW_RUNS, fallback: 1 });
  expect(step.current).toEqual({ mode: 'agent', shadow: true });
  expect(step.agreement).toMatchObject({ compared: 0, exactMatchRate: null });
  expect(step.fallback).toEqual({ rate: 1, byReason: { no_model_configured: 1 } });
  expect(step.recommendation.action).toBe('collect_more');

  const bad = await post(`/api/workflows/${id}/promotion`, { nodeId: 'start', action: 'promote' });
  expect(bad.status()).toBe(422);
  const missing = await post(`/api/workflows/${id}/promotion`, { nodeId: 'label', action: 'launch' });
  expect(missing.status()).toBe(400);

  // The panel in the editor: select the step, read the report, demote with its button.
  await page.goto(`/workflows/${id}`);
  await page.getByRole('group', { name: 'Label ticket', exact: true }).click();
  const panel = page.getByRole('region', { name: 'Promotion report' });
  await expect(panel).toBeVisible();
  await expect(panel.getByRole('status', { name: 'Recommendation' })).toContainText('Collect more runs');
  await expect(
    panel.getByRole('definition').filter({ hasText: `${SHADOW_RUNS + 1} (agent 0, shadow ${SHADOW_RUNS}` }),
  ).toBeVisible();
  await expect(panel).toContainText('no_model_configured');
  await expect(panel.getByRole('button', { name: 'Shadow' })).toHaveAttribute('aria-pressed', 'true');
  await panel.getByRole('button', { name: 'Demote' }).click();
  await expect(panel.getByText('Saved version 4')).toBeVisible();
  await expect(panel.getByRole('button', { name: 'Demote' })).toHaveAttribute('aria-pressed', 'true');
  const latest = (await (await page.request.get(`/api/workflows/${id}`)).json()) as {
    version: number;
    definition: { nodes: { id: string; mode?: string }[] };
  };
  expect(latest.version).toBe(4);
  expect(latest.definition.nodes.find((n) => n.id === 'label')!.mode).toBe('workflow');
});

test('settings show the model endpoint status and edit the price table', async ({ page }) => {
  await page.goto('/settings');
  await expect(page.getByRole('status', { name: 'Model status' })).toHaveText('Not configured');
  const table = page.getByRole('table', { name: 'Model price table' });
  await expect(table.getByRole('textbox', { name: 'Model name' }).first()).toBeVisible();
  await page.getByRole('button', { name: 'Add model' }).click();
  await table.getByRole('textbox', { name: 'Model name' }).last().fill('e2e-model');
  await table.getByRole('textbox', { name: 'Input price of e2e-model' }).fill('3');
  await table.getByRole('textbox', { name: 'Output price of e2e-model' }).fill('9');
  await page.getByRole('button', { name: 'Save prices' }).click();
  await expect(page.getByText('Prices saved')).toBeVisible();
  const saved = (await (await page.request.get('/api/settings/model-prices')).json()) as {
    prices: Record<string, { inputPerMTok: number; outputPerMTok: number }>;
    isDefault: boolean;
  };
  expect(saved.isDefault).toBe(false);
  expect(saved.prices['e2e-model']).toEqual({ inputPerMTok: 3, outputPerMTok: 9 });
  await page.getByRole('button', { name: 'Restore defaults' }).click();
  await expect(page.getByText('Built-in prices restored')).toBeVisible();
  await expect(table.getByRole('textbox', { name: 'Model name' }).last()).not.toHaveValue('e2e-model');
});
