import path from 'node:path';
import { expect, test } from '@playwright/test';

// The workflows page's "Import from n8n": choose an export, read the report, create, and land
// in the editor with the n8n layout.

const FIXTURE = path.join(
  import.meta.dirname,
  '..',
  'lib',
  'import',
  'fixtures',
  'n8n',
  'legacy-and-unsupported.json',
);

test('import an n8n workflow: report first, then the editor with its nodes', async ({ page }) => {
  await page.goto('/workflows');
  await page.getByRole('button', { name: 'Import from n8n' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import from n8n' });
  await dialog.getByLabel('n8n workflow file').setInputFiles(FIXTURE);
  const report = dialog.getByRole('table', { name: 'Import report' });
  await expect(report).toBeVisible();
  const summary = dialog.getByRole('list', { name: 'Import summary' });
  await expect(summary).toContainText('3 placeholder');
  await expect(summary).toContainText('5 mapped');
  await expect(report.getByRole('row', { name: /Read sheet/ })).toContainText('placeholder');
  await expect(report.getByRole('row', { name: /Read sheet/ })).toContainText(
    'googleSheets has no Trellis equivalent',
  );
  await page.screenshot({ path: 'test-results/import-n8n-report.png' });
  await dialog.getByRole('button', { name: 'Create workflow' }).click();
  await expect(page).toHaveURL(/\/workflows\/[^/]+$/);
  await expect(page.getByText('Old IF').first()).toBeVisible();
  await expect(page.getByText('Read sheet').first()).toBeVisible();
});

test('pasting something that is not an n8n export says so and saves nothing', async ({ page }) => {
  await page.goto('/workflows');
  await page.getByRole('button', { name: 'Import from n8n' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import from n8n' });
  await dialog.getByLabel('n8n workflow JSON').fill('{"hello": "world"}');
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('Not an n8n workflow export');
});

test('import a Serverless Workflow document (YAML): one step per task, then run it', async ({
  page,
  request,
}) => {
  await page.goto('/workflows');
  await page.getByRole('button', { name: 'Import Serverless Workflow' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import Serverless Workflow' });
  await dialog
    .getByLabel('Serverless Workflow document (YAML or JSON)')
    .fill(
      [
        'document: { dsl: "1.0.0", namespace: e2e, name: greet, version: "1.0.0" }',
        'do:',
        '  - greet:',
        '      set: { text: \'${ "hello " + .name }\' }',
        '  - shout:',
        '      set: { text: "${ .text | ascii_upcase }" }',
      ].join('\n'),
    );
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  const report = dialog.getByRole('table', { name: 'Import report' });
  await expect(report.getByRole('row', { name: /greet/ })).toContainText('mapped');
  await expect(dialog.getByRole('list', { name: 'Import summary' })).toContainText('2 mapped');
  await dialog.getByRole('button', { name: 'Create workflow' }).click();
  await expect(page).toHaveURL(/\/workflows\/[^/]+$/);
  const id = page.url().split('/').pop()!;
  await expect(page.getByText('shout').first()).toBeVisible();
  const run = await request.post(`/api/workflows/${id}/runs`, {
    data: { input: { name: 'ada' }, wait: true },
  });
  expect((await run.json()).run.output).toEqual({ text: 'HELLO ADA' });
});
