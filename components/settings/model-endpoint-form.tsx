'use client';
import { useState } from 'react';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';

// Settings → Model endpoint, editable: base URL, API key (write-only: the server keeps it
// encrypted and only says whether one is set) and default model, plus "Test connection" (lists
// the endpoint's models). OPENAI_* in the server's environment win over what is saved here.

export interface EndpointView {
  source?: 'environment' | 'settings' | 'none';
  environmentWins?: boolean;
  stored?: { baseURL: string | null; apiKeySet: boolean; defaultModel: string | null };
}

const input =
  'h-8 w-full rounded-md border border-slate-300 px-2 text-sm outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-500/20';

export function ModelEndpointForm({ view, onSaved }: { view: EndpointView; onSaved: () => void }) {
  const stored = view.stored ?? { baseURL: null, apiKeySet: false, defaultModel: null };
  const [baseURL, setBaseURL] = useState(stored.baseURL ?? '');
  const [apiKey, setApiKey] = useState('');
  const [defaultModel, setDefaultModel] = useState(stored.defaultModel ?? '');
  const [busy, setBusy] = useState<'save' | 'test' | 'clear-key' | null>(null);
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);

  const save = async (patch: Record<string, string>, what: 'save' | 'clear-key') => {
    setBusy(what);
    setMessage(null);
    try {
      await api('/api/settings/model', { method: 'PUT', body: patch });
      setApiKey('');
      setMessage({ tone: 'ok', text: what === 'clear-key' ? 'API key removed' : 'Saved' });
      onSaved();
    } catch (e) {
      setMessage({ tone: 'error', text: errorMessage(e) });
    } finally {
      setBusy(null);
    }
  };
  const test = async () => {
    setBusy('test');
    setMessage(null);
    try {
      const r = await api<{ ok: boolean; latencyMs?: number; models?: string[]; error?: string }>(
        '/api/settings/model/test',
        { method: 'POST', body: {} },
      );
      setMessage(
        r.ok
          ? {
              tone: 'ok',
              text: `Connected in ${r.latencyMs} ms; ${r.models?.length ?? 0} model${r.models?.length === 1 ? '' : 's'}${r.models?.length ? `: ${r.models.slice(0, 5).join(', ')}${r.models.length > 5 ? '…' : ''}` : ''}`,
            }
          : { tone: 'error', text: `Connection failed: ${r.error}` },
      );
    } catch (e) {
      setMessage({ tone: 'error', text: errorMessage(e) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <form
      aria-label="Model endpoint settings"
      className="mt-3 space-y-2 border-t border-slate-100 pt-3"
      onSubmit={(e) => {
        e.preventDefault();
        void save({ baseURL, defaultModel, ...(apiKey ? { apiKey } : {}) }, 'save');
      }}
    >
      {view.environmentWins && (
        <p role="note" className="rounded bg-slate-100 px-2 py-1 text-xs text-slate-600">
          The server&apos;s environment sets <code>OPENAI_BASE_URL</code>/<code>OPENAI_API_KEY</code>: that
          endpoint is in force and wins over what is saved here.
        </p>
      )}
      <div className="grid grid-cols-[10rem_1fr] items-center gap-2 text-xs">
        <label htmlFor="model-base-url" className="text-slate-600">
          Base URL
        </label>
        <input
          id="model-base-url"
          className={input}
          placeholder="https://api.openai.com/v1"
          value={baseURL}
          onChange={(e) => setBaseURL(e.target.value)}
        />
        <label htmlFor="model-api-key" className="text-slate-600">
          API key
        </label>
        <div className="flex items-center gap-2">
          <input
            id="model-api-key"
            type="password"
            autoComplete="off"
            className={input}
            placeholder={stored.apiKeySet ? 'set (hidden); type to replace' : 'not set'}
            value={apiKey}
            onChange={(e) => setApiKey(e.target.value)}
          />
          {stored.apiKeySet && (
            <Button size="sm" disabled={busy !== null} onClick={() => void save({ apiKey: '' }, 'clear-key')}>
              Remove key
            </Button>
          )}
        </div>
        <label htmlFor="model-default" className="text-slate-600">
          Default model
        </label>
        <input
          id="model-default"
          className={input}
          placeholder="gpt-4.1-mini"
          value={defaultModel}
          onChange={(e) => setDefaultModel(e.target.value)}
        />
      </div>
      <p className="text-[11px] text-slate-500">
        The key is stored encrypted, like secrets, and never shown again.
      </p>
      <div className="flex items-center gap-2">
        <Button type="submit" variant="primary" size="sm" disabled={busy !== null}>
          {busy === 'save' ? 'Saving…' : 'Save endpoint'}
        </Button>
        <Button size="sm" disabled={busy !== null} onClick={() => void test()}>
          {busy === 'test' ? 'Testing…' : 'Test connection'}
        </Button>
        {message && (
          <span
            role="status"
            aria-label="Endpoint result"
            className={`text-xs ${message.tone === 'ok' ? 'text-emerald-700' : 'text-red-700'}`}
          >
            {message.text}
          </span>
        )}
      </div>
    </form>
  );
}
