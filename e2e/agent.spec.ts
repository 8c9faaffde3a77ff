import { expect, test, type Page } from '@playwright/test';
import { poster } from './fixtures/api';

// Agent mode end to end (issue 8), against the scripted OpenAI-compatible server that
// scripts/e2e.mjs starts as the app's model (lib/agent/testing/mock-llm-server.ts, through the real openai
// SDK): toggle a step to agent mode in the editor, run it, read the agent turns in the trace, fall
// back on malformed output, switch to shadow, run several times, read the promotion report through
// the API and the panel, demote. The full scenario matrix (timeouts, 429/500, injection, budget) is
// in lib/engine/agent-step.test.ts.

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
      agent: {
        instructions: 'Label the ticket as billing or other.',
        tools: ['self'],
        maxSteps: 4,
        model: 'scenario:tool-then-answer',
      },
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

test('toggle agent mode in the editor, read the agent turns, fall back, shadow, and the promotion report', async ({
  page,
  baseURL,
}) => {
  test.slow(); // eight runs with wait: true plus several pages
  const post = poster(page, baseURL);
  const origin = new URL(baseURL ?? 'http://127.0.0.1:3210').origin;
  const created = await post('/api/workflows', { definition: definition(`Agent e2e ${Date.now()}`) });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };

  // Toggle the step to agent mode in the editor and save: version 2.
  await page.goto(`/workflows/${id}`);
  await page.getByRole('group', { name: 'Label ticket', exact: true }).click();
  await page.getByRole('radio', { name: 'Agent' }).click();
  await page.keyboard.press('Control+s');
  await expect
    .poll(async () => {
      const wf = (await (await page.request.get(`/api/workflows/${id}`)).json()) as {
        version: number;
        definition: { nodes: { id: string; mode?: string }[] };
      };
      return [wf.version, wf.definition.nodes.find((n) => n.id === 'label')!.mode];
    })
    .toEqual([2, 'agent']);

  // Run: the scripted model calls the step's own tool, then answers; the trace keeps every turn.
  const ran = await post(`/api/workflows/${id}/runs`, { input: { text: 'My invoice is wrong' }, wait: true });
  expect(ran.status()).toBe(200);
  const run = (await ran.json()) as {
    run: { id: string; status: string; output: unknown };
    steps: StepRow[];
  };
  expect(run.run.status).toBe('succeeded');
  const label = run.steps.find((s) => s.nodeId === 'label')!;
  expect(label.mode).toBe('agent');
  expect(label.fallbackReason).toBeNull();
  const detail = (await (await page.request.get(`/api/runs/${run.run.id}/steps/${label.id}`)).json()) as {
    agentTurns: { kind: string; payload: Record<string, unknown> }[];
  };
  const kinds = detail.agentTurns.map((t) => t.kind);
  expect(kinds).toContain('request');
  expect(kinds).toContain('tool_call');
  expect(kinds).toContain('tool_result');
  expect(detail.agentTurns.at(-1)!.payload).toMatchObject({ summary: { mode: 'agent', outcome: 'ok' } });

  await page.goto(`/runs/${run.run.id}`);
  await page
    .getByRole('region', { name: 'Timeline' })
    .getByRole('button', { name: /^Label ticket attempt 1/ })
    .click();
  await expect(page.getByRole('list', { name: 'Conversation' })).toBeVisible({ timeout: 30_000 });
  await page.getByRole('radio', { name: 'Raw JSON' }).click();
  const turns = page.getByRole('list', { name: 'Agent turns' });
  await expect(turns).toBeVisible({ timeout: 30_000 });
  await expect(turns.getByRole('listitem')).toHaveCount(detail.agentTurns.length);

  // Malformed model output: the deterministic step runs instead and the trace says why.
  const wf = (await (await page.request.get(`/api/workflows/${id}`)).json()) as {
    definition: { nodes: { id: string; agent?: Record<string, unknown> }[] };
  };
  const broken = structuredClone(wf.definition);
  broken.nodes.find((n) => n.id === 'label')!.agent!.model = 'scenario:malformed-json';
  expect(
    (
      await page.request.put(`/api/workflows/${id}`, { data: { definition: broken }, headers: { origin } })
    ).ok(),
  ).toBe(true);
  const fell = (await (
    await post(`/api/workflows/${id}/runs`, { input: { text: 'Please fix my bill' }, wait: true })
  ).json()) as { run: { id: string; output: unknown }; steps: StepRow[] };
  expect(fell.run.output).toEqual({ label: 'billing' });
  const fellStep = fell.steps.find((s) => s.nodeId === 'label')!;
  expect(fellStep.mode).toBe('fallback');
  expect(fellStep.fallbackReason).toBe('invalid_output');
  await page.goto(`/runs/${fell.run.id}`);
  await page
    .getByRole('region', { name: 'Timeline' })
    .getByRole('button', { name: /^Label ticket attempt 1/ })
    .click();
  await expect(
    page.getByRole('region', { name: 'Step Label ticket' }).getByRole('note', { name: 'Fallback reason' }),
  ).toContainText('invalid_output', { timeout: 30_000 });

  // Back to the answering scenario, in shadow: the deterministic output is used each time and the
  // agent's is stored beside it.
  broken.nodes.find((n) => n.id === 'label')!.agent!.model = 'scenario:tool-then-answer';
  expect(
    (
      await page.request.put(`/api/workflows/${id}`, { data: { definition: broken }, headers: { origin } })
    ).ok(),
  ).toBe(true);
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
  expect(step.count).toBe(SHADOW_RUNS + 2);
  expect(step.byMode).toEqual({ agent: 1, shadow: SHADOW_RUNS, fallback: 1 });
  expect(step.current).toEqual({ mode: 'agent', shadow: true });
  expect(step.agreement.compared).toBe(SHADOW_RUNS);
  // The scripted model never answers { label: 'other' }: no agreement, so the report says demote.
  expect(step.agreement.exactMatchRate).toBe(0);
  // Rates over every recorded step: one fallback out of SHADOW_RUNS + 2.
  expect(Object.keys(step.fallback.byReason)).toEqual(['invalid_output']);
  expect(step.fallback.byReason.invalid_output).toBeCloseTo(1 / (SHADOW_RUNS + 2), 3);
  expect(step.fallback.rate).toBeCloseTo(1 / (SHADOW_RUNS + 2), 3);
  expect(step.recommendation.action).toBe('demote');

  const bad = await post(`/api/workflows/${id}/promotion`, { nodeId: 'start', action: 'promote' });
  expect(bad.status()).toBe(422);
  const missing = await post(`/api/workflows/${id}/promotion`, { nodeId: 'label', action: 'launch' });
  expect(missing.status()).toBe(400);

  // The panel in the editor: select the step, read the report, demote with its button.
  await page.goto(`/workflows/${id}`);
  await page.getByRole('group', { name: 'Label ticket', exact: true }).click();
  // The report sits in the step's own Promotion tab (issue 20 §7).
  await page.getByRole('tablist', { name: 'Inspector' }).getByRole('tab', { name: 'Promotion' }).click();
  const panel = page.getByRole('region', { name: 'Promotion report' });
  await expect(panel).toBeVisible();
  await expect(
    panel.getByRole('definition').filter({ hasText: `${SHADOW_RUNS + 2} (agent 1, shadow ${SHADOW_RUNS}` }),
  ).toBeVisible();
  await expect(panel).toContainText('invalid_output');
  await expect(panel.getByRole('button', { name: 'Shadow' })).toHaveAttribute('aria-pressed', 'true');
  await panel.getByRole('button', { name: 'Demote' }).click();
  await expect(panel.getByText('Saved version 6')).toBeVisible();
  await expect(panel.getByRole('button', { name: 'Demote' })).toHaveAttribute('aria-pressed', 'true');
  const latest = (await (await page.request.get(`/api/workflows/${id}`)).json()) as {
    version: number;
    definition: { nodes: { id: string; mode?: string }[] };
  };
  expect(latest.version).toBe(6);
  expect(latest.definition.nodes.find((n) => n.id === 'label')!.mode).toBe('workflow');
});

test('settings show the model endpoint status and edit the price table', async ({ page }) => {
  await page.goto('/settings');
  // scripts/e2e.mjs points the app at the scripted model server.
  await expect(page.getByRole('status', { name: 'Model status' })).toHaveText('Configured');
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
