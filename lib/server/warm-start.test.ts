import http from 'node:http';
import pg from 'pg';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatements } from '@/lib/db/testing/statement-counter';
import { SecretStore } from '@/lib/secrets/store';
import { tempDataDir } from '@/lib/db/testing/databases';
import { SANDBOX_WARM_WORKERS, sandboxStats, shutdownSandbox } from '@/lib/sandbox';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { openDb } from '@/lib/db/client';
import { pgAvailable, tempQueueDb } from '@/lib/queue/testing/queue-db';
import { createRuntime, getRuntime, type Runtime } from './runtime';
import { closeProcessRuntime, loadRoute, callJson } from './testing/route-harness';
import { WARM_ROUTE_TIMEOUT_MS, warmExecutePath, warmWebhookRoute } from './warm-up';

// Issue 21 (no cold start): the web process warms the sandbox before /api/health answers, so the
// first run after "ready" starts no sandbox worker (counted, not timed). The worker process warms
// before it takes its first job (cli/worker.ts).

const def: WorkflowDefinition = {
  schemaVersion: 1,
  name: 'warm',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    { id: 't', type: 'transform', position: { x: 0, y: 100 }, config: { value: '{{ input.n + 1 }}' } },
    { id: 'out', type: 'output', position: { x: 0, y: 200 }, config: { value: '{{ steps.t.output }}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 't' },
    { id: 'e2', source: 't', target: 'out' },
  ],
} as WorkflowDefinition;

/** One manual run of `definition` through rt's dispatcher, to its end: its output. */
async function runOnce(rt: Runtime, input: object, definition: WorkflowDefinition = def) {
  const runId = await rt.engine.startRun({
    definition,
    workflowId: null,
    versionId: null,
    version: 1,
    input,
    trigger: 'manual',
  });
  await rt.dispatcher.enqueue(runId);
  return (await rt.dispatcher.settled(runId))?.output;
}

/** A server standing in for `next start`: it records the requests and answers after `delayMs`. */
async function recorder(delayMs: number) {
  const seen: { method: string; url: string; answered: boolean }[] = [];
  const server = http.createServer((req, res) => {
    const hit = { method: req.method ?? '', url: req.url ?? '', answered: false };
    seen.push(hit);
    req.resume();
    setTimeout(() => {
      hit.answered = true;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{}');
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    seen,
    origin,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

describe('no cold start (embedded web process)', () => {
  const tmp = tempDataDir('trellis-warm-start-');
  const saved = { ...process.env };
  beforeAll(async () => {
    // A sandbox that has never run (each test file has its own process; this makes it explicit).
    await shutdownSandbox();
    delete process.env.DATABASE_URL;
    process.env.TRELLIS_DATA_DIR = tmp.dir;
  });
  afterAll(async () => {
    await closeProcessRuntime();
    process.env = saved;
    tmp.remove();
  });

  it('has its sandbox workers up when /api/health answers, and the first run starts none', async () => {
    const { GET } = await loadRoute('health');
    // Under `next start` (which publishes its address) health answers once the webhook route has.
    const srv = await recorder(50);
    process.env.__NEXT_PRIVATE_ORIGIN = srv.origin;
    const health = await callJson(GET, '/api/health');
    await srv.close();
    expect(health.status).toBe(200);
    expect(srv.seen.map((h) => [h.url, h.answered])).toEqual([
      ['/api/hooks/00000000-0000-0000-0000-000000000000', true],
    ]);
    expect(sandboxStats().spawned).toBe(SANDBOX_WARM_WORKERS);
    // The rest of a run's path was warmed too (warm-up.ts): the warm-up workflow's expressions
    // has been evaluated (its output is a plain reference, read without the sandbox), and it left
    // no run behind.
    expect(sandboxStats().tasks).toBe(1);

    const rt = await getRuntime();
    const [{ runs }] = await rt.db.sql.query<{ runs: number }>(`SELECT count(*)::int AS runs FROM "Run"`);
    expect(runs).toBe(0);
    // The stored secrets were read by the warm-up run, with the engine's own reader: the first run
    // reads none (in embedded mode they stay in memory until a secret changes).
    const log = countStatements();
    log.start();
    expect(await runOnce(rt, { n: 41 })).toBe(42);
    log.stop();
    log.uninstall();
    expect(log.statements.filter((q) => q.includes('"Secret"'))).toEqual([]);
    expect(sandboxStats().spawned).toBe(SANDBOX_WARM_WORKERS);
  }, 180_000);

  it('still reads a secret stored after the warm-up (the kept values are dropped on change)', async () => {
    const rt = await getRuntime();
    await new SecretStore(rt.db.prisma).set('WARM_TOKEN', 'warm-secret-value');
    const readsSecret = {
      ...def,
      nodes: def.nodes.map((n) =>
        n.id === 't' ? { ...n, config: { value: '{{ secrets.WARM_TOKEN.length }}' } } : n,
      ),
    } as WorkflowDefinition;
    expect(await runOnce(rt, {}, readsSecret)).toBe('warm-secret-value'.length);
  }, 60_000);
});

describe('the warm-up run', () => {
  it('runs the webhook → expression → output path in memory and answers its output', async () => {
    expect(await warmExecutePath()).toEqual({ v: 42 });
  });
});

/** Sessions opened and statements sent by every pg client of the process until stop(). */
function recordPg() {
  const { query, connect } = pg.Client.prototype;
  const seen = { connects: 0, statements: [] as string[], stop: () => {} };
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
    seen.statements.push(String(text));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  pg.Client.prototype.connect = function (this: pg.Client, ...args: unknown[]) {
    seen.connects++;
    return (connect as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof connect;
  seen.stop = () => Object.assign(pg.Client.prototype, { query, connect });
  return seen;
}

describe.skipIf(!pgAvailable)('no cold start (server-mode web process)', () => {
  // The web process drives the runs it has slots for (local-runs.ts): it must be as warm as a
  // worker when it says ready; with no slots it executes nothing and starts no sandbox.
  for (const slots of [2, 0]) {
    it(`with ${slots} web run slots: ${slots ? 'its sandbox is up before ready' : 'no sandbox is started'}`, async () => {
      await shutdownSandbox();
      const tmp = await tempQueueDb(`warmweb${slots}`);
      const db = await openDb({ databaseUrl: tmp.url });
      try {
        const rt = await createRuntime({ db, databaseUrl: tmp.url, seed: false, webRunSlots: slots });
        expect(sandboxStats().spawned).toBe(slots ? SANDBOX_WARM_WORKERS : 0);
        expect(sandboxStats().tasks).toBe(slots ? 1 : 0);
        if (slots) {
          // The first run driven here opens no session and reads no stored secret: the warm-up
          // opened its sessions and read the secrets with the reader runs use.
          const seen = recordPg();
          expect(await runOnce(rt, { n: 41 })).toBe(42);
          seen.stop();
          expect(seen.connects).toBe(0);
          expect(seen.statements.filter((q) => q.includes('"Secret"'))).toEqual([]);
        }
        await rt.dispatcher.close?.();
      } finally {
        await db.close();
        await tmp.drop();
      }
    }, 120_000);
  }
});

describe('the webhook route, warmed through the server before ready', () => {
  const fresh = () =>
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('trellis.warm-webhook-route')];

  it('posts once per process to a webhook of no workflow, and answers after the server did', async () => {
    fresh();
    const srv = await recorder(50);
    try {
      await warmWebhookRoute(srv.origin);
      await warmWebhookRoute(srv.origin);
      expect(srv.seen).toEqual([
        { method: 'POST', url: '/api/hooks/00000000-0000-0000-0000-000000000000', answered: true },
      ]);
    } finally {
      await srv.close();
    }
  });

  it('does not hold /api/health for a server that never answers', async () => {
    fresh();
    const srv = await recorder(WARM_ROUTE_TIMEOUT_MS * 10);
    try {
      // Resolves (the request times out) instead of failing health or waiting for the answer.
      await expect(warmWebhookRoute(srv.origin)).resolves.toBeUndefined();
      expect(srv.seen.map((h) => h.answered)).toEqual([false]);
    } finally {
      await srv.close();
    }
  }, 30_000);
});
