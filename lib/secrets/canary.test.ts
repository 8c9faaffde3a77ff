import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { openDb, type Db } from '@/lib/db/client';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { tempDataDir } from '@/lib/db/testing/databases';
import { createEngine, type Engine } from '@/lib/engine/engine';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { hostEngineOptions } from '@/lib/server/runtime';
import { toErrorResponse } from '@/lib/server/route';
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
const secrets: Record<string, string> = {};
const logs: string[] = [];
const restore: (() => void)[] = [];

function forms(v: string): string[] {
  const b = Buffer.from(v);
  const out = [
    v,
    encodeURI(v),
    encodeURIComponent(v),
    encodeURIComponent(v).replace(/%20/g, '+'),
    JSON.stringify(v).slice(1, -1),
  ];
  for (const k of [0, 1, 2]) {
    const enc = Buffer.concat([Buffer.alloc(k), b]).toString('base64');
    const frag = enc.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + b.length)) / 6));
    out.push(frag, frag.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...new Set(out)];
}

function hits(text: string): string[] {
  const found: string[] = [];
  for (const [name, v] of Object.entries(secrets))
    for (const f of forms(v)) if (text.includes(f)) found.push(`${name}:${f}`);
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
  const secretStore = new SecretStore(db.prisma, { key: () => Buffer.alloc(32, 7) });
  for (const [k, v] of Object.entries(secrets)) await secretStore.set(k, v);
  const host = hostEngineOptions(db, {});
  // No store redactor: the host engine options mask every payload (one pass), as in production.
  store = new SqlTraceStore(db);
  engine = createEngine({ store, ...host, secrets: () => secretStore.values() });
}, 120_000);

afterAll(async () => {
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
          node('l', 'llm', { prompt: `Say ${s(12)} and ${s(13)}` }),
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
});
