import { expect, test, type Page } from '@playwright/test';
import { card, createWorkflow, panel, shot, unique, type Def } from './fixtures/editor';
import { signIn } from './fixtures/sign-in';

// Issue 20: the friction a new user hits in the editor, each item shown in the browser against
// the real app. Screenshots of each changed screen go to test-results/screens/ for review.

test.skip(process.env.E2E_MOCK_API === '1', 'needs the real API');

test.beforeEach(async ({ page, context, baseURL }) => {
  await signIn(page, baseURL!);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => {});
});

const hookFlow: Def = {
  nodes: [
    { id: 'hook', name: 'Incoming', type: 'trigger.webhook', position: { x: 0, y: 0 }, config: {} },
    { id: 'echo', name: 'Echo', type: 'transform', position: { x: 0, y: 160 }, config: { value: 1 } },
  ],
  edges: [{ id: 'e1', source: 'hook', target: 'echo' }],
};

test('webhooks are usable from the UI: URL, header, secret reveal/copy/rotate, curl, last request', async ({
  page,
  baseURL,
}) => {
  const id = await createWorkflow(page, baseURL!, unique('Hooked'), hookFlow);
  await page.goto(`/workflows/${id}`);
  await card(page, 'Incoming').click();
  const hook = panel(page).getByRole('region', { name: 'Webhook' });
  await expect(hook.getByLabel('Webhook URL')).toHaveText(`${new URL(baseURL!).origin}/api/hooks/${id}`);
  await expect(hook.getByLabel('Webhook header name')).toHaveText('x-trellis-webhook-secret');
  // Hidden until asked for, and not in the curl line either.
  await expect(hook.getByLabel('Webhook secret')).not.toContainText('whsec_');
  await expect(hook.getByLabel('curl command')).toContainText('$TRELLIS_WEBHOOK_SECRET');
  await expect(hook.getByText('None yet.')).toBeVisible();

  await hook.getByRole('button', { name: 'Reveal secret' }).click();
  const secret = (await hook.getByLabel('Webhook secret').textContent())!.trim();
  expect(secret).toMatch(/^whsec_/);
  await expect(hook.getByLabel('curl command')).toContainText(secret);
  await hook.getByRole('button', { name: 'Copy secret' }).click();
  await expect(hook.getByRole('status')).toHaveText('Secret copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

  // A real call with the shown secret is accepted and shows up as the last request.
  const call = (s: string) =>
    page.request.post(`${baseURL}/api/hooks/${id}`, {
      data: { order: 42 },
      headers: { 'x-trellis-webhook-secret': s },
    });
  expect((await call(secret)).status()).toBe(202);
  await hook.getByRole('button', { name: 'Refresh' }).click();
  await expect(hook.getByLabel('Last request body')).toContainText('"order": 42');
  await expect(hook.getByRole('link', { name: 'Open run' })).toBeVisible();
  await shot(page, 'webhook-panel');

  // Rotating asks first, then the old secret is refused at once and the new one works.
  await hook.getByRole('button', { name: 'Rotate secret' }).click();
  const confirm = hook.getByRole('alertdialog', { name: 'Rotate secret?' });
  await expect(confirm).toContainText('refused');
  await shot(page, 'webhook-rotate-confirm');
  await confirm.getByRole('button', { name: 'Rotate now' }).click();
  await expect(hook.getByRole('status')).toContainText('old one no longer works');
  const rotated = (await hook.getByLabel('Webhook secret').textContent())!.trim();
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(secret);
  expect((await call(secret)).status()).toBe(401);
  expect((await call(rotated)).status()).toBe(202);
});

test('a webhook trigger not saved yet says to save first', async ({ page, baseURL }) => {
  const id = await createWorkflow(page, baseURL!, unique('No hook yet'), { nodes: [], edges: [] });
  await page.goto(`/workflows/${id}`);
  await page.getByRole('button', { name: 'Add Webhook', exact: true }).click();
  await expect(
    panel(page).getByText("Save the workflow to get this webhook's URL and secret."),
  ).toBeVisible();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(panel(page).getByLabel('Webhook URL')).toContainText(`/api/hooks/${id}`);
});

const twoSteps: Def = {
  nodes: [
    { id: 'start', name: 'Start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    { id: 'wait', name: 'Wait', type: 'delay', position: { x: 0, y: 160 }, config: { ms: 1 } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'wait' }],
};

async function latestVersion(page: Page, baseURL: string, id: string) {
  const r = await page.request.get(`${baseURL}/api/workflows/${id}`);
  return ((await r.json()) as { version: number; name: string }).version;
}

test('leaving a dirty editor by a nav link or the back arrow asks Save / Discard / Cancel', async ({
  page,
  baseURL,
}) => {
  const name = unique('Guarded');
  const id = await createWorkflow(page, baseURL!, name, twoSteps);
  await page.goto(`/workflows/${id}`);
  await page.getByLabel('Workflow name').fill(`${name} renamed`);
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeVisible();

  // Cancel: nothing happens, the edit is still there.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  const ask = page.getByRole('dialog', { name: 'Unsaved changes' });
  await expect(ask).toBeVisible();
  await shot(page, 'leave-dialog');
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(ask).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`/workflows/${id}$`));
  await expect(page.getByLabel('Workflow name')).toHaveValue(`${name} renamed`);

  // Save: saved as a new version, then on to where the link pointed.
  await page.getByRole('link', { name: 'Back to workflows' }).click();
  await ask.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/workflows$/);
  expect(await latestVersion(page, baseURL!, id)).toBe(2);

  // Discard: leaves without saving.
  await page.goto(`/workflows/${id}`);
  await page.getByLabel('Workflow name').fill(`${name} thrown away`);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await ask.getByRole('button', { name: 'Discard' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  expect(await latestVersion(page, baseURL!, id)).toBe(2);
  // Nothing is offered back after an explicit discard.
  await page.goto(`/workflows/${id}`);
  await expect(page.getByLabel('Workflow name')).toHaveValue(`${name} renamed`);
  await expect(page.getByRole('region', { name: 'Unsaved draft' })).toHaveCount(0);
});

test('the browser back button on a dirty editor asks too', async ({ page, baseURL }) => {
  const id = await createWorkflow(page, baseURL!, unique('Back button'), twoSteps);
  await page.goto('/workflows');
  await page.goto(`/workflows/${id}`);
  await page.getByLabel('Workflow name').fill('edited before going back');
  await page.evaluate(() => history.back());
  const ask = page.getByRole('dialog', { name: 'Unsaved changes' });
  await expect(ask).toBeVisible();
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${id}$`));
  await expect(page.getByLabel('Workflow name')).toHaveValue('edited before going back');
  // Asked again on the next back, and Discard goes back for real.
  await page.evaluate(() => history.back());
  await ask.getByRole('button', { name: 'Discard' }).click();
  await expect(page).toHaveURL(/\/workflows$/);
});

test('a local draft survives a reload and is offered back', async ({ page, baseURL }) => {
  const id = await createWorkflow(page, baseURL!, unique('Drafty'), twoSteps);
  await page.goto(`/workflows/${id}`);
  await page.getByLabel('Workflow name').fill('work in progress');
  // The draft is written shortly after the last change.
  await expect
    .poll(() => page.evaluate((k) => localStorage.getItem(k), `trellis.draft.${id}`))
    .toContain('work in progress');
  page.on('dialog', (d) => void d.accept()); // the browser's own "leave site?" on reload
  await page.reload();
  const banner = page.getByRole('region', { name: 'Unsaved draft' });
  await expect(banner).toContainText('edited from v1');
  await expect(page.getByLabel('Workflow name')).not.toHaveValue('work in progress');
  await shot(page, 'draft-banner');
  await banner.getByRole('button', { name: 'Restore draft' }).click();
  await expect(page.getByLabel('Workflow name')).toHaveValue('work in progress');
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('All changes saved')).toBeVisible();
  await expect.poll(() => page.evaluate((k) => localStorage.getItem(k), `trellis.draft.${id}`)).toBeNull();
});

test('rerun says which version: on latest (vN) or as it ran (vM), with a hint', async ({ page, baseURL }) => {
  const origin = { origin: new URL(baseURL!).origin };
  const name = unique('Versions');
  const id = await createWorkflow(page, baseURL!, name, twoSteps);
  const started = await page.request.post(`${baseURL}/api/workflows/${id}/runs`, {
    data: { input: { n: 1 }, wait: true },
    headers: origin,
  });
  expect(started.status()).toBe(200);
  const first = ((await started.json()) as { run: { id: string } }).run.id;
  const saved = await page.request.put(`${baseURL}/api/workflows/${id}`, {
    data: { definition: { schemaVersion: 1, name, ...twoSteps, description: 'second' } },
    headers: origin,
  });
  expect(saved.ok()).toBe(true);

  await page.goto(`/runs/${first}`);
  const summary = page.getByRole('region', { name: 'Run summary' });
  await expect(summary.getByRole('button', { name: 'Rerun on latest (v2)' })).toBeVisible();
  await expect(summary.getByRole('button', { name: 'Rerun as it ran (v1)' })).toBeVisible();
  await expect(summary.getByRole('note')).toHaveText('A newer version (v2) exists; this run used v1.');
  // Rerun from a step names its version too.
  await page
    .getByRole('region', { name: 'Timeline' })
    .getByRole('button', { name: /^Wait attempt 1/ })
    .click();
  const inspector = page.getByRole('region', { name: 'Step Wait' });
  await expect(inspector.getByRole('button', { name: 'Rerun from Wait' })).toHaveText(
    /Rerun from this step as it ran \(v1\)/,
  );
  await expect(inspector.getByRole('note')).toContainText('v2 is newer');
  await expect(inspector.getByRole('note')).toContainText('so it runs v1.');
  await shot(page, 'rerun-versions');

  await summary.getByRole('button', { name: 'Rerun on latest (v2)' }).click();
  await expect(page).not.toHaveURL(new RegExp(`/runs/${first}$`), { timeout: 30_000 });
  await expect(
    page.getByRole('region', { name: 'Run summary' }).getByText('v2', { exact: true }),
  ).toBeVisible();
  // The new run is on the latest version: no "newer version" choice any more.
  await expect(page.getByRole('button', { name: 'Rerun as it ran (v2)' })).toBeVisible();
  await expect(page.getByRole('button', { name: /Rerun on latest/ })).toHaveCount(0);
});

test('adding nodes flows: beside the selected step and connected; ranked search with ↑/↓, Enter, Esc', async ({
  page,
  baseURL,
}) => {
  const id = await createWorkflow(page, baseURL!, unique('Adding'), {
    nodes: [{ id: 'start', name: 'Start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} }],
    edges: [],
  });
  await page.goto(`/workflows/${id}`);
  await card(page, 'Start').click();
  await page.getByRole('button', { name: 'Add Transform', exact: true }).click();
  await expect(card(page, 'transform')).toBeVisible();
  await expect(page.locator('.react-flow__edge')).toHaveCount(1);
  const a = (await card(page, 'Start').boundingBox())!;
  const b = (await card(page, 'transform').boundingBox())!;
  // Below the selected step, not on top of it.
  expect(b.y).toBeGreaterThan(a.y + a.height);

  // Keyboard: "/" focuses the search; name matches rank above description matches.
  await card(page, 'transform').click();
  await page.keyboard.press('/');
  const search = page.getByLabel('Search node types');
  await expect(search).toBeFocused();
  await search.fill('request');
  const results = page.getByRole('list', { name: 'Search results' }).getByRole('button');
  await expect(results.first()).toHaveAccessibleName('Add HTTP request');
  await expect(results.first()).toHaveAttribute('aria-current', 'true');
  await expect(page.getByRole('button', { name: 'Add Webhook' })).toBeVisible();
  await shot(page, 'palette-search');
  await search.press('ArrowDown');
  await expect(results.nth(1)).toHaveAttribute('aria-current', 'true');
  await expect(results.first()).not.toHaveAttribute('aria-current', 'true');
  await search.press('ArrowUp');
  await expect(results.first()).toHaveAttribute('aria-current', 'true');
  await search.press('Enter');
  await expect(card(page, 'http_request')).toBeVisible();
  await expect(search).toHaveValue('');
  // Connected from the step that was selected (transform), placed below it.
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  const c = (await card(page, 'http_request').boundingBox())!;
  expect(c.y).toBeGreaterThan(b.y + b.height);

  // Esc clears the box and leaves it.
  await search.fill('nothing like this');
  await expect(page.getByText('No node type matches')).toBeVisible();
  await search.press('Escape');
  await expect(search).toHaveValue('');
  await expect(search).not.toBeFocused();

  // With nothing selected, repeated adds never stack on one another.
  await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
  await page.getByRole('button', { name: 'Add Delay', exact: true }).click();
  await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
  await page.getByRole('button', { name: 'Add Delay', exact: true }).click();
  const d1 = (await card(page, 'delay').boundingBox())!;
  const d2 = (await card(page, 'delay_2').boundingBox())!;
  const overlap =
    d1.x < d2.x + d2.width && d2.x < d1.x + d1.width && d1.y < d2.y + d2.height && d2.y < d1.y + d1.height;
  expect(overlap).toBe(false);
  await shot(page, 'adding-nodes');
});

async function runFromEditor(page: Page) {
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Run workflow' });
  await dialog.getByRole('button', { name: 'Start run' }).click();
}

test('failures explained where you look: banner, selected step, tooltip, and the "allow this host" fix', async ({
  page,
  baseURL,
}) => {
  const host = new URL(baseURL!).host;
  const id = await createWorkflow(page, baseURL!, unique('Blocked'), {
    nodes: [
      { id: 'start', name: 'Start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'fetch',
        name: 'Fetch',
        type: 'http.request',
        position: { x: 0, y: 160 },
        config: { method: 'GET', url: `${baseURL}/api/health` },
      },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'fetch' }],
  });
  await page.goto(`/workflows/${id}`);
  await runFromEditor(page);
  const banner = page.getByRole('alert', { name: 'Run failed' });
  await expect(banner).toContainText('Run failed at Fetch', { timeout: 30_000 });
  await expect(banner).toContainText('loopback');
  // The failed step is selected and explains itself; its card carries the error as a tooltip.
  const inspector = panel(page);
  await expect(inspector).toContainText('Fetch');
  const error = inspector.getByRole('alert', { name: 'Step error' });
  await expect(error).toContainText('Blocked address');
  await expect(card(page, 'Fetch').locator('[data-status]')).toHaveAttribute('title', /loopback/);
  await shot(page, 'run-failed');

  // Clicking elsewhere and "Open step" brings it back.
  await card(page, 'Start').click();
  await banner.getByRole('button', { name: 'Open step' }).click();
  await expect(inspector.getByRole('alert', { name: 'Step error' })).toBeVisible();

  await error.getByRole('button', { name: `Allow ${host}` }).click();
  await expect(error).toContainText(`${host} is now allowed`);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('All changes saved')).toBeVisible();
  await runFromEditor(page);
  await expect(page.getByLabel('Run succeeded')).toBeVisible({ timeout: 30_000 });
  await expect(banner).toHaveCount(0);
});

test("a code node's own throw is labelled as the code's, not as an expression error", async ({
  page,
  baseURL,
}) => {
  const id = await createWorkflow(page, baseURL!, unique('Throws'), {
    nodes: [
      { id: 'start', name: 'Start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'boom',
        name: 'Boom',
        type: 'code',
        position: { x: 0, y: 160 },
        config: { code: "throw new Error('bad input')" },
      },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'boom' }],
  });
  await page.goto(`/workflows/${id}`);
  await runFromEditor(page);
  const banner = page.getByRole('alert', { name: 'Run failed' });
  await expect(banner).toContainText('Run failed at Boom: The code threw: Error: bad input', {
    timeout: 30_000,
  });
  const error = panel(page).getByRole('alert', { name: 'Step error' });
  await expect(error).toContainText('Thrown by this step’s code');
  await expect(error).toContainText('(node_error)');
  await expect(error).not.toContainText('expression_error');
});

test('run input remembered: the Run dialog prefills the last input, offers recent ones, infers the schema', async ({
  page,
  baseURL,
}) => {
  const id = await createWorkflow(page, baseURL!, unique('Inputs'), twoSteps);
  await page.goto(`/workflows/${id}`);
  const dialog = page.getByRole('dialog', { name: 'Run workflow' });
  const start = async (json: string) => {
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await dialog.getByLabel('Input (JSON)').fill(json);
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await expect(page.getByLabel('Run succeeded')).toBeVisible({ timeout: 30_000 });
  };
  await start('{ "name": "ada", "age": 36 }');
  await start('{ "name": "bob", "age": 7 }');

  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const box = dialog.getByLabel('Input (JSON)');
  await expect(box).toHaveValue(/"bob"/);
  const recent = dialog.getByLabel('Recent inputs');
  await expect(recent.locator('option')).toHaveCount(2);
  await recent.selectOption({ index: 1 });
  await expect(box).toHaveValue(/"ada"/);
  await shot(page, 'run-dialog-recent');

  await dialog.getByRole('button', { name: 'Infer input schema from this input' }).click();
  // The dialog now builds its form from the new schema, filled with the chosen input.
  await expect(dialog.getByLabel('name')).toHaveValue('ada');
  await expect(dialog.getByLabel('age')).toHaveValue('36');
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeVisible();
  await shot(page, 'run-dialog-inferred');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  await expect(page.getByLabel('Input schema')).toHaveValue(/"age"[\s\S]*"integer"/);
});

test('forms never drop input silently: invalid JSON is unsaved, a problem, kept, and Save warns', async ({
  page,
  baseURL,
}) => {
  const id = await createWorkflow(page, baseURL!, unique('Bad JSON'), {
    nodes: [
      { id: 'start', name: 'Start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'shape',
        name: 'Shape',
        type: 'transform',
        position: { x: 0, y: 160 },
        config: { value: { a: 1 } },
      },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'shape' }],
  });
  await page.goto(`/workflows/${id}`);
  await card(page, 'Shape').click();
  const value = panel(page).getByLabel(/^Value/);
  await value.fill('{ "a": 2, ');
  await value.blur();
  await expect(panel(page).getByText(/Not valid JSON \(not applied, not saved\)/)).toBeVisible();
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeVisible();
  const problems = page.getByRole('region', { name: 'Problems' });
  await expect(problems).toContainText('not valid JSON, not applied');

  // Closing the panel does not lose the text: it comes back with the node.
  await card(page, 'Start').click();
  await card(page, 'Shape').click();
  await expect(panel(page).getByLabel(/^Value/)).toHaveValue('{ "a": 2, ');

  // Save warns and names the field; Cancel keeps everything as it is.
  await page.keyboard.press('Control+s');
  const warn = page.getByRole('dialog', { name: 'Save with invalid fields?' });
  await expect(warn).toContainText(/shape: value/i);
  await shot(page, 'save-invalid-json');
  await warn.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByText('Unsaved changes', { exact: true })).toBeVisible();

  // Fixing it applies the value and clears the problem.
  await panel(page)
    .getByLabel(/^Value/)
    .fill('{ "a": 2 }');
  await panel(page)
    .getByLabel(/^Value/)
    .blur();
  await expect(problems).not.toContainText('not valid JSON');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('All changes saved')).toBeVisible();
  const saved = await page.request.get(`${baseURL}/api/workflows/${id}`);
  const def = ((await saved.json()) as { definition: { nodes: { id: string; config: unknown }[] } })
    .definition;
  expect(def.nodes.find((n) => n.id === 'shape')?.config).toEqual({ value: { a: 2 } });
});

test('small things: a keyboard shortcut sheet on "?" and a favicon', async ({ page, baseURL }) => {
  const id = await createWorkflow(page, baseURL!, unique('Shortcuts'), twoSteps);
  await page.goto(`/workflows/${id}`);
  await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
  await page.keyboard.press('?');
  const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(sheet).toContainText('Save a new version');
  await expect(sheet).toContainText('Search the node palette');
  await shot(page, 'shortcut-sheet');
  await page.keyboard.press('Escape');
  await expect(sheet).toBeHidden();
  // Typing "?" in a field is text, not the sheet.
  await page.getByLabel('Workflow name').press('?');
  await expect(sheet).toBeHidden();

  const icon = await page.locator('link[rel="icon"]').first().getAttribute('href');
  expect(icon).toBeTruthy();
  const res = await page.request.get(new URL(icon!, baseURL).toString());
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toContain('image/svg');
});

test('small things: Copy for the one-time API token; an empty filtered runs list offers "Run this workflow"', async ({
  page,
  baseURL,
}) => {
  await page.goto('/settings');
  const tokens = page.getByRole('region', { name: 'API tokens' });
  await tokens.getByLabel('Token name').fill(unique('ci'));
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const token = (await tokens.getByLabel('New API token').textContent())!.trim();
  await tokens.getByRole('button', { name: 'Copy token' }).click();
  await expect(tokens.getByText('Copied', { exact: true })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

  const id = await createWorkflow(page, baseURL!, unique('Never run'), twoSteps);
  await page.goto(`/runs?workflowId=${id}`);
  await expect(page.getByRole('heading', { name: 'No runs match these filters' })).toBeVisible();
  await page.getByRole('link', { name: 'Run this workflow' }).click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${id}$`));
});
