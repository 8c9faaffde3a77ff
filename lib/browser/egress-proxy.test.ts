import type dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { startEgressProxy, type EgressProxy } from './egress-proxy';
import { MAX_BROWSER_STEP_BYTES } from './limits';

// The egress proxy on its own, spoken to the way Chromium speaks to it (absolute-form requests for
// http, CONNECT for https). Real sockets on 127.0.0.1 only: names are answered by a stand-in DNS,
// and every address outside loopback is refused before a connection is tried.

type Answer = Array<{ address: string; family: 4 | 6 }>;

/** A DNS stand-in: each name has a list of answers, given out in turn (the last one repeats). */
function scriptedLookup(table: Record<string, Answer[]>) {
  const calls: string[] = [];
  const lookup = ((
    hostname: string,
    _opts: unknown,
    cb: (e: Error | null, a: dns.LookupAddress[]) => void,
  ) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) return cb(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    const n = calls.filter((c) => c === hostname).length;
    cb(null, answers[Math.min(n, answers.length) - 1]);
  }) as unknown as typeof dns.lookup;
  return { lookup, calls };
}

const v4 = (address: string): Answer => [{ address, family: 4 }];

type Reply = { status: number; body: string; bytes: number } | 'cut';

/** One plain-http request through the proxy (the body is counted, kept only when small). */
function viaProxy(proxy: EgressProxy, url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const p = new URL(proxy.server);
  return new Promise((resolve) => {
    const req = http.request({
      host: p.hostname,
      port: p.port,
      method: 'GET',
      path: url,
      headers: { host: new URL(url).host, ...headers },
      agent: false,
    });
    req.on('response', (res) => {
      let bytes = 0;
      const kept: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes < 4096) kept.push(c);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(kept).toString(), bytes }),
      );
      res.on('aborted', () => resolve('cut'));
      res.on('error', () => resolve('cut'));
    });
    req.on('error', () => resolve('cut'));
    req.end();
  });
}

/** CONNECT through the proxy; on success, sends a plain HTTP request down the tunnel. */
function tunnel(proxy: EgressProxy, authority: string): Promise<{ status: number; reply?: string }> {
  const p = new URL(proxy.server);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: p.hostname,
      port: p.port,
      method: 'CONNECT',
      path: authority,
      agent: false,
    });
    req.on('connect', (res, socket: net.Socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return resolve({ status: res.statusCode ?? 0 });
      }
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve({ status: 200, reply: Buffer.concat(chunks).toString() }));
      socket.write(`GET /through-tunnel HTTP/1.1\r\nhost: ${authority}\r\nconnection: close\r\n\r\n`);
    });
    req.on('error', reject);
    req.end();
  });
}

let target: LocalServer;
let other: LocalServer;
const proxies: EgressProxy[] = [];
const proxy = async (lookup?: typeof dns.lookup) => {
  const p = await startEgressProxy({ lookup });
  proxies.push(p);
  return p;
};

