import { expect, test, type Page } from '@playwright/test';
import { apiOk, createOneStepWorkflow } from './fixtures/api';

// "Propose deterministic step" in the Promotion tab (issue 16 §5) against the real server and the
// scripted model server: the proposal runs as a queued job (progress shown, cancellable); an llm
// classifier in shadow whose answers follow a keyword rule; the
// scripted model (scenario `graduate`) writes that rule as a code step; the tab shows its agreement
// and code, nothing is saved until "Save as new version", which writes a version and a log row;
// a save in between makes that click a version conflict, not an overwrite.

const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: false });

test('Promotion tab: propose a deterministic step, see its agreement, save it as a new version', async ({
  page,
  baseURL,
}) => {
  const name = `Graduation ${Date.now().toString(36)}`;
  const id = await createOneStepWorkflow(page, baseURL!, name, {
    id: 'label',
    type: 'llm',
    name: 'Classify ticket',
    config: {
      model: 'scenario:echo',
      prompt: 'Label: {{ input.text }}',
      outputSchema: {
        type: 'object',
        properties: { label: { enum: ['billing', 'bug', 'other'] } },
        required: ['label'],
      },
    },
    mode: 'agent',
    agent: { instructions: 'Label the ticket.', tools: ['self'], shadow: true, model: 'scenario:echo' },
  });
  const tickets = [
    'billing: my invoice',
    'invoice twice, billing',
    'the app crashes, bug',
    'a bug: it crashes',
    'hello there, other',
    'other things, hello',
  ];
  for (const text of tickets)
    await apiOk(page, baseURL!, `/api/workflows/${id}/runs`, { input: { text }, wait: true });

  await page.goto(`/workflows/${id}`);
  await page.getByRole('group', { name: 'Classify ticket', exact: true }).click();
  await page.getByRole('tablist', { name: 'Inspector' }).getByRole('tab', { name: 'Promotion' }).click();
  const panel = page
    .getByRole('region', { name: 'Promotion', exact: true })
    .getByRole('group', { name: 'Graduation' });
  // The proposal is a queued job: while the (slow) model is asked, the panel says so and can cancel it.
  await panel.getByLabel('Model (optional)').fill('scenario:slow');
  await panel.getByRole('button', { name: 'Propose deterministic step' }).click();
  await expect(panel.getByRole('status', { name: 'Proposal progress' })).toHaveText(
    /^(Queued: waiting for a worker…|Asking the model for a step \(6 recorded cases\)…)$/,
  );
  await expect(panel.getByRole('button', { name: 'Proposing…' })).toBeDisabled();
  await shot(page, 'graduation-progress');
  await panel.getByRole('button', { name: 'Cancel' }).click();
  await expect(panel.getByRole('status')).toHaveText('Proposal cancelled.');

  await panel.getByLabel('Model (optional)').fill('scenario:graduate');
  await panel.getByRole('button', { name: 'Propose deterministic step' }).click();
  const proposal = panel.getByRole('region', { name: 'Proposed deterministic step' });
  await expect(proposal.getByRole('status')).toHaveText(
    `Agreement 100% over ${tickets.length} recorded cases (code step)`,
  );
  await expect(proposal.getByLabel('Proposed config')).toContainText('return');
  await proposal.scrollIntoViewIfNeeded();
  await shot(page, 'graduation-proposal');

  // Nothing saved by proposing.
  const before = (await (await page.request.get(`${baseURL}/api/workflows/${id}/versions`)).json()) as {
    versions: { version: number }[];
  };
  expect(before.versions).toHaveLength(1);

  // Someone saves after the proposal (a gates edit, version 2): saving the proposal is refused, not
  // written over their change.
  await apiOk(
    page,
    baseURL!,
    `/api/workflows/${id}/rollout`,
    { nodeId: 'label', gates: { minSample: 3 } },
    'PUT',
  );
  await proposal.getByRole('button', { name: 'Save as new version' }).click();
  await expect(panel.getByRole('alert')).toHaveText(
    'The workflow changed since this proposal (version 1 → 2): propose again to check the step as it is now.',
  );
  await shot(page, 'graduation-conflict');
  const after = (await (await page.request.get(`${baseURL}/api/workflows/${id}/versions`)).json()) as {
    versions: { version: number }[];
  };
  expect(after.versions).toHaveLength(2);

  await panel.getByRole('button', { name: 'Propose deterministic step' }).click();
  await expect(proposal.getByRole('status')).toHaveText(
    `Agreement 100% over ${tickets.length} recorded cases (code step)`,
  );
  await proposal.getByRole('button', { name: 'Save as new version' }).click();
  await expect(panel.getByRole('status')).toHaveText('Saved as version 3: the step is now deterministic.');
  const wf = (await (await page.request.get(`${baseURL}/api/workflows/${id}`)).json()) as {
    definition: { nodes: { id: string; type: string; mode?: string }[] };
  };
  expect(wf.definition.nodes.find((n) => n.id === 'label')).toMatchObject({ type: 'code', mode: 'workflow' });
  const log = page.getByRole('region', { name: 'Promotion', exact: true });
  await expect(log.getByText('Graduated to a deterministic step')).toBeVisible();
  await shot(page, 'graduation-saved');
});
