'use client';

import { usePathname } from 'next/navigation';
import { useEffect, useState } from 'react';
import { Button } from '@/components/ui/button';

// Who is signed in, and the way out. It also catches a session that expired or was revoked: the
// page guard only sees that a cookie exists, the API knows whether it is still valid.

/** Pages for people not signed in: no app navigation, no session check. */
export const OPEN_PAGES = ['/login', '/setup'];

export function SessionControl() {
  const pathname = usePathname();
  const [email, setEmail] = useState<string | null>(null);
  const open = OPEN_PAGES.includes(pathname);

  useEffect(() => {
    if (open) return;
    let live = true;
    fetch('/api/auth/me', { cache: 'no-store' })
      .then(async (res) => {
        const body = await res.json().catch(() => ({}));
        if (!live) return;
        if (res.status === 401) window.location.assign(body.setupRequired ? '/setup' : '/login');
        else if (res.ok) setEmail(body.user?.email ?? 'API token');
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [open]);

  if (open) return null;

  async function signOut() {
    await fetch('/api/auth/logout', { method: 'POST' }).catch(() => {});
    window.location.assign('/login');
  }

  return (
    <div className="ml-auto flex items-center gap-2 text-xs text-slate-600">
      {email && <span aria-label="Signed in as">{email}</span>}
      <Button size="sm" variant="ghost" onClick={signOut}>
        Sign out
      </Button>
    </div>
  );
}
