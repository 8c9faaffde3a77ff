import net from 'node:net';
import type dns from 'node:dns';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BROWSER_LAUNCH_ARGS, browserUnavailable, findChromium } from './chromium';
import { startEgressProxy, type EgressProxy, type EgressRules } from './egress-proxy';
import { createGuard, type Guard } from './guard';
import { BROWSER_POOL_SIZE, BROWSER_WARM_CONTEXTS } from './limits';

// One Chromium per process, shared by every browser step; each step gets a context of its own
// (cookies, storage and cache never cross steps) and closes it when done. A few contexts are made
// ahead of demand, complete with their page, egress proxy and guard, so a step starts on a ready
// page; a context is never reused.
//
// Each context is created with its own egress proxy (egress-proxy.ts): the step's rules are given
// to it when the step takes the context, and until then it refuses everything. The browser itself
// is launched with a proxy that accepts connections and drops them at once, so anything not tied
// to a context fails closed instead of reaching the network.

export interface BrowserLease {
  context: BrowserContext;
  page: Page;
  guard: Guard;
}

interface Warm extends BrowserLease {
  proxy: EgressProxy;
}

export interface BrowserPool {
  /**
   * A fresh context with one blank page, its egress limited to `rules` (waits for a free slot);
   * give it back with release().
   */
  acquire(rules: EgressRules, signal?: AbortSignal): Promise<BrowserLease>;
  release(lease: BrowserLease): Promise<void>;
  stats(): { inUse: number; waiting: number; warm: number };
  /** Resolves when the contexts being made ahead are ready (benchmarks measure from there). */
  warmed(): Promise<void>;
  close(): Promise<void>;
}

async function blackhole(): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  return server;
}

export function createBrowserPool(
  opts: {
    size?: number;
    warm?: number;
    executablePath?: string;
    /** DNS lookup of the egress proxies (tests); defaults to dns.lookup. */
    lookup?: typeof dns.lookup;
  } = {},
): BrowserPool {
  const size = opts.size ?? BROWSER_POOL_SIZE;
  const warmTarget = Math.min(opts.warm ?? BROWSER_WARM_CONTEXTS, size);
  let browser: Promise<{ browser: Browser; hole: net.Server }> | null = null;
  const warm: Promise<Warm>[] = [];
  const leases = new Map<BrowserContext, Warm>();
  const waiters: Array<() => void> = [];
  let inUse = 0;
  let closed = false;

  const start = () => {
    browser ??= (async () => {
      const executablePath = opts.executablePath ?? findChromium();
      if (!executablePath) throw browserUnavailable();
      const hole = await blackhole();
      const port = (hole.address() as AddressInfo).port;
      // Loaded on the first browser step, not with the node registry: playwright-core alone is
      // ~70 MB of RSS that every web and worker process would hold idle (issue 21).
      const { chromium } = await import('playwright-core');
      const b = await chromium.launch({
        executablePath,
        args: BROWSER_LAUNCH_ARGS,
        // '<-loopback>' removes Chromium's implicit bypass, so loopback also goes to the hole.
        proxy: { server: `http://127.0.0.1:${port}`, bypass: '<-loopback>' },
      });
      b.on('disconnected', () => {
        browser = null; // a crashed browser is relaunched by the next step
        for (const w of warm.splice(0)) void w.then((c) => c.proxy.close()).catch(() => {});
      });
      return { browser: b, hole };
    })();
    browser.catch(() => (browser = null));
    return browser;
  };

  // A warm context comes with its page open and its guard in place: that is most of the cost of
  // getting one ready, and none of it depends on the step.
  const newContext = async (): Promise<Warm> => {
    const { browser: b } = await start();
    const proxy = await startEgressProxy({ lookup: opts.lookup });
    try {
      const context = await b.newContext({
        acceptDownloads: false,
        serviceWorkers: 'block',
        // '<-loopback>': loopback goes through the proxy too (Chromium bypasses it by default).
        proxy: { server: proxy.server, bypass: '<-loopback>' },
      });
      const [guard, page] = await Promise.all([createGuard(context, proxy), context.newPage()]);
      return { context, page, guard, proxy };
    } catch (err) {
      await proxy.close();
      throw err;
    }
  };
  const dispose = (w: Warm) =>
    w.context
      .close()
      .catch(() => {})
      .finally(() => w.proxy.close());

  // Contexts are made ahead when a step gives its context back, not when one is taken: making a
  // context starts a renderer process, and on a busy machine that competed with the step that had
  // just started (measured: its first action took twice as long). A step that finds none ready
  // makes its own.
  const refill = () => {
    while (!closed && warm.length < warmTarget && inUse + warm.length < size + warmTarget) {
      const p = newContext();
      p.catch(() => {});
      warm.push(p);
    }
  };

  return {
    async acquire(rules, signal) {
      while (inUse >= size) {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            const i = waiters.indexOf(resolve);
            if (i >= 0) waiters.splice(i, 1);
            reject(signal?.reason);
          };
          if (signal?.aborted) return onAbort();
          signal?.addEventListener('abort', onAbort, { once: true });
          waiters.push(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          });
        });
      }
      inUse++;
      try {
        const ready = warm.shift();
        const w = ready ? await ready.catch(() => newContext()) : await newContext();
        w.proxy.setRules(rules);
        leases.set(w.context, w);
        return { context: w.context, page: w.page, guard: w.guard };
      } catch (err) {
        inUse--;
        waiters.shift()?.();
        throw err;
      }
    },
    release(lease) {
      const w = leases.get(lease.context);
      leases.delete(lease.context);
      // The step does not wait for the close; the slot frees when it is done.
      const closing = w ? dispose(w) : lease.context.close().catch(() => {});
      refill();
      return closing.finally(() => {
        inUse--;
        waiters.shift()?.();
      });
    },
    stats: () => ({ inUse, waiting: waiters.length, warm: warm.length }),
    async warmed() {
      await Promise.all(warm.map((w) => w.catch(() => {})));
    },
    async close() {
      closed = true;
      const b = browser;
      browser = null;
      for (const w of warm.splice(0)) void w.then(dispose).catch(() => {});
      if (b) {
        const { browser: br, hole } = await b.catch(() => ({ browser: null, hole: null }));
        await br?.close().catch(() => {});
        hole?.close();
      }
    },
  };
}

let shared: BrowserPool | null = null;

/** The process's pool (created on first use; Chromium starts on the first step). */
export function sharedBrowserPool(): BrowserPool {
  shared ??= createBrowserPool();
  return shared;
}
