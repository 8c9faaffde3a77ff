import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrellisError } from '@/lib/workflow/errors';
import {
  httpRequest,
  httpRequestConfig,
  idempotencyKey,
  type HttpRequestConfig,
} from '@/lib/nodes/http-request';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '@/lib/net/limits';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { nodeContext } from '@/lib/nodes/testing/node-context';

let api: LocalServer;
let allow: string[];

beforeAll(async () => {
  api = await startLocalServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/text')
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('plain words');
    if (u.pathname === '/not-json')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{oops');
    if (u.pathname === '/status') {
      const code = Number(u.searchParams.get('code'));
      return void res
        .writeHead(code, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: `status ${code}` }));
    }
    if (u.pathname === '/big') return void res.writeHead(200).end('b'.repeat(4096));
    if (u.pathname === '/hang') return; // never answers
    res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'local' });
    res.end(
      JSON.stringify({
        method: req.method,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: req.body,
      }),
    );
  });
  allow = [`127.0.0.1:${api.port}`];
});
afterAll(() => api.close());

const cfg = (c: Partial<HttpRequestConfig> & { url: string }): HttpRequestConfig =>
  httpRequestConfig.parse({ allowHosts: allow, ...c });

async function run(c: HttpRequestConfig, opts: Parameters<typeof nodeContext>[1] = {}) {
  const r = await httpRequest.run(nodeContext(c, opts));
  if (r.kind !== 'done') throw new Error('expected done');
  return r.output as { status: number; headers: Record<string, string>; body: Record<string, unknown> };
}

