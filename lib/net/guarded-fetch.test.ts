import type dns from 'node:dns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TrellisError } from '@/lib/workflow/errors';
import { guardedFetch } from '@/lib/net/guarded-fetch';
import { MAX_REDIRECTS, DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES } from '@/lib/net/limits';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';

// Real sockets on 127.0.0.1 only. Addresses outside 127.0.0.0/8 and ::1 are never contacted: the
// cases that would reach them are refused before connect, and the tests assert exactly that.

/** A DNS stand-in: names map to fixed answers, so "public" names can resolve to loopback. */
function fakeLookup(table: Record<string, Array<{ address: string; family: 4 | 6 }>>): typeof dns.lookup {
  return ((hostname: string, _opts: unknown, cb: (e: Error | null, a: dns.LookupAddress[]) => void) => {
    const answer = table[hostname];
    if (!answer) return cb(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    cb(null, answer);
  }) as unknown as typeof dns.lookup;
}

async function refused(p: Promise<unknown>): Promise<TrellisError> {
  const err = await p.then(
    () => {
      throw new Error('expected the request to be refused');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TrellisError);
  return err as TrellisError;
}

let target: LocalServer;
let redirector: LocalServer;
let redirectTo = '';

beforeAll(async () => {
  target = await startLocalServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ path: req.url, host: req.headers.host, auth: req.headers.authorization ?? null }),
    );
  });
  redirector = await startLocalServer((req, res) => {
    res.writeHead(302, { location: redirectTo });
    res.end();
  });
});
afterAll(async () => {
  await target.close();
  await redirector.close();
});
afterEach(() => {
  target.requests.length = 0;
  redirector.requests.length = 0;
});

describe('guardedFetch: refused by default', () => {
  const port = () => target.port;
  const cases = () => [
    `http://127.0.0.1:${port()}/`,
    `http://localhost:${port()}/`,
    `http://2130706433:${port()}/`,
    `http://0177.0.0.1:${port()}/`,
    `http://0x7f000001:${port()}/`,
    `http://127.1:${port()}/`,
    `http://x@127.0.0.1:${port()}/`,
    `http://[::ffff:127.0.0.1]:${port()}/`,
    `http://[::1]:${port()}/`,
    `http://0.0.0.0:${port()}/`,
  ];
  it('refuses every loopback spelling with the reason, and sends nothing', async () => {
    const before = target.connections;
    for (const url of cases()) {
      const err = await refused(guardedFetch(url, { allowPrivate: false }));
      expect(err.code, url).toBe('ssrf_blocked');
      expect(err.message, url).toMatch(/^refused .*(loopback|unspecified)/);
    }
    expect(target.connections).toBe(before);
    expect(target.requests).toHaveLength(0);
  });

  it('refuses non-http schemes', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/', 'gopher://127.0.0.1:70/_x']) {
      const err = await refused(guardedFetch(url, { allowPrivate: true }));
      expect(err.code).toBe('ssrf_blocked');
      expect(err.message).toMatch(/scheme .* is not allowed/);
    }
  });

  it('checks at DNS resolution: a name resolving to loopback is refused before connecting', async () => {
    const before = target.connections;
    const lookup = fakeLookup({ 'rebind.test': [{ address: '127.0.0.1', family: 4 }] });
    const err = await refused(
      guardedFetch(`http://rebind.test:${target.port}/`, { allowPrivate: false, lookup }),
    );
    expect(err.code).toBe('ssrf_blocked');
    expect(err.message).toBe('refused rebind.test (127.0.0.1): loopback address');
    expect(target.connections).toBe(before);
  });

  it('refuses when any DNS answer is private (mixed answers)', async () => {
    const lookup = fakeLookup({
      'mixed.test': [
        { address: '93.184.216.34', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
    });
    const err = await refused(guardedFetch('http://mixed.test/', { allowPrivate: false, lookup }));
    expect(err.code).toBe('ssrf_blocked');
    expect(err.message).toMatch(/metadata/);
  });

  it('checks every redirect: an allow-listed server redirecting elsewhere is refused', async () => {
    const allowHosts = [`127.0.0.1:${redirector.port}`];
    for (const to of [
      `http://127.0.0.1:${target.port}/x`,
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/',
      'file:///etc/passwd',
    ]) {
      redirectTo = to;
      const err = await refused(guardedFetch(`${redirector.url}/start`, { allowHosts }));
      expect(err.code, to).toBe('ssrf_blocked');
    }
    expect(redirector.requests).toHaveLength(4);
    expect(target.requests).toHaveLength(0);
  });

  it('checks every redirect under TRELLIS_HTTP_ALLOW_PRIVATE too (metadata stays closed)', async () => {
    redirectTo = 'http://169.254.169.254/latest/meta-data/';
    const err = await refused(guardedFetch(`${redirector.url}/`, { allowPrivate: true }));
    expect(err.message).toMatch(/refused 169\.254\.169\.254: cloud metadata endpoint/);
    redirectTo = 'http://metadata.google.internal/';
    expect((await refused(guardedFetch(`${redirector.url}/`, { allowPrivate: true }))).code).toBe(
      'ssrf_blocked',
    );
  });
});

