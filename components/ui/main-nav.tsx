'use client';
import { usePathname } from 'next/navigation';
import { OPEN_PAGES } from '@/components/auth/session-control';
import { NavLink } from './nav-link';

// The app's main links, only for people signed in: on the sign-in and setup pages they would
// lead straight back to sign-in.
export function MainNav() {
  const pathname = usePathname();
  if (OPEN_PAGES.includes(pathname)) return null;
  return (
    <nav aria-label="Main" className="flex items-center gap-1">
      <NavLink href="/workflows">Workflows</NavLink>
      <NavLink href="/runs">Runs</NavLink>
      <NavLink href="/settings">Settings</NavLink>
    </nav>
  );
}
