import { expect, test, type Page } from '@playwright/test';
import { apiOk, createOneStepWorkflow } from './fixtures/api';
import { shadowLabelStep } from './fixtures/steps';

// The Promotion tab (issue 16 §6, issue 20 §7) against the real server and the scripted model
// server scripts/e2e.mjs starts: a step in shadow with evidence; the tab shows its stage, live gate
// numbers and log; gates are edited; advancing against the gates asks first; the kill switch
// demotes the step and the canvas marks it; a node the server has not saved says what to do.

const unique = (p: string) => `${p} ${Date.now().toString(36)}`;
const card = (page: Page, name: string) => page.getByRole('group', { name, exact: true });
const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: false });

test('Promotion tab: stage, live numbers, gates, a confirmed advance, kill switch, log', async ({
  page,
  baseURL,
}) => {
  const name = unique('Rollout');
  const id = await createOneStepWorkflow(
    page,
    baseURL!,
    name,
    shadowLabelStep({ value: { label: "{{ /invoice/i.test(input.text) ? 'billing' : 'other' }}" } }),
  );
  await apiOk(
    page,
    baseURL!,
    `/api/workflows/${id}/rollout`,
    { nodeId: 'label', gates: { minSample: 3, window: 5 } },
    'PUT',
  );
  for (let i = 0; i < 3; i++)
    await apiOk(page, baseURL!, `/api/workflows/${id}/runs`, { input: { text: `invoice ${i}` }, wait: true });

  await page.goto(`/workflows/${id}`);
  await card(page, 'Label ticket').click();
  const tabs = page.getByRole('tablist', { name: 'Inspector' });
  await tabs.getByRole('tab', { name: 'Promotion' }).click();
  await expect(tabs.getByRole('tab', { name: 'Promotion' })).toHaveAttribute('aria-selected', 'true');
  const tab = page.getByRole('region', { name: 'Promotion', exact: true });
  const stages = tab.getByRole('list', { name: 'Rollout stages' });
  await expect(stages.getByRole('listitem').filter({ hasText: 'shadow' })).toHaveAttribute(
    'aria-current',
    'step',
  );
  const verdict = tab.getByRole('table', { name: 'Gate verdict' });
  await expect(verdict.getByRole('row', { name: /Sample/ })).toContainText('3 ≥ 3');
  // The live numbers: which arm served the window's steps (the report below also says "shadow 3").
  await expect(tab.getByText('agent 0 · fell back 0 · shadow 3')).toBeVisible();
  await expect(tab.getByRole('region', { name: 'Promotion report' })).toBeVisible();
  await shot(page, 'promotion-tab');

  // A gate nobody can pass yet: agreement 100% with a p95 latency of 0 ms.
  const gates = tab.getByRole('form', { name: 'Gates' });
  await gates.getByLabel(/p95 latency at most/).fill('0');
  await gates.getByRole('button', { name: 'Save gates' }).click();
  await expect(tab.getByRole('status').filter({ hasText: 'Gates saved: saved version' })).toBeVisible();
  await expect(verdict.getByRole('row', { name: /p95 latency/ })).toContainText('fail');

  // Advancing against the gates asks first; cancelling changes nothing.
  await tab.getByRole('button', { name: 'Advance to canary 10%' }).click();
  const confirm = page.getByRole('dialog', { name: 'Move to canary 10% although the gates do not pass?' });
  await expect(confirm).toContainText('p95 latency');
  await shot(page, 'promotion-confirm');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(stages.getByRole('listitem').filter({ hasText: 'shadow' })).toHaveAttribute(
    'aria-current',
    'step',
  );
  await tab.getByRole('button', { name: 'Advance to canary 10%' }).click();
  await confirm.getByRole('button', { name: 'Move anyway' }).click();
  await expect(stages.getByRole('listitem').filter({ hasText: 'canary 10%' })).toHaveAttribute(
    'aria-current',
    'step',
  );
  // The canvas shows the stage the server saved.
  await expect(card(page, 'Label ticket')).toContainText('canary 10%');

  // Kill switch: every agent step back to workflow, marked on the canvas, logged.
  await tab.getByRole('button', { name: 'Kill switch' }).click();
  await page
    .getByRole('dialog', { name: 'Demote every agent step of this workflow?' })
    .getByRole('button', { name: 'Demote all' })
    .click();
  await expect(
    tab.getByRole('status').filter({ hasText: 'Kill switch: 1 step(s) back to workflow' }),
  ).toBeVisible();
  await expect(stages.getByRole('listitem').filter({ hasText: 'workflow' })).toHaveAttribute(
    'aria-current',
    'step',
  );
  await expect(
    card(page, 'Label ticket').getByRole('img', { name: /Rolled back from canary 10%/ }),
  ).toBeVisible();
  const log = tab.getByRole('list', { name: 'Rollout log' });
  await expect(log.getByRole('listitem').first()).toContainText('Kill switch');
  await expect(log.getByRole('listitem').nth(1)).toContainText('Stage change: shadow → canary 10%');
  await expect(log.getByRole('listitem').nth(1)).toContainText('against the gates');
  await shot(page, 'promotion-killed');
  // The tab's versions became the editor's own: nothing unsaved, the version it wrote, and a save
  // afterwards is not refused as a conflict (v1 created, v2 gates via API, then gates, canary, kill).
  await expect(page.getByText('All changes saved')).toBeVisible();
  await expect(page.getByTitle('Saved version')).toHaveText('v5');
  await page.getByLabel('Workflow name').fill(`${name} edited`);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Saved version 6')).toBeVisible();
  const latest = (await (await page.request.get(`${baseURL}/api/workflows/${id}`)).json()) as {
    definition: { nodes: { id: string; mode?: string }[] };
  };
  expect(latest.definition.nodes.find((n) => n.id === 'label')!.mode).toBe('workflow');
});

