// `npm run screenshots`: the README's pictures (docs/screenshots/*.png) from real runs of the
// examples. Starts the app (scripts/stack.mjs: the production build on a fresh embedded database,
// or on a fresh database of DATABASE_URL with a worker) with the scripted model server as its
// OpenAI endpoint, runs the scenario through the API (scripts/screenshots/scenario.ts), then
// photographs the pages in Chromium. Nothing is mocked: what the pictures show is what ran.
// Ports: SCREENSHOTS_PORT / SCREENSHOTS_MOCK_LLM_PORT (default 3230 / 3231); OUT_DIR to write
// elsewhere. Not part of `npm test`: it rebuilds and runs for about a minute.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { signIn } from '@/e2e/fixtures/sign-in';
import { chromiumLaunchOptions, findChromium } from './find-chromium.mjs';
import { buildIfStale, startStack } from './stack.mjs';
import { runExamples, shadowTriage } from './screenshots/scenario';

const PORT = process.env.SCREENSHOTS_PORT ?? '3230';
const MOCK_LLM_PORT = process.env.SCREENSHOTS_MOCK_LLM_PORT ?? '3231';
const OUT = path.resolve(process.env.OUT_DIR ?? 'docs/screenshots');
const VIEWPORT = { width: 1440, height: 900 };
/** The documentation's account (shown in the header of every picture). */
const OWNER = { email: 'ada@example.com', password: 'trellis-docs-owner' };

async function shot(page: Page, name: string, fullPage = false) {
  // Fonts and the canvas's fit-view animation settle before the picture.
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage });
  console.log(`wrote ${path.join(OUT, `${name}.png`)}`);
}

/** The node settings panel narrows the canvas after it fitted the graph: fit again. */
async function fitView(page: Page) {
  await page.getByRole('button', { name: /fit view/i }).click();
  for (let i = 0; i < 4; i++) {
    await page.waitForTimeout(1000); // the fit animates
    // Visible: inside the canvas, left of the node settings panel that overlays it, and not under
    // the minimap in its corner.
    const fits = await page.evaluate(() => {
      const c = document.querySelector('.react-flow')!.getBoundingClientRect();
      const panel = document.querySelector('[aria-label="Node settings"]')?.getBoundingClientRect();
      const map = document.querySelector('.react-flow__minimap')?.getBoundingClientRect();
      const right = Math.min(c.right, panel?.left ?? c.right);
      return [...document.querySelectorAll('.react-flow__node')].every((n) => {
        const r = n.getBoundingClientRect();
        return (
          r.left >= c.left &&
          r.right <= right &&
          r.top >= c.top &&
          r.bottom <= c.bottom &&
          // Inline: a named helper would be wrapped by tsx and not exist in the page.
          !(map && r.left < map.right && r.right > map.left && r.top < map.bottom && r.bottom > map.top)
        );
      });
    });
    if (fits) return;
    await page.getByRole('button', { name: /zoom out/i }).click();
  }
}

