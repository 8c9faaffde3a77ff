'use client';

import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '@/components/ui/api';
import { Button } from '@/components/ui/button';

// API tokens for scripts and CI (Authorization: Bearer). A new token is shown once, here; the
// server keeps only its hash, so a lost token is revoked and replaced, never recovered.

interface TokenRow {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export function ApiTokensSection() {
  const [rows, setRows] = useState<TokenRow[] | null>(null);
  const [fresh, setFresh] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);

  const load = useCallback(async () => {
    try {
      setRows((await api<{ tokens: TokenRow[] }>('/api/tokens')).tokens);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Cannot load tokens');
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function create(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const name = String(new FormData(formEl).get('name') ?? '');
    setBusy(true);
    setError(null);
    try {
      const t = await api<{ name: string; token: string }>('/api/tokens', { method: 'POST', body: { name } });
      setFresh({ name: t.name, token: t.token });
      setCopied(false);
      formEl.reset();
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Cannot create the token');
    } finally {
      setBusy(false);
    }
  }

  async function revoke(row: TokenRow) {
    if (!window.confirm(`Revoke the token "${row.name}"? Scripts using it stop working.`)) return;
    try {
      await api(`/api/tokens/${encodeURIComponent(row.id)}`, { method: 'DELETE' });
      await load();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Cannot revoke the token');
    }
  }

  return (
    <section aria-labelledby="tokens-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="tokens-heading" className="text-base font-semibold">
        API tokens
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        For scripts: <code>Authorization: Bearer &lt;token&gt;</code>. A token is shown once, when it is
        created.
      </p>
      <form onSubmit={create} className="mt-3 flex items-end gap-2">
        <label className="text-sm">
          <span className="block font-medium text-slate-700">Token name</span>
          <input
            name="name"
            required
            maxLength={100}
            className="mt-1 h-8 rounded-md border border-slate-300 px-2"
          />
        </label>
        <Button type="submit" variant="primary" disabled={busy}>
          Create token
        </Button>
      </form>
      {fresh && (
        <div role="status" className="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
          <p className="font-medium">Copy the token “{fresh.name}” now; it will not be shown again.</p>
          <code aria-label="New API token" className="mt-1 block break-all font-mono text-xs">
            {fresh.token}
          </code>
          <div className="mt-2 flex items-center gap-2">
            <Button
              size="sm"
              onClick={() =>
                void navigator.clipboard.writeText(fresh.token).then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
              }
            >
              Copy token
            </Button>
            {copied && <span className="text-xs text-brand-700">Copied</span>}
          </div>
        </div>
      )}
      {error && (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {error}
        </p>
      )}
      <ul aria-label="API tokens" className="mt-3 divide-y divide-slate-100 text-sm">
        {rows?.length === 0 && <li className="py-2 text-slate-500">No tokens yet.</li>}
        {rows?.map((r) => (
          <li key={r.id} className="flex items-center justify-between py-2">
            <span>{r.name}</span>
            <span className="flex items-center gap-3 text-xs text-slate-500">
              created {new Date(r.createdAt).toLocaleDateString()} · last used{' '}
              {r.lastUsedAt ? new Date(r.lastUsedAt).toLocaleString() : 'never'}
              <Button
                size="sm"
                variant="ghost"
                aria-label={`Revoke token ${r.name}`}
                onClick={() => revoke(r)}
              >
                Revoke
              </Button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
