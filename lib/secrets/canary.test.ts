import { secretForms } from './testing/secret-forms';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { openDb, type Db } from '@/lib/db/client';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { tempDataDir } from '@/lib/db/testing/databases';
import { createEngine, type Engine } from '@/lib/engine/engine';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { createRuntime, hostEngineOptions, hostTraceStoreOptions, type Runtime } from '@/lib/server/runtime';
import { toErrorResponse } from '@/lib/server/route';
import { getRun, runEvents, startRun } from '@/lib/server/runs';
import { getWorkflow } from '@/lib/server/workflows';
import { receiveWebhook, webhookInfo, WEBHOOK_SECRET_HEADER } from '@/lib/server/hooks';
import { createWorkflow } from '@/lib/db/repositories/workflows';
import { runCommand } from '@/cli/run';
import type { EngineEvent } from '@/lib/engine/events';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { TrellisError } from '@/lib/workflow/errors';
import { installConsoleRedaction, secretRedactor } from './redact';
import { SecretStore } from './store';

// The canary: 20 random secrets go through every way out we know of — HTTP request and response
// (raw, base64 Basic auth, URL-encoded), thrown errors, code-node output, an LLM answer and an
// agent's tool call — and afterwards no table of the database and no line of the captured console
// output holds any of them in any encoding.

export const CANARY_SECRETS = 20;

const tmp = tempDataDir('trellis-canary-');
let db: Db;
let engine: Engine;
let store: SqlTraceStore;
let echo: LocalServer;
let llm: MockLlmServer;
let rt: Runtime | undefined;
const RUNTIME_KEY = Symbol.for('trellis.runtime');
const SECRET_KEY = Buffer.alloc(32, 7);
const secrets: Record<string, string> = {};
const logs: string[] = [];
const restore: (() => void)[] = [];

function hits(text: string): string[] {
  const found: string[] = [];
  for (const [name, v] of Object.entries(secrets))
    for (const f of secretForms(v)) if (text.includes(f)) found.push(`${name}:${f}`);
  return found;
}

const node = (id: string, type: string, config: unknown, extra: Record<string, unknown> = {}) => ({
  id,
  type,
  position: { x: 0, y: 0 },
  config,
  ...extra,
});
const chain = (name: string, nodes: ReturnType<typeof node>[]): WorkflowDefinition =>
  ({
    schemaVersion: 1,
    name,
    nodes,
    edges: nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i].id, target: n.id })),
  }) as WorkflowDefinition;

beforeAll(async () => {
  for (let i = 0; i < CANARY_SECRETS; i++) {
    // Some with spaces and URL/base64-significant characters, so every encoding differs from raw.
    secrets[`S${i}`] =
      i % 3 === 0 ? `p@ss w/rd+${randomBytes(6).toString('hex')}&=?` : randomBytes(12).toString('base64url');
  }
  // Capture what reaches the console sink (under the redaction layer installed next), which is
  // what the server's log collector would receive.
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[m];
    console[m] = (...args: unknown[]) => {
      logs.push(
        args.map((a) => (typeof a === 'string' ? a : (JSON.stringify(a) ?? String(a)))).join(' ') + '\n',
      );
      original(...args);
    };
    restore.push(() => (console[m] = original));
  }
  installConsoleRedaction();

  echo = await startLocalServer((req, res) => {
    // Echoes everything it was sent, in the forms a real API might (JSON, base64).
    const status = req.url.startsWith('/fail') ? 500 : 200;
    res.writeHead(status, { 'content-type': 'application/json', 'x-echo': req.url });
    res.end(
      JSON.stringify({
        url: req.url,
        auth: req.headers.authorization,
        key: req.headers['x-api-key'],
        body: req.body,
        b64: Buffer.from(req.url + String(req.headers['x-api-key'])).toString('base64'),
      }),
    );
  });
  llm = await startMockLlmServer();
  process.env.OPENAI_BASE_URL = llm.baseURL;
  process.env.OPENAI_API_KEY = 'test';

  db = await openDb({ dataDir: tmp.dir });
  // The runtime, the CLI and this store read the same key (TRELLIS_SECRET_KEY).
  process.env.TRELLIS_SECRET_KEY = SECRET_KEY.toString('hex');
  const secretStore = new SecretStore(db.prisma, { key: () => SECRET_KEY });
  for (const [k, v] of Object.entries(secrets)) await secretStore.set(k, v);
  const host = hostEngineOptions(db, {});
  // No store redactor: the host engine options mask every payload (one pass), as in production.
  store = new SqlTraceStore(db, hostTraceStoreOptions());
  engine = createEngine({ store, ...host, secrets: () => secretStore.values() });
}, 120_000);

