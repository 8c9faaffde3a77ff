import { NextResponse, type NextRequest } from 'next/server';
import { isAllowedHost } from '@/lib/server/host-check';

// Pages need a session: without the cookie, go to /login (which forwards to /setup on a fresh
// install). This is only the navigation guard; the authority is the API (lib/server/route.ts
// authenticates every /api call against the database), so a forged or stale cookie shows an empty
// app whose every request is refused, and the header then sends the browser to /login.

const SESSION_COOKIE = 'trellis_session';
const OPEN_PAGES = ['/login', '/setup'];

export function proxy(request: NextRequest) {
  // DNS rebinding: a page served under a name that is not ours gets nothing (issue 14.3). API
  // routes make the same check in lib/server/route.ts.
  if (!isAllowedHost(request.headers, request.nextUrl.host, process.env)) {
    return new NextResponse('Misdirected request: this server does not answer to that Host.', {
      status: 421,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  const { pathname, search } = request.nextUrl;
  if (OPEN_PAGES.some((p) => pathname === p || pathname.startsWith(`${p}/`))) return NextResponse.next();
  if (request.cookies.get(SESSION_COOKIE)?.value) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = '/login';
  url.search = pathname === '/' ? '' : `?next=${encodeURIComponent(pathname + search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // API routes authenticate themselves (401 JSON, not a redirect); static assets are public.
  matcher: ['/((?!api/|_next/|favicon\\.ico|.*\\.(?:svg|png|jpg|jpeg|gif|webp|ico|css|js|map|txt)$).*)'],
};
