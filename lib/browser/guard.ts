import type { BrowserContext, Request } from 'playwright-core';
import type { EgressProxy } from './egress-proxy';
import { MAX_BLOCKED_RECORDED } from './limits';

// The page side of the SSRF guard. The gate itself is the context's egress proxy
// (egress-proxy.ts): every request of the context, redirect hops and popups included, reaches the
// network only through it. Here: WebSockets are refused outright, and what the proxy refused is
// told the way the trace shows it — the full URL, whether it was the page itself (a navigation)
// and the redirect that led there — by matching the proxy's refusals with the requests Chromium
// reports as failed. That matching is bookkeeping only: the refusal already happened.

export interface Blocked {
  url: string;
  reason: string;
  /** Whether the page itself (a navigation) or a subresource was refused. */
  navigation: boolean;
}

export interface Guard {
  /** Refused requests, in order, with the reason. */
  blocked(): Blocked[];
  /** Checks a URL the step is about to open; a refusal is recorded and returned. */
  refuseNavigation(url: string): Blocked | undefined;
  /** How many refusals there are now: `navigationRefusal(mark)` looks only past it. */
  mark(): number;
  /** The refusal that stopped a navigation started at `mark`, if the proxy refused one. */
  navigationRefusal(mark: number): Blocked | undefined;
}

interface Failed {
  url: string;
  navigation: boolean;
  /** host of the response that redirected here */
  from?: string;
}

const sameTarget = (refused: string, requested: string) => {
  if (refused === requested) return true;
  try {
    const a = new URL(refused);
    const b = new URL(requested);
    // A tunnel's refusal knows only scheme, host and port.
    return a.pathname === '/' && !a.search && a.origin === b.origin;
  } catch {
    return false;
  }
};

/** Made with the context (pool.ts), before any step uses it. */
export async function createGuard(ctx: BrowserContext, proxy: EgressProxy): Promise<Guard> {
  const failed: Failed[] = [];
  ctx.on('requestfailed', (r: Request) => {
    if (failed.length >= MAX_BLOCKED_RECORDED * 2) return;
    const from = r.redirectedFrom();
    failed.push({
      url: r.url(),
      navigation: r.isNavigationRequest(),
      ...(from ? { from: new URL(from.url()).host } : {}),
    });
  });
  // Not routed like requests, and a tunnel cannot be told from https: none are allowed out.
  await ctx.routeWebSocket(/.*/, (ws) => ws.close({ code: 1008, reason: 'blocked by Trellis' }));

  const blocked = (): Blocked[] => {
    const claimed = new Set<number>();
    return proxy.refusals.map((r) => {
      const i = failed.findIndex((f, k) => !claimed.has(k) && sameTarget(r.url, f.url));
      if (i < 0 || r.navigation) return { url: r.url, reason: r.reason, navigation: !!r.navigation };
      claimed.add(i);
      const f = failed[i];
      return {
        url: f.url.slice(0, 500),
        reason: f.from ? `redirect from ${f.from}: ${r.reason}` : r.reason,
        navigation: f.navigation,
      };
    });
  };
  return {
    blocked,
    refuseNavigation(url) {
      const reason = proxy.judge(url);
      if (reason === null) return undefined;
      const entry = { url: url.slice(0, 500), reason, navigation: true };
      proxy.record(entry);
      return entry;
    },
    mark: () => proxy.refusals.length,
    navigationRefusal(mark) {
      const since = blocked().slice(mark);
      // The navigation's own request (or a redirect hop of it) is the first the proxy saw after
      // the mark: subresources of the new page cannot start before it arrives.
      return since.find((b) => b.navigation) ?? since[0];
    },
  };
}
