import { expect, test } from '@playwright/test';
import { createWorkflow, shot, unique, type Def } from './fixtures/editor';
import { signIn } from './fixtures/sign-in';

// Issue 20 item 8: agent traces read like a conversation. One run against the scripted model
// (scripts/e2e.mjs starts it): an agent step that calls its tool, a shadow condition whose branch
// is compared, a shadow transform with a long answer, and a step that falls back.

test.skip(process.env.E2E_MOCK_API === '1', 'needs the real API');
test.beforeEach(async ({ page, baseURL }) => signIn(page, baseURL!));

const agent = (model: string, shadow = false) => ({
  instructions: 'Answer for this step.',
  tools: ['self'],
  maxSteps: 4,
  model,
  shadow,
});
const long = 'x'.repeat(400);
const flow: Def = {
  nodes: [
    { id: 'start', name: 'Start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    {
      id: 'label',
      name: 'Label ticket',
      type: 'transform',
      position: { x: 0, y: 140 },
      config: { value: { label: 'other' } },
      mode: 'agent',
      agent: agent('scenario:tool-then-answer'),
    },
    {
      id: 'gate',
      name: 'Urgent?',
      type: 'condition',
      position: { x: 0, y: 280 },
      config: { expression: 'false' },
      mode: 'agent',
      agent: agent('scenario:echo', true),
    },
    {
      id: 'wide',
      name: 'Wide',
      type: 'transform',
      position: { x: 260, y: 420 },
      config: { value: { text: long } },
      mode: 'agent',
      agent: agent('scenario:echo', true),
    },
    {
      id: 'broken',
      name: 'Broken agent',
      type: 'transform',
      position: { x: 0, y: 560 },
      config: { value: { ok: true } },
      mode: 'agent',
      agent: agent('scenario:malformed-json'),
    },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'label' },
    { id: 'e2', source: 'label', target: 'gate' },
    { id: 'e3', source: 'gate', sourceHandle: 'false', target: 'wide' },
    { id: 'e4', source: 'wide', target: 'broken' },
  ],
};

test('agent traces read like a conversation; shadow branches compared; fell back ≠ agent', async ({
  page,
  baseURL,
}) => {
  const id = await createWorkflow(page, baseURL!, unique('Agent trace'), flow);
  const res = await page.request.post(`${baseURL}/api/workflows/${id}/runs`, {
    data: { input: { text: 'My invoice is wrong' }, wait: true },
    headers: { origin: new URL(baseURL!).origin },
  });
  expect(res.ok(), await res.text()).toBe(true);
  const runId = ((await res.json()) as { run: { id: string } }).run.id;
  await page.goto(`/runs/${runId}`);
  const timeline = page.getByRole('region', { name: 'Timeline' });

  // The conversation: system and user, the assistant asking for its tool, the tool's two sides.
  await timeline.getByRole('button', { name: /^Label ticket attempt 1/ }).click();
  const chat = page.getByRole('list', { name: 'Conversation' });
  await expect(chat.getByRole('listitem', { name: 'System' })).toContainText('Answer for this step.');
  await expect(chat.getByRole('listitem', { name: 'User' }).first()).toBeVisible();
  await expect(chat.getByRole('listitem', { name: /^Assistant: calls / })).toBeVisible();
  await expect(chat.getByRole('listitem', { name: /^Tool: .* → result$/ })).toBeVisible();
  const system = chat.getByRole('listitem', { name: 'System' });
  const raw = system.getByRole('button', { name: /^Raw JSON of turn / });
  await raw.click();
  await expect(raw).toHaveAttribute('aria-pressed', 'true');
  await expect(system.getByRole('group', { name: /^Turn \d+ payload$/ })).toContainText('messages');
  await shot(page, 'agent-conversation');
  await page.getByRole('radio', { name: 'Raw JSON' }).click();
  await expect(page.getByRole('list', { name: 'Agent turns' })).toBeVisible();

  // A shadow condition compares the branch each side chose, not the (identical) pass-through data.
  await timeline.getByRole('button', { name: /^Urgent\? attempt 1/ }).click();
  const cmp = page.getByLabel('Branch comparison');
  await expect(cmp).toContainText('Deterministic branch');
  await expect(cmp.getByRole('definition').first()).toHaveText('false');
  await expect(cmp.getByRole('definition').nth(1)).toHaveText(/^(true|false)$/);
  await expect(page.getByRole('status').filter({ hasText: /(Same|Different) branch/ })).toBeVisible();
  await shot(page, 'shadow-branch');

  // A long shadow answer wraps inside the inspector instead of widening it.
  await timeline.getByRole('button', { name: /^Wide attempt 1/ }).click();
  const shadowBox = page.getByRole('region', { name: 'Shadow comparison' });
  await expect(shadowBox).toContainText('xxxx');
  expect(await shadowBox.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
  await shot(page, 'shadow-wrap');

  // "Fell back" and "Agent" differ by colour and by icon.
  const legend = page.getByRole('list', { name: 'Legend' });
  const fell = legend
    .getByRole('listitem')
    .filter({ hasText: 'Fell back' })
    .locator('svg[data-icon="fallback"]');
  const ag = legend.getByRole('listitem').filter({ hasText: 'Agent' }).locator('svg[data-icon="agent"]');
  await expect(fell).toBeVisible();
  await expect(ag).toBeVisible();
  const colour = (l: typeof fell) => l.evaluate((el) => getComputedStyle(el).color);
  expect(await colour(fell)).not.toBe(await colour(ag));
  await timeline.getByRole('button', { name: /^Broken agent attempt 1/ }).click();
  await expect(
    page.getByRole('note', { name: 'Fallback reason' }).locator('svg[data-icon="fallback"]'),
  ).toBeVisible();
  await shot(page, 'fell-back');
});
