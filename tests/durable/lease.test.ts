import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDb, type Db } from '@/lib/db/client';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { TAKEOVER_BOUND_MS } from '@/lib/queue/limits';
import { pgAvailable, tempQueueDb } from '@/lib/queue/testing/queue-db';
import { createRuntime, type Runtime } from '@/lib/server/runtime';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { killGroup, sleep, spawnWorker, type WorkerProc } from './harness';

// A worker that lost its lease stops before its next side effect. Worker A is paused (SIGSTOP)
// in the middle of a run of POSTs, past its lease; worker B takes the run over and finishes it;
// then A is continued (SIGCONT). Each worker calls the recorder under its own path prefix (its
// env.TRELLIS_DEMO_URL), so the recorder knows who sent what: A sends nothing after SIGCONT, the
// run finishes once, no step has two succeeded attempts and none is left running.

const STEPS = 12;

describe.skipIf(!pgAvailable)('lost lease', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let db: Db;
  let rt: Runtime;
  let server: http.Server;
  let base = '';
  const seen: { who: string; at: number }[] = [];
  const workers: WorkerProc[] = [];

  beforeAll(async () => {
    tmp = await tempQueueDb('lease');
    db = await openDb({ databaseUrl: tmp.url });
    rt = await createRuntime({ db, databaseUrl: tmp.url, seed: false, webRunSlots: 0 });
    server = http.createServer((req, res) => {
      seen.push({ who: (req.url ?? '').split('/')[2] ?? '?', at: Date.now() });
      req.resume();
      // Slow enough that the pause lands mid-run.
      setTimeout(() => res.end('{"ok":true}'), 300);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) {
      killGroup(w, 'SIGCONT');
      killGroup(w);
    }
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await rt?.dispatcher.close?.();
    await db?.close();
    await tmp?.drop();
  });

  it('SIGSTOP past the lease, takeover, SIGCONT: the paused worker sends nothing more', async () => {
    const nodes: WorkflowDefinition['nodes'] = [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    ];
    const edges: WorkflowDefinition['edges'] = [];
    for (let i = 1; i <= STEPS; i++) {
      nodes.push({
        id: `p${i}`,
        type: 'http.request',
        position: { x: 0, y: i * 80 },
        config: { method: 'POST', url: `{{ env.TRELLIS_DEMO_URL }}/p${i}`, body: { i } },
      });
      edges.push({ id: `e${i}`, source: i === 1 ? 'start' : `p${i - 1}`, target: `p${i}` });
    }
    const def = { schemaVersion: 1, name: 'lease', nodes, edges } as WorkflowDefinition;
    const wf = await createWorkflow(db.prisma, { name: 'lease', definition: def });

    const a = spawnWorker(tmp.url, 'wa', 1, { TRELLIS_DEMO_URL: `${base}/w/A` });
    workers.push(a);
    await a.ready;
    const runId = await rt.engine.startRun({ definition: def, workflowId: wf.id, input: {} });
    await rt.dispatcher.enqueue(runId);
    const started = Date.now();
    while (seen.filter((s) => s.who === 'A').length < 3) {
      if (Date.now() - started > 30_000) {
        const r = await db.sql.query(`SELECT status, error FROM "Run" WHERE id = $1`, [runId]);
        throw new Error(`A never called: ${a.output.join('')} ${JSON.stringify(r)}`);
      }
      await sleep(50);
    }
    killGroup(a, 'SIGSTOP');
    const pausedAt = Date.now();
    const b = spawnWorker(tmp.url, 'wb', 1, { TRELLIS_DEMO_URL: `${base}/w/B` });
    workers.push(b);
    await b.ready;
    // B takes over once A's job heartbeat and lease have run out.
    while (!seen.some((s) => s.who === 'B')) {
      if (Date.now() - pausedAt > TAKEOVER_BOUND_MS * 2) throw new Error('no takeover');
      await sleep(100);
    }
    const takeoverMs = seen.find((s) => s.who === 'B')!.at - pausedAt;
    killGroup(a, 'SIGCONT');
    const continuedAt = Date.now();
    const out = await Promise.race([
      rt.dispatcher.settled(runId),
      sleep(60_000).then(() => {
        throw new Error(`run did not finish; A: ${a.output.join('')} B: ${b.output.join('')}`);
      }),
    ]);
    expect(out?.status).toBe('succeeded');
    await sleep(3_000); // A had time to do whatever it would do
    const fromA = seen.filter((s) => s.who === 'A' && s.at >= continuedAt);
    const steps = await db.sql.query<{ nodeId: string; status: string; n: number }>(
      `SELECT "nodeId", status, count(*)::int AS n FROM "Step" WHERE "runId" = $1 GROUP BY "nodeId", status`,
      [runId],
    );
    const run = await db.sql.query<{ status: string; leaseOwner: string }>(
      `SELECT status, "leaseOwner" FROM "Run" WHERE id = $1`,
      [runId],
    );
    console.log(
      `[lease] takeover ${takeoverMs} ms after SIGSTOP; requests A ${seen.filter((s) => s.who === 'A').length}, B ${seen.filter((s) => s.who === 'B').length}, A after SIGCONT ${fromA.length}; A log: ${
        a.output
          .join('')
          .match(/lease lost[^\n]*/g)
          ?.join(' | ') ?? '-'
      }`,
    );
    expect(fromA).toHaveLength(0);
    expect(run[0].status).toBe('succeeded');
    expect(run[0].leaseOwner).toContain('wb');
    for (const s of steps.filter((x) => x.status === 'succeeded')) expect(s.n).toBe(1);
    expect(steps.filter((x) => x.status === 'succeeded')).toHaveLength(STEPS + 1);
    // A paused between a trace batch's INSERT and its COMMIT must not commit that batch on SIGCONT:
    // no attempt of A's is left `running` beside B's (the fence holds at COMMIT).
    expect(steps.filter((x) => x.status === 'running')).toEqual([]);
  }, 120_000);
});
