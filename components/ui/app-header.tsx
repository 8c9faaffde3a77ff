import Link from 'next/link';
import { SessionControl } from '@/components/auth/session-control';
import { MainNav } from './main-nav';

export function AppHeader() {
  return (
    <header className="flex h-12 shrink-0 items-center gap-6 border-b border-slate-200 bg-white px-4">
      <Link href="/" className="flex items-center gap-2 font-semibold tracking-tight text-slate-900">
        <span aria-hidden className="grid h-6 w-6 place-items-center rounded bg-brand-600 text-xs text-white">
          T
        </span>
        Trellis
      </Link>
      <MainNav />
      <SessionControl />
    </header>
  );
}