test('an unsaved step says "save and run to collect evidence", not an error', async ({ page, baseURL }) => {
  const name = unique('Unsaved');
  const created = await apiOk(page, baseURL!, '/api/workflows', {
    name,
    definition: {
      schemaVersion: 1,
      name,
      nodes: [{ id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, config: {} }],
      edges: [],
    },
  });
  await page.goto(`/workflows/${created.id as string}`);
  await card(page, 'Start').click();
  await page.getByRole('button', { name: 'Add Transform', exact: true }).click();
  await card(page, 'transform').click();
  await page.getByRole('tablist', { name: 'Inspector' }).getByRole('tab', { name: 'Promotion' }).click();
  const tab = page.getByRole('region', { name: 'Promotion', exact: true });
  await expect(tab.getByRole('status')).toHaveText(/Save and run to collect evidence/);
  await expect(tab.getByRole('alert')).toHaveCount(0);
});

test('a browser step (its effects cannot happen twice) is offered workflow → agent only, no shadow', async ({
  page,
  baseURL,
}) => {
  const id = await createOneStepWorkflow(page, baseURL!, unique('Browser stages'), {
    id: 'shop',
    type: 'browser',
    name: 'Buy a mug',
    config: {
      startUrl: 'https://shop.example/product',
      allowHosts: ['shop.example'],
      actions: [{ type: 'click', target: { role: 'button', name: 'Add to cart' } }],
    },
  });
  await page.goto(`/workflows/${id}`);
  await card(page, 'Buy a mug').click();
  const tabs = page.getByRole('tablist', { name: 'Inspector' });
  await tabs.getByRole('tab', { name: 'Promotion' }).click();
  const tab = page.getByRole('region', { name: 'Promotion', exact: true });
  await expect(tab.getByRole('list', { name: 'Rollout stages' }).getByRole('listitem')).toHaveText([
    'workflow',
    'agent',
  ]);
  await expect(tab.getByRole('button', { name: 'Advance to agent' })).toBeVisible();
  await expect(tab.getByRole('button', { name: /shadow/i })).toHaveCount(0);
  await shot(page, 'promotion-browser-stages');
  // The API refuses shadow with its own code, whatever a client offers.
  const res = await page.request.put(`${baseURL}/api/workflows/${id}/rollout`, {
    data: { nodeId: 'shop', stage: 'shadow' },
    headers: { origin: new URL(baseURL!).origin },
  });
  expect(res.status()).toBe(422);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('stage_not_supported');
  // The step's own config offers agent mode without a shadow switch.
  await tabs.getByRole('tab', { name: 'Settings' }).click();
  await page
    .getByRole('radiogroup', { name: 'Execution mode' })
    .getByRole('radio', { name: 'Agent' })
    .click();
  await expect(page.getByLabel('Instructions').first()).toBeVisible();
  await expect(page.getByRole('checkbox', { name: /Shadow mode/ })).toHaveCount(0);
});
