import type { BrowserContext, Route } from 'playwright-core';
import { TrellisError } from '@/lib/workflow/errors';
import { guardedFetch } from '@/lib/net/guarded-fetch';
import { allowPrivateFromEnv, checkUrl, hostAllowListed } from '@/lib/net/ssrf';
import { MAX_BLOCKED_RECORDED, MAX_BROWSER_RESPONSE_BYTES } from './limits';

// The SSRF guard for a page: every request of the context (navigations, subresources, fetch/XHR,
// popups from window.open) is answered by this route handler, which fetches it through lib/net's
// guardedFetch (scheme and host rules, the allow-list, the address check inside the socket's own
// DNS lookup). Chromium never connects anywhere itself (pool.ts gives it a dead proxy).
//
// Redirects: a subresource's redirects are followed by guardedFetch, every hop checked. A
// navigation's redirect is answered with a tiny page that moves on with location.replace, so the
// next hop is a new request that comes through here again (Playwright does not route the hop of a
// GET→GET redirect) and the page's URL is the real one. A 307/308 POST is re-requested as GET.
// (Answering a POST's 302/303 as is, whose GET Playwright does route, was tried: the next page
// then took about a second longer to arrive, so every navigation redirect takes the page.)

export interface EgressRules {
  /** Explicit allow-list: listed hosts are trusted, even private ones (lib/net semantics). */
  allowHosts?: string[];
  /** Without allowHosts: the only host reachable, and public addresses only (never loosened). */
  pinHost?: string;
  allowPrivate?: boolean;
}

export interface Blocked {
  url: string;
  reason: string;
  /** Whether the page itself (a navigation) or a subresource was refused. */
  navigation: boolean;
}

export interface Guard {
  blocked: Blocked[];
  /** The last refused navigation, so a failed goto reports why. */
  lastBlockedNavigation(): Blocked | undefined;
  /** URLs answered with the redirect page: the page has not arrived yet while it shows one. */
  isRedirectPage(url: string): boolean;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);
// Hop-by-hop and length headers: the fulfilled body is already decoded and complete.
const DROP_HEADERS = new Set([
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);

/** Decide on a URL without fetching it: the same rules guardedFetch applies first. */
export function egressDecision(url: string, rules: EgressRules): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'invalid URL';
  }
  if (!rules.allowHosts?.length && rules.pinHost && !hostAllowListed(u, [rules.pinHost]))
    return `refused ${u.host}: only the start URL's host (${rules.pinHost}) is reachable without allowHosts`;
  const d = checkUrl(u, {
    allowHosts: rules.allowHosts,
    allowPrivate: rules.allowPrivate ?? allowPrivateFromEnv(),
  });
  return d.ok ? null : d.reason;
}

function redirectPage(location: string): string {
  // JSON.stringify, then '<' escaped: the URL cannot close the script element.
  const target = JSON.stringify(location).replace(/</g, '\\u003c');
  return `<!doctype html><meta charset="utf-8"><title>Redirecting</title><script>location.replace(${target})</script>`;
}

export async function installGuard(ctx: BrowserContext, rules: EgressRules): Promise<Guard> {
  const blocked: Blocked[] = [];
  const redirectPages = new Set<string>();
  let lastNav: Blocked | undefined;
  const block = async (route: Route, url: string, reason: string, navigation: boolean) => {
    const entry = { url: url.slice(0, 500), reason, navigation };
    if (blocked.length < MAX_BLOCKED_RECORDED) blocked.push(entry);
    if (navigation) lastNav = entry;
    await route.abort('blockedbyclient').catch(() => {});
  };

  await ctx.route('**/*', async (route) => {
    const req = route.request();
    const url = req.url();
    const navigation = req.isNavigationRequest();
    if (url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    const refused = egressDecision(url, rules);
    if (refused) return block(route, url, refused, navigation);
    try {
      const headers = await req.allHeaders();
      const postData = req.postDataBuffer();
      for (const h of Object.keys(headers)) if (h.startsWith(':')) delete headers[h];
      const res = await guardedFetch(url, {
        method: req.method(),
        headers,
        body: postData ? new Uint8Array(postData) : undefined,
        redirect: navigation ? 'manual' : 'follow',
        allowHosts: rules.allowHosts?.length ? rules.allowHosts : undefined,
        pinHosts: rules.allowHosts?.length || !rules.pinHost ? undefined : [rules.pinHost],
        allowPrivate: rules.allowPrivate,
        maxBytes: MAX_BROWSER_RESPONSE_BYTES,
      });
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        if (!DROP_HEADERS.has(k) && k !== 'set-cookie') out[k] = v;
      });
      const cookies = res.headers.getSetCookie();
      if (cookies.length) out['set-cookie'] = cookies.join('\n');
      const location = res.headers.get('location');
      if (navigation && REDIRECT.has(res.status) && location) {
        const next = new URL(location, url).toString();
        const why = egressDecision(next, rules);
        if (why) return block(route, next, `redirect from ${new URL(url).host}: ${why}`, true);
        redirectPages.add(url);
        delete out.location;
        return route.fulfill({
          status: 200,
          headers: { ...out, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
          body: redirectPage(next),
        });
      }
      await route.fulfill({ status: res.status, headers: out, body: Buffer.from(await res.arrayBuffer()) });
    } catch (err) {
      if (err instanceof TrellisError && err.code === 'ssrf_blocked')
        return block(route, url, err.message, navigation);
      await route.abort('failed').catch(() => {});
    }
  });
  // WebSockets are not routed like requests: none are allowed out.
  await ctx.routeWebSocket(/.*/, (ws) => ws.close({ code: 1008, reason: 'blocked by Trellis' }));
  return {
    blocked,
    lastBlockedNavigation: () => lastNav,
    isRedirectPage: (u) => redirectPages.has(u),
  };
}
