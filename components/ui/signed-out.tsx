'use client';
import { ApiError } from './api';

/** A 401 from the API means the session ended: offer the way back instead of a raw error. */
export function isSignedOut(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}

export function SignInLink() {
  const next = typeof window === 'undefined' ? '/' : window.location.pathname;
  return (
    <a
      href={`/login?next=${encodeURIComponent(next)}`}
      className="inline-flex h-7 items-center rounded-md bg-brand-600 px-3 text-xs font-medium text-white hover:bg-brand-700"
    >
      Sign in
    </a>
  );
}
