'use client';

import { useState } from 'react';
import { api, ApiError } from '@/components/ui/api';
import { safeNext } from '@/lib/auth/safe-next';
import { Button } from '@/components/ui/button';

// One form for first-run setup (creates the owner) and sign-in. After success the browser does a
// full navigation so the server sees the new session cookie on the next page.

const MIN_PASSWORD_LENGTH = 10;

export function AuthForm({
  mode,
  next,
  setupTokenRequired,
}: {
  mode: 'login' | 'setup';
  next?: string;
  setupTokenRequired?: boolean;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const setup = mode === 'setup';

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const email = String(form.get('email') ?? '');
    const password = String(form.get('password') ?? '');
    if (setup && password !== String(form.get('confirm') ?? '')) {
      setError('The passwords do not match');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const setupToken = String(form.get('setupToken') ?? '') || undefined;
      await api(setup ? '/api/auth/setup' : '/api/auth/login', {
        method: 'POST',
        body: setup ? { email, password, setupToken } : { email, password },
      });
      window.location.assign(safeNext(next));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Something went wrong');
      setBusy(false);
    }
  }

  return (
    <div className="grid flex-1 place-items-center p-6">
      <form
        onSubmit={submit}
        className="w-full max-w-sm space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm"
      >
        <div>
          <h1 className="text-lg font-semibold">
            {setup ? 'Create the owner account' : 'Sign in to Trellis'}
          </h1>
          {setup && (
            <p className="mt-1 text-sm text-slate-600">
              First run: this account owns this Trellis installation.
            </p>
          )}
        </div>
        <label className="block text-sm">
          <span className="font-medium text-slate-700">Email</span>
          <input
            name="email"
            type="email"
            required
            autoComplete="username"
            className="mt-1 block h-9 w-full rounded-md border border-slate-300 px-2"
          />
        </label>
        <div className="text-sm">
          <label className="block">
            <span className="font-medium text-slate-700">Password</span>
            <input
              name="password"
              type="password"
              required
              minLength={setup ? MIN_PASSWORD_LENGTH : undefined}
              autoComplete={setup ? 'new-password' : 'current-password'}
              aria-describedby={setup ? 'password-rule' : undefined}
              className="mt-1 block h-9 w-full rounded-md border border-slate-300 px-2"
            />
          </label>
          {/* Outside the label: a description, not part of the field's name. */}
          {setup && (
            <span id="password-rule" className="mt-1 block text-xs text-slate-500">
              At least {MIN_PASSWORD_LENGTH} characters; a passphrase of a few words is easiest.
            </span>
          )}
        </div>
        {setup && (
          <label className="block text-sm">
            <span className="font-medium text-slate-700">Confirm password</span>
            <input
              name="confirm"
              type="password"
              required
              autoComplete="new-password"
              className="mt-1 block h-9 w-full rounded-md border border-slate-300 px-2"
            />
          </label>
        )}
        {setup && setupTokenRequired && (
          <label className="block text-sm">
            <span className="font-medium text-slate-700">Setup token</span>
            <input
              name="setupToken"
              required
              autoComplete="off"
              className="mt-1 block h-9 w-full rounded-md border border-slate-300 px-2 font-mono"
            />
            <span className="mt-1 block text-xs text-slate-500">
              This server is reachable from other machines: copy the one-time token from its log.
            </span>
          </label>
        )}
        {error && (
          <p role="alert" className="text-sm text-red-700">
            {error}
          </p>
        )}
        <Button type="submit" variant="primary" disabled={busy} className="w-full">
          {setup ? 'Create account' : 'Sign in'}
        </Button>
      </form>
    </div>
  );
}
