import { expect, test } from '@playwright/test';

// "Open in editor" from a run's trace links to /workflows/:id?version=n: that version opens.

const def = (stepName: string) => ({
  schemaVersion: 1,
  name: `Versions ${Date.now()}`,
  nodes: [
    { id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, config: {} },
    {
      id: 'step',
      type: 'transform',
      name: stepName,
      position: { x: 0, y: 140 },
      config: { value: { a: 1 } },
    },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'step' }],
});

test('an older version opens from ?version=n, the latest without it', async ({ page, request, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const created = await request.post('/api/workflows', {
    data: { definition: def('First name') },
    headers: { origin },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  const saved = await request.put(`/api/workflows/${id}`, {
    data: { definition: def('Second name') },
    headers: { origin },
  });
  expect((await saved.json()).version).toBe(2);

  await page.goto(`/workflows/${id}?version=1`);
  await expect(page.getByRole('group', { name: 'First name', exact: true })).toBeVisible();
  await expect(page.getByRole('group', { name: 'Second name', exact: true })).toHaveCount(0);

  await page.goto(`/workflows/${id}`);
  await expect(page.getByRole('group', { name: 'Second name', exact: true })).toBeVisible();
});
