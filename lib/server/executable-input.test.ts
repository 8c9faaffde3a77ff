import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { getStep } from '@/lib/db/repositories/runs';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { createTempPostgres, postgresUrl, tempDataDir } from '@/lib/db/testing/databases';
import { createEngine } from '@/lib/engine/engine';
import { MAX_TRACE_FIELD_BYTES, REDACTED, isTruncated } from '@/lib/payload';
import { secretRedactor } from '@/lib/secrets/redact';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { MAX_WEBHOOK_BODY_BYTES, WEBHOOK_SECRET_HEADER, receiveWebhook, webhookInfo } from './hooks';
import { MAX_RUN_INPUT_BYTES } from './limits';
import { toErrorResponse } from './route';
import { startRun } from './runs';
import { createRuntime, hostEngineOptions, type Runtime } from './runtime';

// Issue 12 item 1: a run executes exactly the input that was accepted. The trace keeps a capped,
// masked copy (MAX_TRACE_FIELD_BYTES, secrets as [REDACTED]); the engine runs on the exact input,
// which is durable with the run (Run.executableInput), so another engine resumes on it too.

const KEY = Symbol.for('trellis.runtime');
const SECRET = 'sekret-value-4242';

const at = (x: number) => ({ x, y: 0 });
/** Output computed from the whole string: its length and its last characters. */
const measure = (trigger: string, path = 'input'): WorkflowDefinition => ({
  schemaVersion: 1,
  name: 'measure',
  nodes: [
    { id: 'in', type: trigger, position: at(0), config: {} },
    {
      id: 'out',
      type: 'output',
      position: at(200),
      config: {
        value: {
          len: `{{ ${path}.s.length }}`,
          tail: `{{ ${path}.s.slice(-4) }}`,
          isSecret: `{{ ${path}.s === ${JSON.stringify(SECRET)} }}`,
        },
      },
    },
  ],
  edges: [{ id: 'e', source: 'in', target: 'out' }],
});

/** A string of `bytes` JSON bytes (with its quotes and the object around it) ending in "TAIL". */
const big = (bytes: number) => ({ s: 'x'.repeat(bytes - 12) + 'TAIL' });

