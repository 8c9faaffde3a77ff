import { expect, test, type Page } from '@playwright/test';
import { apiOk, createOneStepWorkflow } from './fixtures/api';

// Backtests in the Promotion tab (issue 16 §2) against the real server and the scripted model
// server: a ticket-labelling transform whose rule calls refunds billing. Backtest A replays the
// echo model, which labels refund tickets that mention a bug as `bug` (2 of 7 disagree); backtest
// B replays a model that asks the step itself (answered from the recording), so all 7 agree, with
// a code scorer. Ticking both shows them side by side with deltas and the 2 cases that changed.

const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: false });

const TICKETS = [
  'billing question about my invoice',
  'billing: invoice twice',
  'hello, other things',
  'the app crashes on start, a bug',
  'a bug: it crashes',
  'refund please: the bug charged me twice',
  'refund now, the bug billed me',
];

test('Promotion tab: two backtests side by side, with deltas and the cases that changed verdict', async ({
  page,
  baseURL,
}) => {
  const name = `Compare ${Date.now().toString(36)}`;
  const id = await createOneStepWorkflow(page, baseURL!, name, {
    id: 'label',
    type: 'transform',
    name: 'Label ticket',
    config: {
      value: {
        label:
          "{{ /invoice|refund/i.test(input.text) ? 'billing' : /crash/i.test(input.text) ? 'bug' : 'other' }}",
      },
      outputSchema: {
        type: 'object',
        properties: { label: { enum: ['billing', 'bug', 'other'] } },
        required: ['label'],
      },
    },
    agent: { instructions: 'Label the ticket.', tools: ['self'] },
  });
  for (const text of TICKETS)
    await apiOk(page, baseURL!, `/api/workflows/${id}/runs`, { input: { text }, wait: true });

  await page.goto(`/workflows/${id}`);
  await page.getByRole('group', { name: 'Label ticket', exact: true }).click();
  await page.getByRole('tablist', { name: 'Inspector' }).getByRole('tab', { name: 'Promotion' }).click();
  const panel = page.getByRole('region', { name: 'Promotion', exact: true }).getByRole('region', {
    name: 'Backtests',
  });
  const launcher = panel.getByRole('form', { name: 'Start a backtest' });
  const history = panel.getByRole('list', { name: 'Backtest history' });

  // A: the echo model, exact equality.
  await launcher.getByLabel('Model (optional)').fill('scenario:echo');
  await launcher.getByRole('button', { name: 'Start backtest' }).click();
  await expect(history.getByRole('listitem')).toHaveCount(1);
  await expect(history.getByRole('listitem').first()).toContainText('succeeded', { timeout: 30_000 });
  await expect(history.getByRole('listitem').first()).toContainText('agreed 71.4%');

  // The scorer picker offers every kind the API takes; a code scorer that does not parse is named
  // by its JSON pointer before anything starts.
  const scorer = launcher.getByRole('combobox', { name: 'Scorer' });
  await expect(scorer.getByRole('option')).toHaveText([
    'Exact JSON equality',
    'Per field',
    'Numbers within a tolerance',
    'Code (function body)',
    'LLM judge (model calls)',
  ]);
  await scorer.selectOption('llm_judge');
  await expect(launcher).toContainText('asks the model once per answered case');
  await scorer.selectOption('numeric');
  await expect(launcher.getByRole('spinbutton', { name: 'Tolerance' })).toHaveValue('0.01');
  await scorer.selectOption('code');
  const code = launcher.getByLabel(/Scorer function body/);
  await code.fill('return (expected');
  await launcher.getByRole('button', { name: 'Start backtest' }).click();
  await expect(launcher.getByRole('alert', { name: 'Scorer problem' })).toHaveText(
    /^\/scorer\/code: syntax error at character \d+/,
  );
  await expect(history.getByRole('listitem')).toHaveCount(1);
  await shot(page, 'backtest-scorer-error');

  // B: a model that asks the step itself (the recorded answer), scored by code.
  await code.fill('return expected.label === actual.label ? 1 : 0;');
  await launcher.getByLabel('Model (optional)').fill('scenario:tool-then-agree');
  await launcher.getByRole('button', { name: 'Start backtest' }).click();
  await expect(launcher.getByRole('alert')).toHaveCount(0);
  await expect(history.getByRole('listitem')).toHaveCount(2);
  await expect(history.getByRole('listitem').first()).toContainText('succeeded', { timeout: 30_000 });
  await expect(history.getByRole('listitem').first()).toContainText('agreed 100%');

  // Tick both: side by side, A the older.
  const boxes = history.getByRole('checkbox', { name: /^Compare backtest/ });
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  const cmp = panel.getByRole('region', { name: 'Backtest comparison' });
  await expect(cmp).toContainText('model scenario:echo');
  await expect(cmp).toContainText('model scenario:tool-then-agree · code scorer');
  const table = cmp.getByRole('table', { name: 'Side by side' });
  await expect(table.getByRole('row', { name: /^Agreement/ })).toHaveText(/71\.4%\s*100%\s*\+28\.6 pp/);
  await expect(table.getByRole('row', { name: /^Cases/ })).toHaveText(/7\s*7\s*±0/);
  await expect(table.getByRole('row', { name: /^Latency p95/ })).toBeVisible();
  await expect(table.getByRole('row', { name: /^Cost mean/ })).toBeVisible();
  await expect(table.getByRole('row', { name: /^Fallback rate/ })).toHaveText(/0%\s*0%\s*±0 pp/);
  await expect(cmp.getByRole('figure', { name: 'Score distribution' })).toBeVisible();
  const failures = cmp.getByRole('table', { name: 'Failure types side by side' });
  await expect(failures.getByRole('row', { name: /diff:\/label/ })).toHaveText(/2\s*0\s*−2/);
  const fixed = cmp.getByRole('list', { name: 'Agree only in B (fixed)' });
  await expect(fixed.getByRole('link')).toHaveCount(2);
  await expect(fixed.getByRole('link').first()).toHaveAttribute('href', /^\/runs\/[\w-]+$/);
  await expect(cmp.getByRole('list', { name: 'Agree only in A (regressed)' })).toHaveCount(0);
  await cmp.scrollIntoViewIfNeeded();
  await shot(page, 'backtest-compare');

  // A case link opens its source run: a refund ticket.
  await fixed.getByRole('link').first().click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(page.getByText(/refund/).first()).toBeVisible();
});
