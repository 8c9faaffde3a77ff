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

test('Promotion tab: an agent that always calls the same two tools is proposed as a chain, then saved', async ({
  page,
  baseURL,
}) => {
  const suffix = Date.now().toString(36);
  const child = async (name: string, inputSchema: object, value: object) =>
    (
      await apiOk(page, baseURL!, '/api/workflows', {
        name,
        definition: {
          schemaVersion: 1,
          name,
          description: name,
          inputSchema,
          nodes: [
            { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
            { id: 'out', type: 'output', position: { x: 0, y: 100 }, config: { value } },
          ],
          edges: [{ id: 'e1', source: 'start', target: 'out' }],
        },
      })
    ).id as string;
  const lookup = await child(
    `Lookup customer ${suffix}`,
    { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
    { customerId: "{{ 'c-' + input.email.split('@')[0] }}" },
  );
  const create = await child(
    `Create ticket ${suffix}`,
    {
      type: 'object',
      properties: { customerId: { type: 'string' }, subject: { type: 'string' } },
      required: ['customerId', 'subject'],
    },
    { ticketId: "{{ 't-' + input.customerId }}", status: 'open' },
  );
  const id = await createOneStepWorkflow(page, baseURL!, `Support ${suffix}`, {
    id: 'support',
    type: 'llm',
    name: 'Open ticket',
    config: {
      prompt: 'Open a ticket: {{ input.subject }}',
      outputSchema: {
        type: 'object',
        properties: {
          ticketId: { type: 'string' },
          customerId: { type: 'string' },
          status: { type: 'string' },
        },
        required: ['ticketId', 'customerId', 'status'],
      },
    },
    mode: 'agent',
    agent: {
      instructions: 'Open a ticket for the customer.',
      tools: [`workflow:${lookup}`, `workflow:${create}`],
      model: 'scenario:tool-chain',
    },
  });
  const runs = 6;
  for (let i = 0; i < runs; i++)
    await apiOk(page, baseURL!, `/api/workflows/${id}/runs`, {
      input: { email: `user${i}@example.com`, subject: `Printer ${i} jammed` },
      wait: true,
    });

  await page.goto(`/workflows/${id}`);
  await page.getByRole('group', { name: 'Open ticket', exact: true }).click();
  await page.getByRole('tablist', { name: 'Inspector' }).getByRole('tab', { name: 'Promotion' }).click();
  const panel = page
    .getByRole('region', { name: 'Promotion', exact: true })
    .getByRole('group', { name: 'Graduation' });
  await panel.getByRole('button', { name: 'Propose deterministic step' }).click();
  const proposal = panel.getByRole('region', { name: 'Proposed deterministic step' });
  await expect(proposal.getByRole('status')).toHaveText(
    `Agreement 100% over ${runs} recorded agent runs (chain of 3 steps)`,
  );
  const chain = proposal.getByRole('list', { name: 'Proposed chain' }).getByRole('listitem');
  // Key order inside the templates is the store's (JSONB sorts keys): each part is checked alone.
  await expect(chain).toHaveCount(3);
  const parts = [
    // The workflows the chain calls are named (the id beside the name), once their names load.
    [
      `support_1: run workflow “Lookup customer ${suffix}” (${lookup}) with `,
      '"email":"{{ steps.start.output.email }}"',
    ],
    [
      `support_2: run workflow “Create ticket ${suffix}” (${create}) with `,
      '"customerId":"{{ steps.support_1.output.customerId }}"',
      '"subject":"{{ steps.start.output.subject }}"',
    ],
    [
      'support: transform → ',
      '"ticketId":"{{ steps.support_2.output.ticketId }}"',
      '"customerId":"{{ steps.support_1.output.customerId }}"',
      '"status":"open"',
    ],
  ];
  for (const [k, texts] of parts.entries())
    for (const text of texts) await expect(chain.nth(k)).toContainText(text);
  await expect(proposal).toContainText(`${runs} of ${runs} outputs equal`);
  await expect(proposal).toContainText(
    `Tool sequence Lookup customer ${suffix} → Create ticket ${suffix} in 100% of the runs`,
  );
  await proposal.scrollIntoViewIfNeeded();
  await shot(page, 'graduation-chain');

  await proposal.getByRole('button', { name: 'Save as new version' }).click();
  await expect(panel.getByRole('status')).toHaveText('Saved as version 2: the step is now deterministic.');
  const wf = (await (await page.request.get(`${baseURL}/api/workflows/${id}`)).json()) as {
    definition: { nodes: { id: string; type: string }[]; edges: { source: string; target: string }[] };
  };
  expect(wf.definition.nodes.map((n) => `${n.id}:${n.type}`)).toEqual([
    'start:trigger.manual',
    'support_1:subworkflow',
    'support_2:subworkflow',
    'support:transform',
  ]);
  expect(wf.definition.edges.map((e) => `${e.source}→${e.target}`)).toEqual([
    'start→support_1',
    'support_1→support_2',
    'support_2→support',
  ]);
});
