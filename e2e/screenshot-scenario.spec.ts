import { expect, test } from '@playwright/test';
import { runExamples, shadowTriage } from '../scripts/screenshots/scenario';

// What `npm run screenshots` photographs (scripts/screenshots/scenario.ts), through the API only,
// so a change that breaks the README's pictures fails here first: every example runs, the triage
// agent answers, an urgent ticket waits and is approved, and shadow runs feed the promotion report.

test.skip(process.env.E2E_MOCK_API === '1', 'needs the real API');

test('the screenshot scenario runs on the real app', async ({ request }) => {
  test.slow(); // a dozen runs with wait: true
  const { workflows, runs } = await runExamples(request);
  for (const id of Object.values(runs)) {
    const res = await request.get(`/api/runs/${id}`);
    expect(((await res.json()) as { run: { status: string } }).run.status).toBe('succeeded');
  }
  const shadowRuns = await shadowTriage(request, workflows.triage);
  const rep = await request.get(`/api/workflows/${workflows.triage.id}/promotion?nodeId=label`);
  const step = ((await rep.json()) as { steps: { byMode: { shadow: number } }[] }).steps[0];
  expect(step.byMode.shadow).toBeGreaterThanOrEqual(shadowRuns);
});
