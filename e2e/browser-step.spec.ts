import { expect, test } from '@playwright/test';
import { startFixtureSite, type FixtureSite } from '../lib/browser/testing/fixture-site';
import { card, panel } from './fixtures/editor';
import { signIn } from './fixtures/sign-in';
import { poster } from './fixtures/api';

// A browser step in the trace: the server's Chromium runs the step against a fixture site on
// 127.0.0.1 (started by this spec), and the step inspector shows each action with its timing bar
// and the screenshot taken after it, fetched from the artifact route.

let site: FixtureSite;
test.beforeAll(async () => {
  site = await startFixtureSite({ password: 'pw', elsewhere: 'http://127.0.0.1:9' });
});
test.afterAll(async () => {
  await site?.close();
});
test.beforeEach(async ({ page, baseURL }) => {
  await signIn(page, baseURL ?? 'http://127.0.0.1:3210');
});

test('a browser step shows each action with its screenshot and timing in the trace', async ({
  page,
  baseURL,
}) => {
  const post = poster(page, baseURL);
  const name = `Buy a mug ${Date.now()}`;
  const definition = {
    schemaVersion: 1,
    name,
    nodes: [
      { id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'shop',
        type: 'browser',
        name: 'Shop',
        position: { x: 0, y: 130 },
        config: {
          startUrl: `${site.url}/product`,
          allowHosts: [site.hostPort],
          captureEachAction: true,
          domSnapshots: true,
          viewport: { width: 800, height: 450 },
          actions: [
            { type: 'click', target: { role: 'button', name: 'Add to cart' } },
            { type: 'extract', into: 'confirmation', target: { role: 'status' } },
          ],
        },
      },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'shop' }],
  };
  const created = await post('/api/workflows', { name, definition });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const started = await post(`/api/workflows/${id}/runs`, { input: {}, wait: true });
  const { run } = (await started.json()) as { run: { id: string; status: string } };
  expect(run.status).toBe('succeeded');

  await page.goto(`/runs/${run.id}`);
  await page
    .getByRole('region', { name: 'Timeline' })
    .getByRole('button', { name: /^Shop attempt 1, Succeeded/ })
    .click();
  const actions = page
    .getByRole('region', { name: 'Step Shop' })
    .getByRole('region', { name: 'Browser actions' });
  await expect(actions).toBeVisible({ timeout: 30_000 });
  await expect(actions.getByRole('listitem', { name: 'Action #0 click' })).toContainText(
    'button “Add to cart”',
  );
  for (const alt of [
    'Screenshot after start goto',
    'Screenshot after #0 click',
    'Screenshot after #1 extract',
  ]) {
    const img = actions.getByRole('img', { name: alt });
    await expect(img).toBeVisible();
    // Loaded from the artifact route, not a broken image.
    await expect
      .poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth))
      .toBeGreaterThan(0);
  }
  // The DOM snapshot opens as the page's HTML, sandboxed (no script runs in it).
  const dom = actions.getByRole('link', { name: 'DOM snapshot after #0 click' });
  await expect(dom).toBeVisible();
  const html = await page.request.get((await dom.getAttribute('href'))!);
  expect(html.headers()['content-type']).toBe('text/html; charset=utf-8');
  // next.config.js's headers win over a route's own: this is what the browser really gets.
  expect(html.headers()['content-security-policy']).toMatch(
    /^sandbox; default-src 'none'; frame-ancestors 'none'/,
  );
  expect(await html.text()).toContain('Added to cart');
  await expect(actions.getByRole('button', { name: 'Accept these actions as recorded' })).toBeVisible();
  await actions.screenshot({ path: 'test-results/browser-step-trace.png' });

  // The editor: the action list with a kind per action and the target's own fields; a target with
  // two ways to find it is a problem on that target.
  await page.goto(`/workflows/${id}`);
  await card(page, 'Shop').click();
  const settings = panel(page);
  const list = settings.getByRole('group', { name: 'Actions' });
  await expect(list.getByRole('combobox', { name: 'Action 1 type' })).toHaveValue('click');
  const first = list.getByRole('listitem', { name: 'Action 1: click' });
  await expect(
    first.getByRole('group', { name: 'Target' }).getByLabel('Role', { exact: true }),
  ).toBeVisible();
  await first.getByRole('group', { name: 'Target' }).getByLabel('Css', { exact: true }).fill('#add-to-cart');
  await expect(first).toContainText('a target uses one of role, label, text or css, not role and css');
  await settings.screenshot({ path: 'test-results/browser-step-editor.png' });
});
