import Link from 'next/link';
import { SessionControl } from '@/components/auth/session-control';
import { NavLink } from './nav-link';

export function AppHeader() {
  return (
    <header className="flex h-12 shrink-0 items-center gap-6 border-b border-slate-200 bg-white px-4">
      <Link href="/" className="flex items-center gap-2 font-semibold tracking-tight text-slate-900">
        <span aria-hidden className="grid h-6 w-6 place-items-center rounded bg-brand-600 text-xs text-white">
          T
        </span>
        Trellis
      </Link>
      <nav aria-label="Main" className="flex items-center gap-1">
        <NavLink href="/workflows">Workflows</NavLink>
        <NavLink href="/runs">Runs</NavLink>
        <NavLink href="/settings">Settings</NavLink>
      </nav>
      <SessionControl />
    </header>
  );
}
