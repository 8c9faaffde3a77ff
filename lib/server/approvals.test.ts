import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeProcessRuntime } from './testing/route-harness';

// Approvals are decided once and audited: a concurrent approve and reject through the API give one
// 200 and one 409, the winner is recorded as `by`, and the run is resumed once (embedded mode; the
// compare-and-set itself is in the TraceStore contract, on PGlite and Postgres).

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-approvals-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
const TOKEN = 'approvals-test-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;

type Handler = (r: Request, c: { params: Promise<unknown> }) => Promise<Response>;
const API = path.resolve(import.meta.dirname, '../../app/api');
const load = async (rel: string) =>
  (await import(/* @vite-ignore */ path.join(API, rel, 'route.ts'))) as Record<string, Handler>;

function call(h: Handler, url: string, body?: unknown, params: Record<string, string> = {}, bearer = TOKEN) {
  const req = new Request(`http://127.0.0.1:3999${url}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return h(req, { params: Promise.resolve(params) });
}

const definition = {
  schemaVersion: 1,
  name: 'approve once',
  nodes: [
    { id: 't', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    { id: 'ask', type: 'approval', position: { x: 0, y: 100 }, config: { message: 'Refund?' } },
    {
      id: 'yes',
      type: 'output',
      position: { x: -100, y: 200 },
      config: { value: 'refunded by {{ steps.ask.output.by }}' },
    },
    {
      id: 'no',
      type: 'output',
      position: { x: 100, y: 200 },
      config: { value: 'declined by {{ steps.ask.output.by }}' },
    },
  ],
  edges: [
    { id: 'e1', source: 't', target: 'ask' },
    { id: 'e2', source: 'ask', target: 'yes', sourceHandle: 'approved' },
    { id: 'e3', source: 'ask', target: 'no', sourceHandle: 'rejected' },
  ],
};

describe('approvals: decided once, audited', () => {
  let runs: Record<string, Handler>;
  let run: Record<string, Handler>;
  let approvals: Record<string, Handler>;
  let wfId = '';
  let otherToken = '';
  let otherTokenId = '';

  beforeAll(async () => {
    const [workflows, tokens] = await Promise.all(['workflows', 'tokens'].map(load));
    [runs, run, approvals] = await Promise.all(
      ['workflows/[id]/runs', 'runs/[id]', 'runs/[id]/approvals/[nodeId]'].map(load),
    );
    const created = await call(workflows.POST, '/api/workflows', { name: 'approve once', definition });
    expect(created.status).toBe(201);
    wfId = (await created.json()).id;
    const tok = await (await call(tokens.POST, '/api/tokens', { name: 'reviewer' })).json();
    otherToken = tok.token;
    otherTokenId = tok.id;
  }, 120_000);

  afterAll(async () => {
    await closeProcessRuntime();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a concurrent approve and reject: one 200, one 409; `by` names the winner; the run resumes once', async () => {
    for (let round = 0; round < 5; round++) {
      const started = await call(runs.POST, `/api/workflows/${wfId}/runs`, { wait: true }, { id: wfId });
      expect(started.status).toBe(200);
      const runId = (await started.json()).run.id as string;
      const { getRuntime } = await import('./runtime');
      const rt = await getRuntime();
      const resumed: string[] = [];
      const unsubscribe = rt.events.subscribe(runId, (ev) => {
        if (ev.type === 'run.started' && ev.resumed) resumed.push(ev.runId);
      });
      const at = `/api/runs/${runId}/approvals/ask`;
      const params = { id: runId, nodeId: 'ask' };
      const [approve, reject] = await Promise.all([
        call(approvals.POST, at, { approved: true }, params, otherToken),
        call(approvals.POST, at, { approved: false, comment: 'no' }, params),
      ]);
      expect([approve.status, reject.status].sort()).toEqual([200, 409]);
      const loser = approve.status === 409 ? approve : reject;
      expect((await loser.json()).error.code).toBe('conflict');
      const approved = approve.status === 200;

      await rt.dispatcher.settled(runId); // undefined when it already finished
      const out = await rt.engine.resumeRun(runId).catch(() => null); // finished: reports, runs nothing
      unsubscribe();
      const by = approved ? `api-token:${otherTokenId}` : 'env-token';
      expect(out).toMatchObject({
        status: 'succeeded',
        output: approved ? `refunded by ${by}` : `declined by ${by}`,
      });
      const view = await (await call(run.GET, `/api/runs/${runId}`, undefined, { id: runId })).json();
      const steps = view.steps as { nodeId: string; status: string; handle: string | null }[];
      expect(steps.filter((s) => s.nodeId === 'ask')).toHaveLength(1);
      expect(steps.find((s) => s.nodeId === 'ask')).toMatchObject({
        status: 'succeeded',
        handle: approved ? 'approved' : 'rejected',
      });
      // Resumed once: one downstream step ran, on the winner's branch only.
      const branch = steps.filter((s) => s.nodeId === 'yes' || s.nodeId === 'no');
      expect(branch).toHaveLength(2); // one ran, the other was skipped; neither twice
      expect(branch.filter((s) => s.status === 'succeeded').map((s) => s.nodeId)).toEqual([
        approved ? 'yes' : 'no',
      ]);
      expect(resumed).toHaveLength(1);
      const stepRes = await load('runs/[id]/steps/[stepId]');
      const askId = (view.steps as { id: string; nodeId: string }[]).find((s) => s.nodeId === 'ask')!.id;
      const ask = await (
        await call(stepRes.GET, `/api/runs/${runId}/steps/${askId}`, undefined, { id: runId, stepId: askId })
      ).json();
      expect(ask.step.output).toMatchObject({ approved, by });

      // A late decision is refused too, and resumes nothing.
      const late = await call(approvals.POST, at, { approved: !approved }, params);
      expect(late.status).toBe(409);
    }
  }, 180_000);
});