function suite(name: string, open: () => Promise<{ db: Db; cleanup(): Promise<void> }>) {
  describe(`executable input on ${name}`, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    let rt: Runtime;
    let child: string;

    beforeAll(async () => {
      ({ db, cleanup } = await open());
      rt = await createRuntime({ db, dispatch: 'in-process', seed: false });
      (globalThis as Record<symbol, unknown>)[KEY] = Promise.resolve(rt);
      // As reading a stored secret does (SecretStore.values), without a key for this database.
      secretRedactor().remember([SECRET]);
      child = (await createWorkflow(db.prisma, { name: 'child', definition: measure('trigger.manual') })).id;
    }, 120_000);
    afterAll(async () => {
      delete (globalThis as Record<symbol, unknown>)[KEY];
      await rt?.dispatcher.close?.();
      await rt?.store.close();
      await db?.close();
      await cleanup?.();
    });

    async function viaApi(definition: WorkflowDefinition, input: unknown) {
      const wf = await createWorkflow(db.prisma, { name: 'api', definition });
      const req = new Request(`http://x/api/workflows/${wf.id}/runs`, {
        method: 'POST',
        body: JSON.stringify({ input, wait: true }),
        headers: { 'content-type': 'application/json' },
      });
      const res = await startRun({ req, params: { id: wf.id } }).catch(toErrorResponse);
      expect(res.status).toBe(200);
      const { run } = (await res.json()) as { run: { id: string; status: string; output: unknown } };
      return { ...run, stored: await rt.store.getRun(run.id) };
    }

    it.each([
      ['300 KB', 300_000],
      ['1 MiB (the API limit)', MAX_RUN_INPUT_BYTES],
    ])('a %s input through the API runs whole; the trace holds a capped copy', async (_, bytes) => {
      const input = big(bytes);
      expect(JSON.stringify(input).length).toBe(bytes);
      const run = await viaApi(measure('trigger.manual'), input);
      expect(run.status).toBe('succeeded');
      expect(run.output).toEqual({ len: input.s.length, tail: 'TAIL', isSecret: false });
      expect(isTruncated(run.stored?.input)).toBe(true);
      expect(await rt.store.runInput(run.id)).toEqual(input);
    });

    it('an input string equal to a secret runs as itself and is masked in the trace', async () => {
      const run = await viaApi(measure('trigger.manual'), { s: SECRET });
      expect(run.output).toEqual({ len: SECRET.length, tail: SECRET.slice(-4), isSecret: true });
      expect(run.stored?.input).toEqual({ s: REDACTED });
      // The trace copies are masked; the exact outputs (the engine's, for resume) are never served.
      const steps = await rt.store.listSteps(run.id);
      expect(JSON.stringify(steps.map(({ executableOutput: _, ...trace }) => trace))).not.toContain(SECRET);
      for (const s of steps) {
        const served = await getStep(db.prisma, run.id, s.id);
        expect(served).not.toHaveProperty('executableOutput');
        expect(JSON.stringify(served)).not.toContain(SECRET);
      }
    });

    it('a webhook body at its size limit, holding a secret, runs whole', async () => {
      const def = measure('trigger.webhook');
      const wf = await createWorkflow(db.prisma, { name: 'hook', definition: def });
      const secret = (await webhookInfo(db, wf.id, def))!.secret;
      const input = { ...big(MAX_WEBHOOK_BODY_BYTES - 40), key: SECRET };
      const res = await receiveWebhook({
        req: new Request(`http://x/api/hooks/${wf.id}`, {
          method: 'POST',
          body: JSON.stringify(input),
          headers: { 'content-type': 'application/json', [WEBHOOK_SECRET_HEADER]: secret },
        }),
        params: { workflowId: wf.id },
      }).catch(toErrorResponse);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { runId: string; output: unknown };
      expect(body.output).toEqual({ len: input.s.length, tail: 'TAIL', isSecret: false });
      expect(await rt.store.runInput(body.runId)).toEqual(input);
      expect((await rt.store.getRun(body.runId))?.input).toMatchObject({ key: REDACTED });
    });

    it('a subworkflow gets the whole 300 KB input, and a secret-equal string as itself', async () => {
      const parent: WorkflowDefinition = {
        schemaVersion: 1,
        name: 'parent',
        nodes: [
          { id: 'in', type: 'trigger.manual', position: at(0), config: {} },
          {
            id: 'sub',
            type: 'subworkflow',
            position: at(200),
            config: { workflowId: child, input: '{{ input }}' },
          },
          { id: 'out', type: 'output', position: at(400), config: { value: '{{ steps.sub.output }}' } },
        ],
        edges: [
          { id: 'e', source: 'in', target: 'sub' },
          { id: 'f', source: 'sub', target: 'out' },
        ],
      };
      const input = big(300_000);
      const run = await viaApi(parent, input);
      expect(run.output).toEqual({ len: input.s.length, tail: 'TAIL', isSecret: false });
      const [kid] = await rt.db.sql.query<{ id: string }>(`SELECT id FROM "Run" WHERE "parentRunId" = $1`, [
        run.id,
      ]);
      expect(isTruncated((await rt.store.getRun(kid.id))?.input)).toBe(true);
      expect(await rt.store.runInput(kid.id)).toEqual(input);

      const masked = await viaApi(parent, { s: SECRET });
      expect(masked.output).toMatchObject({ isSecret: true });
    });

    it('a map over a workflow gives each child its whole item (300 KB, secret-equal, just over the cap)', async () => {
      const def: WorkflowDefinition = {
        schemaVersion: 1,
        name: 'map',
        nodes: [
          { id: 'in', type: 'trigger.manual', position: at(0), config: {} },
          {
            id: 'm',
            type: 'map',
            position: at(200),
            config: { items: 'input.items', workflowId: child, concurrency: 2 },
          },
          { id: 'out', type: 'output', position: at(400), config: { value: '{{ steps.m.output }}' } },
        ],
        edges: [
          { id: 'e', source: 'in', target: 'm' },
          { id: 'f', source: 'm', target: 'out' },
        ],
      };
      const items = [big(300_000), { s: SECRET }, big(MAX_TRACE_FIELD_BYTES + 10)];
      const run = await viaApi(def, { items });
      expect(run.status).toBe('succeeded');
      expect(run.output).toEqual(
        items.map((i) => ({ len: i.s.length, tail: i.s.slice(-4), isSecret: i.s === SECRET })),
      );
    });

    it('another engine over the same database executes the run on the exact input', async () => {
      const wf = await createWorkflow(db.prisma, { name: 'other', definition: measure('trigger.manual') });
      const input = big(400_000);
      const runId = await rt.engine.startRun({
        definition: measure('trigger.manual'),
        workflowId: wf.id,
        input,
        trigger: 'manual',
      });
      const store = new SqlTraceStore(db);
      const other = createEngine({ store, ...hostEngineOptions(db, {}) });
      const out = await other.executeRun(runId);
      await store.close();
      expect(out.output).toEqual({ len: input.s.length, tail: 'TAIL', isSecret: false });
    });
  });
}

suite('PGlite', async () => {
  const tmp = tempDataDir();
  return { db: await openDb({ dataDir: tmp.dir }), cleanup: async () => tmp.remove() };
});

if (postgresUrl) {
  suite('Postgres', async () => {
    const pg = await createTempPostgres('execinput');
    return { db: await openDb({ databaseUrl: pg.url }), cleanup: () => pg.drop() };
  });
}
