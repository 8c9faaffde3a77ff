import type dns from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer, type LocalServer } from '@/lib/net/testing/local-server';
import { createBrowserPool, type BrowserPool } from './pool';

// The egress proxy with a real Chromium in front of it: the names below exist only in the pool's
// stand-in DNS, so a page that loads proves Chromium handed the name to the proxy instead of
// resolving it, and the proxy connected to the answer it checked.

let server: LocalServer;
let pool: BrowserPool;
const lookups: string[] = [];

beforeAll(async () => {
  server = await startLocalServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>Here</title><h1>Served ${req.url}</h1>`);
  });
  const lookup = ((hostname: string, _o: unknown, cb: (e: Error | null, a: dns.LookupAddress[]) => void) => {
    lookups.push(hostname);
    if (hostname.endsWith('.test')) return cb(null, [{ address: '127.0.0.1', family: 4 }]);
    cb(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  }) as unknown as typeof dns.lookup;
  pool = createBrowserPool({ size: 2, warm: 0, lookup });
});
afterAll(async () => {
  await pool?.close();
  await server?.close();
});

describe('browser pool egress', () => {
  it('Chromium does not resolve names itself: the page loads from the address the proxy looked up and checked', async () => {
    const lease = await pool.acquire({ allowHosts: [`only-here.test:${server.port}`] });
    try {
      await lease.page.goto(`http://only-here.test:${server.port}/hello`);
      expect(await lease.page.locator('h1').innerText()).toBe('Served /hello');
      expect(lookups).toContain('only-here.test');
      expect(lease.guard.blocked()).toEqual([]);
    } finally {
      await pool.release(lease);
    }
  });

  it('a name that resolves to loopback is refused at connect time when only public addresses are allowed', async () => {
    const before = server.requests.length;
    const lease = await pool.acquire({ pinHost: `rebind.test:${server.port}`, allowPrivate: false });
    try {
      const mark = lease.guard.mark();
      await expect(lease.page.goto(`http://rebind.test:${server.port}/`)).rejects.toThrow();
      const refusal = lease.guard.navigationRefusal(mark);
      expect(refusal).toMatchObject({ url: `http://rebind.test:${server.port}/`, navigation: true });
      expect(refusal?.reason).toMatch(/refused rebind\.test \(127\.0\.0\.1\): .*loopback/);
      expect(server.requests.length).toBe(before);
    } finally {
      await pool.release(lease);
    }
  });
});