describe('http.request node', () => {
  it('GETs with rendered url, query and headers, and parses JSON', async () => {
    const out = await run(
      cfg({
        url: `${api.url}/items/{{ input.id }}`,
        query: { q: '{{ input.term }}', page: 2, flag: true },
        headers: { 'x-token': 'tok-{{ input.id }}' },
      }),
      { input: { id: 'abc', term: 'a b&c' } },
    );
    expect(out.status).toBe(200);
    expect(out.headers['x-served-by']).toBe('local');
    expect(out.body.path).toBe('/items/abc');
    expect(out.body.query).toEqual({ q: 'a b&c', page: '2', flag: 'true' });
    expect((out.body.headers as Record<string, string>)['x-token']).toBe('tok-abc');
    expect((out.body.headers as Record<string, string>)['idempotency-key']).toBeUndefined();
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)(
    '%s sends a JSON body built from the template',
    async (method) => {
      const out = await run(
        cfg({ method, url: `${api.url}/x`, body: { name: '{{ input.name }}', n: '{{ input.n }}' } }),
        {
          input: { name: 'Ada', n: 3 },
        },
      );
      expect(out.body.method).toBe(method);
      expect(JSON.parse(out.body.body as string)).toEqual({ name: 'Ada', n: 3 }); // whole-expression keeps the number
      expect((out.body.headers as Record<string, string>)['content-type']).toBe('application/json');
    },
  );

  it('sends string bodies as text', async () => {
    const out = await run(cfg({ method: 'POST', url: `${api.url}/x`, body: 'hello {{ input.who }}' }), {
      input: { who: 'you' },
    });
    expect(out.body.body).toBe('hello you');
    expect((out.body.headers as Record<string, string>)['content-type']).toMatch(/^text\/plain/);
  });

  it('derives a stable Idempotency-Key from run, node and item for non-GET requests', async () => {
    const c = cfg({ method: 'POST', url: `${api.url}/x`, body: {} });
    const key = (o: Awaited<ReturnType<typeof run>>) =>
      (o.body.headers as Record<string, string>)['idempotency-key'];
    const a1 = await run(c, { runId: 'r1', attempt: 1, itemIndex: 0 });
    const a2 = await run(c, { runId: 'r1', attempt: 2, itemIndex: 0 });
    const other = await run(c, { runId: 'r1', attempt: 1, itemIndex: 1 });
    expect(key(a1)).toMatch(/^[0-9a-f]{64}$/);
    expect(key(a1)).toBe(key(a2));
    expect(key(a1)).toBe(idempotencyKey('r1', 'n1', 0));
    expect(key(other)).not.toBe(key(a1));
  });

  it('reads text, and falls back to text when JSON does not parse', async () => {
    expect((await run(cfg({ url: `${api.url}/text` }))).body).toBe('plain words');
    expect((await run(cfg({ url: `${api.url}/not-json`, responseType: 'json' }))).body).toBe('{oops');
    const asText = await run(cfg({ url: `${api.url}/x`, responseType: 'text' }));
    expect(typeof asText.body).toBe('string');
  });

  it.each([
    [404, false],
    [400, false],
    [429, true],
    [500, true],
    [503, true],
  ])('HTTP %i throws http_error (retryable: %s) carrying status and body', async (code, retryable) => {
    const err = await run(cfg({ url: `${api.url}/status?code=${code}` })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrellisError);
    const e = err as TrellisError;
    expect(e.code).toBe('http_error');
    expect(e.retryable).toBe(retryable);
    expect(e.details).toMatchObject({ status: code, body: { error: `status ${code}` } });
  });

  it('enforces maxResponseBytes', async () => {
    const err = (await run(cfg({ url: `${api.url}/big`, maxResponseBytes: 1000 })).catch(
      (e: unknown) => e,
    )) as TrellisError;
    expect(err.code).toBe('http_error');
    expect(err.message).toMatch(/exceeds 1000 bytes/);
    expect((await run(cfg({ url: `${api.url}/big`, maxResponseBytes: 5000 }))).body).toHaveLength(4096);
  });

  it(`times out through the node's timeoutMs (default ${DEFAULT_REQUEST_TIMEOUT_MS} ms) and the server sees the socket close`, async () => {
    const before = api.closedSockets;
    const err = (await run(cfg({ url: `${api.url}/hang` }), { node: { timeoutMs: 150 } }).catch(
      (e: unknown) => e,
    )) as TrellisError;
    expect(err.code).toBe('http_error');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/no response within 150 ms/);
    await expect.poll(() => api.closedSockets).toBeGreaterThan(before);
  });

  it('cancellation from the engine signal aborts the request and passes the reason through', async () => {
    const ac = new AbortController();
    const p = run(cfg({ url: `${api.url}/hang` }), { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('cancelled by test')), 50);
    await expect(p).rejects.toThrow('cancelled by test');
  });

  it('refuses loopback without an allow-list, with the reason', async () => {
    const err = (await run(httpRequestConfig.parse({ url: `${api.url}/x` })).catch(
      (e: unknown) => e,
    )) as TrellisError;
    expect(err.code).toBe('ssrf_blocked');
    expect(err.message).toBe('refused 127.0.0.1: loopback address');
    // The host the editor's "allow this host" fix adds to allowHosts.
    expect(err.details).toMatchObject({ host: `127.0.0.1:${api.port}`, allowable: true });
  });

  it('uses services.fetch when the engine provides one', async () => {
    const seen: string[] = [];
    const out = await run(httpRequestConfig.parse({ url: 'https://example.test/a', query: { b: 1 } }), {
      services: {
        fetch: async (url) => {
          seen.push(url);
          return new Response('{"ok":true}', { status: 201 });
        },
      },
    });
    expect(seen).toEqual(['https://example.test/a?b=1']);
    expect(out).toMatchObject({ status: 201, body: { ok: true } });
  });

  it('exposes metadata for the editor and an agent tool without the allow-list', () => {
    expect(httpRequest.type).toBe('http.request');
    expect(httpRequest.group).toBe('Data');
    expect(httpRequest.agentCapable).toBe(true);
    expect(httpRequestConfig.safeParse(httpRequest.defaultConfig).success).toBe(true);
    const tool = httpRequest.asTool!(cfg({ url: 'https://x.test' }));
    expect(tool.readOnly).toBe(true);
    expect(Object.keys((tool.parameters as { properties: object }).properties)).not.toContain('allowHosts');
    expect(httpRequest.asTool!(cfg({ url: 'https://x.test', method: 'POST' })).readOnly).toBe(false);
  });
});
