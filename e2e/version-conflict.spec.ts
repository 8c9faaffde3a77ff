import { expect, test, type Page } from '@playwright/test';
import { shadowLabelStep } from './fixtures/steps';

// Two tabs edit one workflow: the second save meets the first's version (409 version_conflict)
// and the editor asks what to do instead of overwriting it. Reload theirs shows the first tab's
// change and keeps mine as a draft; Overwrite saves mine on top of a version written meanwhile
// (here a gate change through the rollout API, a version with a note).

const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: false });
const nameField = (page: Page) => page.getByLabel('Workflow name');
const saveButton = (page: Page) => page.getByRole('button', { name: 'Save', exact: true });

test('a stale save asks: reload theirs (mine kept as a draft) or overwrite', async ({
  page,
  context,
  baseURL,
}) => {
  const headers = { origin: new URL(baseURL!).origin };
  const name = `Conflict ${Date.now().toString(36)}`;
  const created = await page.request.post('/api/workflows', {
    headers,
    data: {
      definition: {
        schemaVersion: 1,
        name,
        nodes: [
          { id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, config: {} },
          shadowLabelStep({ position: { x: 0, y: 160 } }),
        ],
        edges: [{ id: 'e1', source: 'start', target: 'label' }],
      },
    },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const latest = async () =>
    (await (await page.request.get(`/api/workflows/${id}`)).json()) as { version: number; name: string };

  const first = page;
  const second = await context.newPage();
  await first.goto(`/workflows/${id}`);
  await second.goto(`/workflows/${id}`);
  await expect(nameField(first)).toHaveValue(name);
  await expect(nameField(second)).toHaveValue(name);

  await nameField(first).fill('Theirs');
  await saveButton(first).click();
  await expect(first.getByText('Saved version 2')).toBeVisible();

  await nameField(second).fill('Mine');
  await saveButton(second).click();
  const dialog = second.getByRole('dialog', { name: 'This workflow changed' });
  await expect(dialog).toContainText('This workflow changed since you opened it (v2)');
  await shot(second, 'version-conflict');
  expect(await latest()).toMatchObject({ version: 2, name: 'Theirs' });

  await dialog.getByRole('button', { name: 'Reload theirs' }).click();
  await expect(dialog).toBeHidden();
  await expect(nameField(second)).toHaveValue('Theirs');
  await expect(second.getByTitle('Saved version')).toHaveText('v2');
  await expect(second.getByText('All changes saved')).toBeVisible();
  // Mine were not thrown away: the draft store offers them back.
  const draft = second.getByRole('region', { name: 'Unsaved draft' });
  await expect(draft).toBeVisible();

  // Meanwhile a version with a note lands (a gate change, as the rollout watcher's rollbacks do).
  const gates = await page.request.put(`/api/workflows/${id}/rollout`, {
    headers,
    data: { nodeId: 'label', gates: { minSample: 3 } },
  });
  expect(gates.status()).toBe(200);
  await draft.getByRole('button', { name: 'Restore draft' }).click();
  await expect(nameField(second)).toHaveValue('Mine');
  await saveButton(second).click();
  await expect(dialog).toContainText(/changed since you opened it \(v3: Gate change/);
  await shot(second, 'version-conflict-note');
  await dialog.getByRole('button', { name: 'Overwrite' }).click();
  await expect(second.getByText('Saved version 4')).toBeVisible();
  expect(await latest()).toMatchObject({ version: 4, name: 'Mine' });

  // Cancel leaves the edits unsaved and writes nothing.
  await nameField(first).fill('Theirs again');
  await saveButton(first).click();
  await expect(first.getByText(/Not saved: version 4/)).toBeVisible();
  await first
    .getByRole('dialog', { name: 'This workflow changed' })
    .getByRole('button', { name: 'Cancel' })
    .click();
  await expect(first.getByText('Unsaved changes')).toBeVisible();
  expect(await latest()).toMatchObject({ version: 4, name: 'Mine' });
});