async function main() {
  const exe = findChromium();
  if (!exe) throw new Error('No Chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
  if (!buildIfStale()) throw new Error('next build failed');
  mkdirSync(OUT, { recursive: true });
  // The scripted model answers the way a careful agent would: it runs the step's own tool as
  // configured and answers what that returned (lib/agent/testing/mock-llm-server.ts).
  const stack = await startStack({
    port: PORT,
    mockLlmPort: MOCK_LLM_PORT,
    chromium: exe,
    mockLlmArgs: ['--scenario', 'tool-then-agree'],
    serverStdio: 'ignore',
  });
  const browser = await chromium.launch({ ...chromiumLaunchOptions(), executablePath: exe });
  try {
    const context = await browser.newContext({
      baseURL: stack.base,
      viewport: VIEWPORT,
      // Cookie-authenticated POSTs name their Origin (CSRF check).
      extraHTTPHeaders: { origin: stack.base },
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('pageerror', e.message));
    await signIn(page, stack.base, OWNER);
    const api = context.request;
    const { workflows, runs } = await runExamples(api);
    const triage = `/workflows/${workflows.triage.id}`;
    const card = (name: string) => page.getByRole('group', { name, exact: true });

    // The editor with the triage example as shipped, its agent step selected.
    await page.goto(triage);
    await card('Label ticket').click();
    await page.getByRole('complementary', { name: 'Node settings' }).waitFor();
    await fitView(page);
    await shot(page, 'editor-example');

    // A run started from the editor lights up the canvas; the urgent ticket waits for a person.
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Run workflow' });
    await dialog.getByLabel('ticketId').fill('T-1001');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await card('Escalate to on-call').getByText('Waiting', { exact: true }).waitFor({ timeout: 60_000 });
    await fitView(page);
    await shot(page, 'editor-run');

    // A validation problem on its node, in a page of its own so the edit is never saved.
    // Its own context too: the editor keeps unsaved drafts in the browser's storage.
    const scratchContext = await browser.newContext({
      baseURL: stack.base,
      viewport: VIEWPORT,
      extraHTTPHeaders: { origin: stack.base },
      storageState: await context.storageState(),
    });
    const scratch = await scratchContext.newPage();
    await scratch.goto(triage);
    await scratch.getByRole('group', { name: 'Fetch ticket', exact: true }).click();
    await scratch.getByRole('complementary', { name: 'Node settings' }).getByLabel(/^Url/).fill('');
    await scratch
      .getByRole('button', { name: /^Problems/ })
      .filter({ hasText: '1' })
      .waitFor();
    // The settings panel narrowed the canvas: every card in view again, as in the other pictures.
    await fitView(scratch);
    await shot(scratch, 'editor-problem');
    await scratchContext.close();

    // The agent step's turns: request, its own tool, the answer.
    await page.goto(`/runs/${runs.agent}`);
    await page
      .getByRole('region', { name: 'Timeline' })
      .getByRole('button', { name: /^Label ticket attempt 1/ })
      .click();
    const chat = page.getByRole('list', { name: 'Conversation' });
    await chat
      .getByRole('listitem', { name: /^Tool: / })
      .first()
      .waitFor();
    // The inspector scrolls on its own: show the model calling its tool and answering.
    await chat
      .getByRole('listitem', { name: /^Assistant: calls / })
      .first()
      .evaluate((el) => {
        el.scrollIntoView({ block: 'start' });
        window.scrollTo(0, 0);
      });
    await shot(page, 'run-agent-step');

    // The waterfall of a map over four leads, three at a time.
    await page.goto(`/runs/${runs.map}`);
    await page.getByRole('region', { name: 'Timeline' }).getByRole('button').first().waitFor();
    await shot(page, 'run-waterfall', true);

    // Retries: the failed attempts and the backoff between them.
    await page.goto(`/runs/${runs.retries}`);
    await page
      .getByRole('region', { name: 'Timeline' })
      .getByRole('button', { name: /^Call flaky service attempt 1/ })
      .click();
    await page.getByRole('region', { name: 'Attempts' }).getByText('Attempt 3').waitFor();
    await shot(page, 'run-retries');

    await page.goto(`/runs/compare?a=${runs.agentOther}&b=${runs.agent}`);
    await page.getByRole('region', { name: 'Run output difference' }).waitFor();
    await shot(page, 'runs-compare');

    // The promotion report after shadow runs, in the editor's node settings.
    const shadowRuns = await shadowTriage(api, workflows.triage);
    await page.goto(triage);
    await card('Label ticket').click();
    await fitView(page);
    await page.getByRole('tab', { name: 'Promotion' }).click();
    const report = page.getByRole('region', { name: 'Promotion report' });
    await report
      .getByRole('definition')
      .filter({ hasText: `shadow ${shadowRuns}` })
      .waitFor();
    await report.evaluate((el) => {
      el.scrollIntoView({ block: 'start' });
      window.scrollTo(0, 0);
    });
    await shot(page, 'promotion-report');

    await page.goto('/runs');
    await page
      .getByRole('link', { name: /Support ticket triage/ })
      .first()
      .waitFor();
    await shot(page, 'runs-list');

    await page.goto('/workflows');
    await page.getByRole('link', { name: 'Support ticket triage', exact: true }).waitFor();
    await shot(page, 'workflows-list');

    await page.goto('/settings');
    await page.getByRole('status', { name: 'Model status' }).waitFor();
    await shot(page, 'settings');
  } finally {
    await browser.close();
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
