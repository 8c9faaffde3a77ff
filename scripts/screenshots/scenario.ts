import type { APIRequestContext } from '@playwright/test';

// What the README's pictures show, done through the public API of a running app: the five
// examples (seeded by an embedded database, created from /api/examples otherwise), each run for
// real (the webhook one through its webhook), the triage example's agent step answered by the
// scripted model, a run left waiting for its approval, and the agent step switched to shadow and
// run again so the promotion report has evidence. Each call fails loudly: a picture of a broken
// scenario must not be taken.

export interface Example {
  id: string;
  name: string;
}

export interface ScenarioResult {
  workflows: Record<ExampleKey, Example>;
  runs: {
    /** Triage of T-1002 in agent mode: the agent view. */
    agent: string;
    /** Triage of T-1003 in agent mode: compared with `agent`. */
    agentOther: string;
    /** Lead enrichment: a map over four leads, three at a time. */
    map: string;
    /** The flaky call: two failed attempts and backoff before it succeeds. */
    retries: string;
  };
}

export const EXAMPLES = {
  triage: 'Support ticket triage',
  leads: 'Lead enrichment',
  digest: 'Daily digest',
  webhook: 'Webhook to summary',
  flaky: 'Retrying a flaky call',
} as const;
type ExampleKey = keyof typeof EXAMPLES;

export const SHADOW_RUNS = 6;

interface RunBody {
  run: { id: string; status: string };
  steps: { nodeId: string; status: string; mode: string; attempt: number }[];
}

async function ok<T>(what: string, res: Awaited<ReturnType<APIRequestContext['get']>>): Promise<T> {
  if (!res.ok()) throw new Error(`${what}: HTTP ${res.status()} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The examples by name; in server mode (no seeding) they are created from /api/examples first. */
async function examples(api: APIRequestContext): Promise<Record<ExampleKey, Example>> {
  const list = async () =>
    (await ok<{ workflows: Example[] }>('list workflows', await api.get('/api/workflows'))).workflows;
  let have = await list();
  const { examples: all } = await ok<{ examples: { name: string; definition: unknown }[] }>(
    'list examples',
    await api.get('/api/examples'),
  );
  for (const ex of [...all].reverse()) {
    if (have.some((w) => w.name === ex.name)) continue;
    await ok(
      'create example',
      await api.post('/api/workflows', { data: { name: ex.name, definition: ex.definition } }),
    );
  }
  have = await list();
  const out = {} as Record<ExampleKey, Example>;
  for (const [key, name] of Object.entries(EXAMPLES) as [ExampleKey, string][]) {
    const wf = have.find((w) => w.name === name);
    if (!wf) throw new Error(`example "${name}" is missing`);
    out[key] = wf;
  }
  return out;
}

async function run(api: APIRequestContext, wf: Example, input: unknown, expected = 'succeeded') {
  const body = await ok<RunBody>(
    `run ${wf.name}`,
    await api.post(`/api/workflows/${wf.id}/runs`, { data: { input, wait: true } }),
  );
  if (body.run.status !== expected)
    throw new Error(
      `${wf.name} ended ${body.run.status}, expected ${expected}: ${JSON.stringify(body.steps)}`,
    );
  return body;
}

/** Every example run once; the triage example stays as shipped (agent mode, version 1). */
export async function runExamples(api: APIRequestContext): Promise<ScenarioResult> {
  const workflows = await examples(api);
  const { triage, leads, digest, webhook, flaky } = workflows;

  const retries = await run(api, flaky, { key: `docs-${Date.now()}` });
  const attempts = retries.steps.filter((s) => s.nodeId === 'call');
  if (attempts.length !== 3 || attempts.at(-1)?.status !== 'succeeded')
    throw new Error(`the flaky call should succeed on attempt 3: ${JSON.stringify(retries.steps)}`);
  const map = await run(api, leads, {});
  await run(api, digest, {});

  // The webhook example starts the way it is meant to: a signed call to its webhook.
  const hook = (
    await ok<{ webhook: { url: string; header: string; secret: string } }>(
      'read webhook',
      await api.get(`/api/workflows/${webhook.id}`),
    )
  ).webhook;
  await ok(
    'call webhook',
    await api.post(hook.url, {
      data: { text: 'Trellis runs workflows first. Agents come second. Every step leaves a trace.' },
      headers: { [hook.header]: hook.secret },
    }),
  );

  const agent = await run(api, triage, { ticketId: 'T-1002' });
  const agentOther = await run(api, triage, { ticketId: 'T-1003' });
  for (const r of [agent, agentOther]) {
    const label = r.steps.find((s) => s.nodeId === 'label');
    if (label?.mode !== 'agent') throw new Error(`the label step ran as ${label?.mode}, not as the agent`);
  }
  // An urgent ticket waits for a person; approved here, so the list shows how it ended.
  const urgent = await run(api, triage, { ticketId: 'T-1001' }, 'waiting');
  await ok(
    'approve',
    await api.post(`/api/runs/${urgent.run.id}/approvals/approve`, {
      data: { approved: true, comment: 'on it' },
    }),
  );

  return {
    workflows,
    runs: { agent: agent.run.id, agentOther: agentOther.run.id, map: map.run.id, retries: retries.run.id },
  };
}

/** Evidence for the promotion report: the triage agent switched to shadow and run beside the rule. */
export async function shadowTriage(api: APIRequestContext, triage: Example): Promise<number> {
  await ok(
    'shadow',
    await api.post(`/api/workflows/${triage.id}/promotion`, { data: { nodeId: 'label', action: 'shadow' } }),
  );
  for (let i = 0; i < SHADOW_RUNS; i++) {
    const r = await run(api, triage, { ticketId: i % 2 ? 'T-1003' : 'T-1002' });
    if (r.steps.find((s) => s.nodeId === 'label')?.mode !== 'shadow')
      throw new Error('the label step did not shadow');
  }
  return SHADOW_RUNS;
}
