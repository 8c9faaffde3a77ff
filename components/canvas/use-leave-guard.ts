'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useRouter } from 'next/navigation';

// Leaving a dirty editor by any in-app route asks first: links anywhere on the page (nav, back
// arrow, trace link) are caught in the capture phase before Next's <Link> sees the click, and the
// browser's back button is caught with a guard history entry pushed while the editor is dirty.
// Reload and closing the tab are left to `beforeunload` (the browser's own prompt) plus the local
// draft (use-draft.ts).

/** Where a blocked navigation was going: a URL for links, or one step back in history. */
export type LeaveTarget = { kind: 'href'; href: string } | { kind: 'back' };

const GUARD = '__trellisLeaveGuard';

function isPlainLeftClick(e: MouseEvent) {
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey && !e.defaultPrevented;
}

export function useLeaveGuard(dirty: boolean) {
  const router = useRouter();
  const [pending, setPending] = useState<LeaveTarget | null>(null);
  const leaving = useRef(false);
  const dirtyRef = useRef(dirty);
  useEffect(() => {
    dirtyRef.current = dirty;
  }, [dirty]);

  // In-app links.
  useEffect(() => {
    if (!dirty) return;
    const onClick = (e: MouseEvent) => {
      if (leaving.current || !isPlainLeftClick(e)) return;
      const a = (e.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
      if (!a || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
      const url = new URL(a.href, window.location.href);
      if (url.origin !== window.location.origin) return;
      if (url.pathname === window.location.pathname && url.search === window.location.search) return;
      e.preventDefault();
      e.stopPropagation();
      setPending({ kind: 'href', href: url.pathname + url.search + url.hash });
    };
    window.addEventListener('click', onClick, true);
    return () => window.removeEventListener('click', onClick, true);
  }, [dirty]);

  // Browser back: once dirty, a copy of the current entry is pushed on top; "back" pops to the
  // original entry of the same page (Next restores the same tree: nothing changes on screen) and
  // this handler asks. Cancel pushes the guard again.
  const guarded = useRef(false);
  useEffect(() => {
    if (!dirty || guarded.current) return;
    window.history.pushState({ ...window.history.state, [GUARD]: true }, '', window.location.href);
    guarded.current = true;
  }, [dirty]);
  useEffect(() => {
    const onPop = () => {
      if (!guarded.current || (window.history.state as Record<string, unknown> | null)?.[GUARD]) return;
      guarded.current = false;
      if (leaving.current) return;
      // Saved since the guard went up: the user meant to go back, so do.
      if (!dirtyRef.current) return window.history.back();
      setPending({ kind: 'back' });
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const go = useCallback(
    (target: LeaveTarget) => {
      leaving.current = true;
      setPending(null);
      if (target.kind === 'back') window.history.back();
      else if (guarded.current) {
        // Replace the guard entry so "back" from the destination returns to this page once.
        guarded.current = false;
        window.history.replaceState({ ...window.history.state, [GUARD]: false }, '', window.location.href);
        router.push(target.href);
      } else router.push(target.href);
    },
    [router],
  );

  const cancel = useCallback(() => {
    if (pending?.kind === 'back' && dirtyRef.current) {
      window.history.pushState({ ...window.history.state, [GUARD]: true }, '', window.location.href);
      guarded.current = true;
    }
    setPending(null);
  }, [pending]);

  return { pending, go, cancel };
}
