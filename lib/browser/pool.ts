import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { BROWSER_LAUNCH_ARGS, browserUnavailable, findChromium } from './chromium';
import { BROWSER_POOL_SIZE, BROWSER_WARM_CONTEXTS } from './limits';

// One Chromium per process, shared by every browser step; each step gets a context of its own
// (cookies, storage and cache never cross steps) and closes it when done. A few fresh contexts
// are made ahead of demand so a step does not wait for one; a context is never reused.
//
// Every request a page makes is answered by the step's route handler (guard.ts). The browser is
// also given a proxy that accepts connections and drops them at once: a request Chromium sends
// without asking the handler (Playwright does not route the hop after a GET→GET redirect) fails
// closed instead of reaching the network.

export interface BrowserPool {
  /** A fresh context with one blank page (waits for a free slot); close it with release(). */
  acquire(signal?: AbortSignal): Promise<BrowserContext>;
  release(ctx: BrowserContext): Promise<void>;
  stats(): { inUse: number; waiting: number; warm: number };
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
  opts: { size?: number; warm?: number; executablePath?: string } = {},
): BrowserPool {
  const size = opts.size ?? BROWSER_POOL_SIZE;
  const warmTarget = Math.min(opts.warm ?? BROWSER_WARM_CONTEXTS, size);
  let browser: Promise<{ browser: Browser; hole: net.Server }> | null = null;
  const warm: Promise<BrowserContext>[] = [];
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
        warm.length = 0;
      });
      return { browser: b, hole };
    })();
    browser.catch(() => (browser = null));
    return browser;
  };

  // A warm context comes with its page open: that is most of the cost of getting one ready.
  const newContext = async () => {
    const ctx = await (await start()).browser.newContext({ acceptDownloads: false, serviceWorkers: 'block' });
    await ctx.newPage();
    return ctx;
  };

  const refill = () => {
    while (!closed && warm.length < warmTarget && inUse + warm.length < size + warmTarget) {
      const p = newContext();
      p.catch(() => {});
      warm.push(p);
    }
  };

  return {
    async acquire(signal) {
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
        const ctx = ready ? await ready.catch(() => newContext()) : await newContext();
        refill();
        return ctx;
      } catch (err) {
        inUse--;
        waiters.shift()?.();
        throw err;
      }
    },
    release(ctx) {
      // The step does not wait for the close; the slot frees when it is done.
      return ctx
        .close()
        .catch(() => {})
        .finally(() => {
          inUse--;
          waiters.shift()?.();
        });
    },
    stats: () => ({ inUse, waiting: waiters.length, warm: warm.length }),
    async close() {
      closed = true;
      const b = browser;
      browser = null;
      for (const w of warm.splice(0)) void w.then((c) => c.close()).catch(() => {});
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