afterAll(async () => {
  delete (globalThis as Record<symbol, unknown>)[RUNTIME_KEY];
  await rt?.dispatcher.close?.();
  delete process.env.TRELLIS_SECRET_KEY;
  for (const r of restore) r();
  await store?.close();
  await db?.close();
  await echo?.close();
  await llm?.close();
  tmp.remove();
});

describe('secret canary', () => {
  it(`runs workflows that echo ${CANARY_SECRETS} secrets, then finds none in the database or the logs`, async () => {
    const allow = [`127.0.0.1:${echo.port}`];
    const s = (i: number) => `{{ secrets.S${i} }}`;
    const outcomes = [];

    // 1. HTTP: secrets in the query, a header, Basic auth and the body; the server echoes them back.
    outcomes.push(
      await engine.runToCompletion({
        definition: chain('http echo', [
          node('t', 'trigger.manual', {}),
          node('h', 'http.request', {
            method: 'POST',
            url: `${echo.url}/echo?a=${s(0)}&b=${s(1)}`,
            headers: { 'x-api-key': s(2), authorization: `Bearer ${s(3)}` },
            body: { note: `${s(4)} and ${s(5)}` },
            responseType: 'json',
            allowHosts: allow,
          }),
          node('o', 'output', { value: { echoed: '{{ steps.h.output }}', again: s(6) } }),
        ]),
        input: {},
      }),
    );
    // 2. Errors: an HTTP 500 echoing the secret, and a code node that throws it.
    outcomes.push(
      await engine.runToCompletion({
        definition: chain('http error', [
          node('t', 'trigger.manual', {}),
          node('h', 'http.request', { method: 'GET', url: `${echo.url}/fail?k=${s(7)}`, allowHosts: allow }),
        ]),
        input: {},
      }),
    );
    outcomes.push(
      await engine.runToCompletion({
        definition: chain('code error', [
          node('t', 'trigger.manual', {}),
          node('c', 'code', {
            code: "throw new Error('leak ' + secrets.S8 + ' ' + encodeURIComponent(secrets.S9))",
          }),
        ]),
        input: {},
      }),
    );
    // 3. Code-node output, including every secret at once.
    outcomes.push(
      await engine.runToCompletion({
        definition: chain('code output', [
          node('t', 'trigger.manual', {}),
          node('c', 'code', {
            code: 'return { one: secrets.S10, all: Object.values(secrets).join("|"), enc: encodeURIComponent(secrets.S11) };',
          }),
        ]),
        input: {},
      }),
    );
    // 4. LLM: the model echoes a prompt holding a secret; an agent calls its http tool with one.
    outcomes.push(
      await engine.runToCompletion({
        definition: chain('llm echo', [
          node('t', 'trigger.manual', {}),
          // The owner allows it (allowSecretsInPrompt); without it the prompt renders no secret.
          node('l', 'llm', { prompt: `Say ${s(12)} and ${s(13)}`, allowSecretsInPrompt: true }),
        ]),
        input: {},
      }),
    );
    outcomes.push(
      await engine.runToCompletion({
        definition: chain('agent tool call', [
          node('t', 'trigger.manual', {}),
          // An agent sees its step input: the URL with the secrets arrives there.
          node('p', 'transform', { value: { note: `Fetch ${echo.url}/tool?k=${s(14)}&j=${s(15)} please` } }),
          node(
            'l',
            'llm',
            { model: 'scenario:follow-links', prompt: '{{ input.note }}' },
            {
              mode: 'agent',
              agent: { tools: ['http'], allowHosts: allow, maxSteps: 4, fallback: 'deterministic' },
            },
          ),
          node('x', 'transform', { value: { rest: [s(16), s(17), s(18), s(19)] } }),
        ]),
        input: {},
      }),
    );
    // 5. The server's own logs: an unhandled route error carrying secrets, and a plain console line.
    toErrorResponse(new Error(`db said ${secrets.S0} / ${encodeURIComponent(secrets.S3)}`));
    console.error('[trellis] request failed', {
      header: `Bearer ${secrets.S3}`,
      b64: Buffer.from(secrets.S2).toString('base64'),
    });
    toErrorResponse(new TrellisError('http_error', `upstream ${secrets.S1}`));
    await store.flush();

    // The secrets really went out (otherwise the canary proves nothing).
    expect(outcomes.map((o) => o.status)).toEqual([
      'succeeded',
      'failed',
      'failed',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    const seen = echo.requests.map((r) => r.url + JSON.stringify(r.headers) + r.body).join('\n');
    expect(decodeURIComponent(seen)).toContain(secrets.S0);
    expect(seen).toContain(secrets.S2);
    const toolCall = echo.requests.find((r) => r.url.startsWith('/tool'));
    expect(toolCall, 'the agent called the http tool').toBeDefined();
    expect(decodeURIComponent(toolCall!.url)).toContain(secrets.S14);
    expect(JSON.stringify(llm.requests.map((r) => r.body))).toContain(secrets.S12);
    // The search itself finds them where they are expected to be (the echo server saw them all).
    const sent = new Set(hits(JSON.stringify(echo.requests)).map((h) => h.split(':')[0]));
    for (const n of ['S0', 'S2', 'S3', 'S4', 'S7', 'S14']) expect(sent).toContain(n);

    // Every table, every row, as text.
    const tables = await db.sql.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    let dump = '';
    let rows = 0;
    for (const { table_name } of tables) {
      const r = await db.sql.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM "${table_name}" t`,
      );
      rows += r.length;
      dump += r.map((x) => x.row).join('\n');
    }
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['Step', 'Run', 'AgentTurn', 'Secret']),
    );
    expect(rows).toBeGreaterThan(20);
    expect(dump).toContain('[REDACTED]');
    const agentTurns = await db.prisma.agentTurn.count();
    expect(agentTurns).toBeGreaterThan(0);

    const log = logs.join('');
    expect(log).toContain('[trellis] request failed');
    const dbHits = hits(dump);
    const logHits = hits(log);
    console.info(
      `[canary] ${CANARY_SECRETS} secrets, ${tables.length} tables, ${rows} rows, ${log.length} log chars: ${dbHits.length + logHits.length} hits`,
    );
    expect(dbHits).toEqual([]);
    expect(logHits).toEqual([]);
    expect(secretRedactor().size).toBeGreaterThan(CANARY_SECRETS);
  });

  it('reads every exit — run.finished, SSE, webhook reply, wait:true, CLI, export, errors, logs — and finds none', async () => {
    rt = await createRuntime({ db, dispatch: 'in-process', seed: false });
    (globalThis as Record<symbol, unknown>)[RUNTIME_KEY] = Promise.resolve(rt);
    const events: EngineEvent[] = [];
    rt.engine.subscribe((ev) => void events.push(ev));
    const exits: Record<string, string> = {};

    // A step that returns secrets (raw and URL-encoded) into the run output, and one that fails
    // with them in its error message.
    const leakCode =
      'return { raw: secrets.S0, enc: encodeURIComponent(secrets.S1), both: secrets.S2 + "|" + secrets.S3 };';
    const leaking = chain('exits', [
      node('t', 'trigger.manual', {}),
      node('c', 'code', { code: leakCode }),
      node('o', 'output', { value: '{{ steps.c.output }}' }),
    ]);
    const failing = chain('exits failing', [
      node('t', 'trigger.manual', {}),
      node('c', 'code', {
        code: "throw new Error('boom ' + secrets.S4 + ' ' + encodeURIComponent(secrets.S5))",
      }),
    ]);
    const hook = chain('exits hook', [
      node('t', 'trigger.webhook', {}),
      node('c', 'code', { code: leakCode }),
      node('o', 'output', { value: '{{ steps.c.output }}' }),
    ]);
    const wf = await createWorkflow(db.prisma, { name: 'exits', definition: leaking });
    const wfFail = await createWorkflow(db.prisma, { name: 'exits failing', definition: failing });
    const wfHook = await createWorkflow(db.prisma, { name: 'exits hook', definition: hook });
    const post = (body: unknown) =>
      new Request('http://x/api/runs', {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });

    // wait: true answers (success and failure: error messages).
    const waited = await startRun({ req: post({ wait: true }), params: { id: wf.id } });
    exits.waitOk = await waited.text();
    const waitedFail = await startRun({ req: post({ wait: true }), params: { id: wfFail.id } });
    exits.waitFailed = await waitedFail.text();
    const ok = JSON.parse(exits.waitOk) as { run: { id: string; output: Record<string, string> } };
    // The secrets were really there: masked in place.
    expect(ok.run.output).toMatchObject({ raw: '[REDACTED]', enc: '[REDACTED]' });
    expect(exits.waitFailed).toContain('boom [REDACTED]');

    // The SSE stream of a run, from its start to its end.
    const started = await startRun({ req: post({}), params: { id: wf.id } });
    const { runId: sseRun } = (await started.json()) as { runId: string };
    const sse = await runEvents({
      req: new Request(`http://x/api/runs/${sseRun}/events`),
      params: { id: sseRun },
    });
    exits.sse = await sse.text();
    expect(exits.sse).toContain('[REDACTED]');
    exits.getRun = await (
      await getRun({ req: new Request(`http://x/api/runs/${ok.run.id}`), params: { id: ok.run.id } })
    ).text();

    // The webhook reply (embedded mode) is what server mode answers: the stored run output.
    const hookSecret = (await webhookInfo(db, wfHook.id, hook))!.secret;
    const reply = await receiveWebhook({
      req: new Request(`http://x/api/hooks/${wfHook.id}`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json', [WEBHOOK_SECRET_HEADER]: hookSecret },
      }),
      params: { workflowId: wfHook.id },
    });
    exits.webhook = await reply.text();
    const hooked = JSON.parse(exits.webhook) as { runId: string; output: unknown };
    expect(hooked.output).toMatchObject({ raw: '[REDACTED]' });
    expect(hooked.output).toEqual((await rt.store.getRun(hooked.runId))!.output);

    // The CLI, plain and --json, success and failure.
    const cliLines: string[] = [];
    const io = { log: (l: string) => void cliLines.push(l), error: (l: string) => void cliLines.push(l) };
    for (const [name, d] of [
      ['ok.json', leaking],
      ['fail.json', failing],
    ] as const) {
      const file = path.join(tmp.dir, name);
      writeFileSync(file, JSON.stringify(d));
      await runCommand(file, { db }, io);
      await runCommand(file, { db, json: true }, io);
    }
    exits.cli = cliLines.join('\n');
    expect(exits.cli).toContain('[REDACTED]');

    // Exports: the saved workflows as the editor downloads them.
    for (const w of [wf, wfFail, wfHook])
      exits[`export:${w.id}`] = await (await getWorkflow({ params: { id: w.id } } as never)).text();

    await rt.store.flush();
    exits.events = JSON.stringify(events);
    expect(events.some((e) => e.type === 'run.finished')).toBe(true);
    exits.logs = logs.join('');

    const found = Object.entries(exits).flatMap(([exit, text]) => hits(text).map((h) => `${exit}: ${h}`));
    console.info(
      `[canary] exits read: ${Object.keys(exits).length} (${Object.keys(exits).join(', ')}): ${found.length} hits`,
    );
    expect(found).toEqual([]);
  });
});