beforeAll(async () => {
  target = await startLocalServer((req, res) => {
    const n = Number(new URL(req.url, 'http://x').searchParams.get('bytes') ?? -1);
    if (n < 0) return res.end(`hello from ${req.url}`);
    res.writeHead(200, { 'content-length': String(n) });
    const chunk = Buffer.alloc(1024 * 1024);
    let left = n;
    const pump = () => {
      while (left > 0) {
        const part = chunk.subarray(0, Math.min(left, chunk.length));
        left -= part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  other = await startLocalServer((_req, res) => res.end('reached'));
});
afterAll(async () => {
  await Promise.all([target.close(), other.close()]);
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  target.requests.length = 0;
  other.requests.length = 0;
});

describe('egress proxy', () => {
  it('refuses every request until a step sets its rules', async () => {
    const p = await proxy();
    expect(await viaProxy(p, `${target.url}/`)).toBe('cut');
    expect(p.refusals).toEqual([{ url: `${target.url}/`, reason: 'the browser context has no step yet' }]);
    expect(target.requests).toHaveLength(0);
  });

  it('forwards to an allowed host without the proxy headers, and cuts the others with the reason recorded', async () => {
    const p = await proxy();
    p.setRules({ allowHosts: [`127.0.0.1:${target.port}`] });
    const ok = await viaProxy(p, `${target.url}/page?x=1`, {
      'proxy-authorization': 'Basic c2VjcmV0',
      'proxy-connection': 'keep-alive',
    });
    expect(ok).toMatchObject({ status: 200, body: 'hello from /page?x=1' });
    expect(target.requests[0].headers).not.toHaveProperty('proxy-authorization');
    expect(target.requests[0].headers).not.toHaveProperty('proxy-connection');

    expect(await viaProxy(p, `${other.url}/x`)).toBe('cut');
    expect(await viaProxy(p, 'http://169.254.169.254/latest/meta-data/')).toBe('cut');
    expect(p.refusals.map((r) => r.url)).toEqual([
      `${other.url}/x`,
      'http://169.254.169.254/latest/meta-data/',
    ]);
    expect(p.refusals.every((r) => /not in this node's allowHosts/.test(r.reason))).toBe(true);
    expect(other.requests).toHaveLength(0);
    expect(() => p.setRules({ allowHosts: ['anything'] })).toThrow(/once/);
  });

  it('without allowHosts, a pinned name that resolves to loopback (or to a mixed answer) is refused at connect time', async () => {
    const { lookup } = scriptedLookup({
      'rebind.test': [v4('127.0.0.1')],
      'mixed.test': [
        [
          { address: '93.184.216.34', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ],
      ],
    });
    for (const host of ['rebind.test', 'mixed.test']) {
      const p = await proxy(lookup);
      p.setRules({ pinHost: `${host}:${target.port}`, allowPrivate: false });
      const before = target.connections;
      expect(await viaProxy(p, `http://${host}:${target.port}/`)).toBe('cut');
      expect(p.refusals[0].reason).toMatch(new RegExp(`refused ${host} \\(127\\.0\\.0\\.1\\): .*loopback`));
      expect(target.connections).toBe(before);
    }
  });

  it('the address checked is the address connected: one lookup per connection, and a rebound answer is refused, not connected', async () => {
    // rebind.test exists only in this lookup: reaching the server proves the proxy connected to
    // the answer its own lookup gave. The second lookup "rebinds" to the metadata address.
    const { lookup, calls } = scriptedLookup({ 'rebind.test': [v4('127.0.0.1'), v4('169.254.169.254')] });
    const p = await proxy(lookup);
    p.setRules({ pinHost: `rebind.test:${target.port}`, allowPrivate: true });
    const before = target.connections;
    expect(await viaProxy(p, `http://rebind.test:${target.port}/first`)).toMatchObject({ status: 200 });
    expect(calls).toEqual(['rebind.test']);
    // A new connection (a tunnel always is one) resolves again; the rebound answer is refused.
    expect(await tunnel(p, `rebind.test:${target.port}`)).toEqual({ status: 403 });
    expect(calls).toEqual(['rebind.test', 'rebind.test']);
    expect(p.refusals.at(-1)?.reason).toMatch(/169\.254\.169\.254.*metadata/);
    expect(target.connections - before).toBe(1);
  });

  it('tunnels CONNECT to an allowed host and answers 403 for any other', async () => {
    const p = await proxy();
    p.setRules({ allowHosts: [`127.0.0.1:${target.port}`] });
    const ok = await tunnel(p, `127.0.0.1:${target.port}`);
    expect(ok.status).toBe(200);
    expect(ok.reply).toContain('hello from /through-tunnel');
    expect(await tunnel(p, `127.0.0.1:${other.port}`)).toEqual({ status: 403 });
    expect(p.refusals).toEqual([
      expect.objectContaining({
        url: `https://127.0.0.1:${other.port}/`,
        reason: expect.stringMatching(/allowHosts/),
      }),
    ]);
    expect(other.connections).toBe(0);
  });

  it(`MAX_BROWSER_STEP_BYTES (${MAX_BROWSER_STEP_BYTES}) from the network per step: the connection past it is cut, then every request is refused`, async () => {
    const p = await proxy();
    p.setRules({ allowHosts: [`127.0.0.1:${target.port}`] });
    expect(await viaProxy(p, `${target.url}/?bytes=${MAX_BROWSER_STEP_BYTES}`)).toMatchObject({
      status: 200,
      bytes: MAX_BROWSER_STEP_BYTES,
    });
    expect(p.bytesIn()).toBe(MAX_BROWSER_STEP_BYTES);
    expect(await viaProxy(p, `${target.url}/?bytes=1`)).toBe('cut');
    expect(await viaProxy(p, `${target.url}/after`)).toBe('cut');
    expect(target.requests.map((r) => r.url)).toEqual([`/?bytes=${MAX_BROWSER_STEP_BYTES}`, '/?bytes=1']);
    expect(p.refusals.map((r) => r.reason)).toEqual([
      expect.stringContaining('transfer budget'),
      expect.stringContaining('transfer budget'),
    ]);
  });
});