describe('guardedFetch: allowed when explicitly permitted', () => {
  it('allows every loopback spelling with TRELLIS_HTTP_ALLOW_PRIVATE', async () => {
    const urls = [
      `http://127.0.0.1:${target.port}/a`,
      `http://localhost:${target.port}/a`,
      `http://2130706433:${target.port}/a`,
      `http://0177.0.0.1:${target.port}/a`,
      `http://0x7f000001:${target.port}/a`,
      `http://127.1:${target.port}/a`,
      `http://x@127.0.0.1:${target.port}/a`,
    ];
    for (const url of urls) {
      const res = await guardedFetch(url, { allowPrivate: true });
      expect(res.status, url).toBe(200);
    }
    expect(target.requests).toHaveLength(urls.length);
  });

  it('reads the environment variable', async () => {
    const prev = process.env.TRELLIS_HTTP_ALLOW_PRIVATE;
    try {
      process.env.TRELLIS_HTTP_ALLOW_PRIVATE = 'true';
      expect((await guardedFetch(`${target.url}/env`)).status).toBe(200);
      process.env.TRELLIS_HTTP_ALLOW_PRIVATE = '0';
      expect((await refused(guardedFetch(`${target.url}/env`))).code).toBe('ssrf_blocked');
    } finally {
      if (prev === undefined) delete process.env.TRELLIS_HTTP_ALLOW_PRIVATE;
      else process.env.TRELLIS_HTTP_ALLOW_PRIVATE = prev;
    }
  });

  it('allows an allow-listed host (host:port) and sends userinfo as Basic auth', async () => {
    const res = await guardedFetch(`http://user:p%40ss@127.0.0.1:${target.port}/b`, {
      allowHosts: [`127.0.0.1:${target.port}`],
      allowPrivate: false,
    });
    const body = (await res.json()) as { auth: string };
    expect(body.auth).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('allows an allow-listed name that resolves to loopback', async () => {
    const lookup = fakeLookup({ 'api.test': [{ address: '127.0.0.1', family: 4 }] });
    const res = await guardedFetch(`http://api.test:${target.port}/c`, { allowHosts: ['api.test'], lookup });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { host: string }).host).toBe(`api.test:${target.port}`);
  });

  it('allows [::1] and ::ffff:127.0.0.1 when permitted (where IPv6 loopback exists)', async () => {
    let v6: LocalServer | undefined;
    try {
      v6 = await startLocalServer((_req, res) => res.end('six'), '::1');
    } catch {
      return; // no IPv6 loopback on this machine; the decision itself is covered in ssrf.test.ts
    }
    try {
      const res = await guardedFetch(`http://[::1]:${v6.port}/`, { allowHosts: [`[::1]:${v6.port}`] });
      expect(await res.text()).toBe('six');
      expect((await refused(guardedFetch(`http://[::1]:${v6.port}/`))).message).toMatch(/loopback/);
    } finally {
      await v6.close();
    }
    const mapped = await guardedFetch(`http://[::ffff:127.0.0.1]:${target.port}/`, {
      allowPrivate: true,
    }).catch((e: Error) => e);
    // Some kernels refuse v4-mapped connects on a v4-only socket; what matters is that the guard let it through.
    if (mapped instanceof TrellisError) expect(mapped.code).not.toBe('ssrf_blocked');
  });

  it('follows redirects between allowed hosts and turns 303 into GET', async () => {
    redirectTo = `${target.url}/landed`;
    const res = await guardedFetch(`${redirector.url}/go`, { allowPrivate: true, method: 'POST', body: 'x' });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${target.url}/landed`);
    expect(target.requests[0].method).toBe('GET'); // 302 after POST
  });
});

describe('guardedFetch: limits', () => {
  it(`stops after MAX_REDIRECTS (${MAX_REDIRECTS}) hops`, async () => {
    redirectTo = '/again';
    const err = await refused(guardedFetch(`${redirector.url}/loop`, { allowPrivate: true }));
    expect(err.code).toBe('http_error');
    expect(err.message).toMatch(new RegExp(`More than ${MAX_REDIRECTS} redirects`));
    expect(redirector.requests).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('caps the response size, with and without content-length', async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const big = await startLocalServer((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': '5000' });
        res.end('y'.repeat(5000));
        return;
      }
      res.writeHead(200); // chunked, no length: the cap must count bytes as they arrive
      const timer = setInterval(() => {
        if (!res.write('z'.repeat(1000))) return;
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    try {
      for (const path of ['/declared', '/stream']) {
        const err = await refused(guardedFetch(`${big.url}${path}`, { allowPrivate: true, maxBytes: 2000 }));
        expect(err.code).toBe('http_error');
        expect(err.message).toMatch(/exceeds 2000 bytes/);
      }
      const ok = await guardedFetch(`${big.url}/declared`, { allowPrivate: true, maxBytes: 5000 });
      expect((await ok.text()).length).toBe(5000);
    } finally {
      await big.close();
    }
  });

  it('aborts through the signal and the server sees the socket close', async () => {
    const hang = await startLocalServer(() => {
      /* never answers */
    });
    try {
      const started = hang.closedSockets;
      const err = await guardedFetch(`${hang.url}/hang`, {
        allowPrivate: true,
        signal: AbortSignal.timeout(150),
      }).catch((e: unknown) => e);
      expect((err as Error).name).toBe('TimeoutError');
      await expect.poll(() => hang.closedSockets).toBeGreaterThan(started);
    } finally {
      await hang.close();
    }
  });

  it('reports network errors as retryable http_error', async () => {
    const gone = await startLocalServer(() => {});
    const url = gone.url;
    await gone.close();
    const err = await refused(guardedFetch(url, { allowPrivate: true }));
    expect(err.code).toBe('http_error');
    expect(err.retryable).toBe(true);
  });
});
