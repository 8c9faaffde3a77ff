'use client';

import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '@/components/ui/api';
import { Button } from '@/components/ui/button';

/** lib/secrets/store.ts SECRET_NAME_PATTERN, in words. */
const SECRET_NAME_RULE =
  'letters, digits and _, not starting with a digit, at most 64 characters (e.g. STRIPE_KEY).';

// Secrets: write-only from the browser's point of view. The list shows names and dates; a value
// is sent once and never comes back (the API has no way to return it).

interface SecretRow {
  name: string;
  createdAt: string;
  updatedAt: string;
}

export function SecretsSection() {
  const [rows, setRows] = useState<SecretRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setRows((await api<{ secrets: SecretRow[] }>('/api/secrets')).secrets);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Cannot load secrets');
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function add(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const form = new FormData(formEl);
    setBusy(true);
    setError(null);
    try {
      await api('/api/secrets', {
        method: 'POST',
        body: { name: String(form.get('name') ?? ''), value: String(form.get('value') ?? '') },
      });
      formEl.reset();
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Cannot save the secret');
    } finally {
      setBusy(false);
    }
  }

  async function remove(name: string) {
    if (!window.confirm(`Delete the secret ${name}? Workflows that use secrets.${name} will fail.`)) return;
    try {
      await api(`/api/secrets/${encodeURIComponent(name)}`, { method: 'DELETE' });
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Cannot delete the secret');
    }
  }

  return (
    <section aria-labelledby="secrets-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="secrets-heading" className="text-base font-semibold">
        Secrets
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        Use as <code>{'{{ secrets.NAME }}'}</code> in expressions and headers. Values are encrypted at rest,
        masked in traces and logs, and never shown again.
      </p>
      <form onSubmit={add} className="mt-3 flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="block font-medium text-slate-700">Name</span>
          <input
            name="name"
            required
            pattern="[A-Za-z_][A-Za-z0-9_]{0,63}"
            title={SECRET_NAME_RULE}
            aria-describedby="secret-name-rule"
            className="mt-1 h-8 rounded-md border border-slate-300 px-2"
          />
        </label>
        <label className="text-sm">
          <span className="block font-medium text-slate-700">Value</span>
          <input
            name="value"
            type="password"
            required
            autoComplete="off"
            className="mt-1 h-8 w-72 rounded-md border border-slate-300 px-2"
          />
        </label>
        <Button type="submit" variant="primary" disabled={busy}>
          Save secret
        </Button>
      </form>
      <p id="secret-name-rule" className="mt-1 text-xs text-slate-500">
        Name: {SECRET_NAME_RULE}
      </p>
      {error && (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {error}
        </p>
      )}
      <ul aria-label="Secrets" className="mt-3 divide-y divide-slate-100 text-sm">
        {rows?.length === 0 && <li className="py-2 text-slate-500">No secrets yet.</li>}
        {rows?.map((r) => (
          <li key={r.name} className="flex items-center justify-between py-2">
            <span className="font-mono">{r.name}</span>
            <span className="flex items-center gap-3 text-xs text-slate-500">
              updated {new Date(r.updatedAt).toLocaleString()}
              <Button
                size="sm"
                variant="ghost"
                aria-label={`Delete secret ${r.name}`}
                onClick={() => remove(r.name)}
              >
                Delete
              </Button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
