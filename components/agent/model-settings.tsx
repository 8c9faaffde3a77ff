'use client';
import { useEffect, useState } from 'react';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { ModelEndpointForm, type EndpointView } from '@/components/settings/model-endpoint-form';

// Settings → Model: whether an OpenAI-compatible endpoint is configured (from the server's
// environment; the key itself never leaves the server) and the editable price table that agent
// steps are charged with (USD per million tokens).

interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}
interface SettingsView {
  model: {
    configured: boolean;
    baseURL: string | null;
    apiKeySet: boolean;
    defaultModel: string | null;
  } & EndpointView;
  prices: Record<string, Price>;
  pricesAreDefault: boolean;
  runCostCapUsd: number;
  /** Models charged at the unknown-model price (the "*" row, else the built-in default). */
  unknownModels?: string[];
  unknownModelPrice?: Price;
}
interface Row {
  key: number;
  model: string;
  input: string;
  output: string;
}

let nextKey = 1;
const toRows = (prices: Record<string, Price>): Row[] =>
  Object.entries(prices).map(([model, p]) => ({
    key: nextKey++,
    model,
    input: String(p.inputPerMTok),
    output: String(p.outputPerMTok),
  }));

const cell =
  'h-7 w-full rounded border border-slate-300 px-2 text-xs focus:border-brand-500 focus:outline-none';

export function ModelSettings() {
  const [view, setView] = useState<SettingsView | null>(null);
  const [rows, setRows] = useState<Row[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const [loads, setLoads] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    api<SettingsView>('/api/settings', { signal: ctrl.signal }).then(
      (v) => {
        setView(v);
        setRows(toRows(v.prices));
      },
      (err) => (err as Error).name !== 'AbortError' && setError(errorMessage(err)),
    );
    return () => ctrl.abort();
  }, [loads]);

  const update = (key: number, patch: Partial<Row>) =>
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  async function save() {
    const prices: Record<string, Price> = {};
    for (const r of rows) {
      const model = r.model.trim();
      if (!model) continue;
      const input = Number(r.input);
      const output = Number(r.output);
      if (!Number.isFinite(input) || !Number.isFinite(output) || input < 0 || output < 0) {
        setError(`Prices of ${model} must be numbers ≥ 0`);
        return;
      }
      prices[model] = { inputPerMTok: input, outputPerMTok: output };
    }
    setBusy(true);
    try {
      const res = await api<{ prices: Record<string, Price> }>('/api/settings/model-prices', {
        method: 'PUT',
        body: { prices },
      });
      setRows(toRows(res.prices));
      setError(null);
      setNotice('Prices saved');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  async function reset() {
    setBusy(true);
    try {
      const res = await api<{ prices: Record<string, Price> }>('/api/settings/model-prices', {
        method: 'DELETE',
      });
      setRows(toRows(res.prices));
      setError(null);
      setNotice('Built-in prices restored');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex flex-col gap-6">
      <section aria-labelledby="model-endpoint" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="model-endpoint" className="text-sm font-semibold">
          Model endpoint
        </h2>
        {!view && !error && <p className="mt-2 text-xs text-slate-500">Loading…</p>}
        {view && (
          <div className="mt-2 text-sm">
            <p role="status" aria-label="Model status">
              {view.model.configured ? (
                <span className="font-medium text-emerald-700">Configured</span>
              ) : (
                <span className="font-medium text-amber-700">Not configured</span>
              )}
            </p>
            {view.model.configured ? (
              <dl className="mt-1 grid grid-cols-[10rem_1fr] gap-y-0.5 text-xs">
                <dt className="text-slate-500">Base URL</dt>
                <dd className="font-mono">{view.model.baseURL ?? 'https://api.openai.com/v1 (default)'}</dd>
                <dt className="text-slate-500">API key</dt>
                <dd>{view.model.apiKeySet ? 'set (hidden)' : 'not set'}</dd>
                <dt className="text-slate-500">Default model</dt>
                <dd className="font-mono">{view.model.defaultModel}</dd>
              </dl>
            ) : (
              <p className="mt-1 text-xs text-slate-600">
                Save an endpoint below, or set <code>OPENAI_API_KEY</code> and/or <code>OPENAI_BASE_URL</code>{' '}
                (OpenAI, Ollama, vLLM, LM Studio) on the server. Until then agent steps fall back to their
                deterministic step with reason <code>no_model_configured</code>.
              </p>
            )}
            {view.model.configured && (
              <p className="mt-1 text-[11px] text-slate-500">
                From {view.model.source === 'settings' ? 'these settings' : 'the server environment'}.
              </p>
            )}
            <ModelEndpointForm view={view.model} onSaved={() => setLoads((n) => n + 1)} />
            <p className="mt-2 text-xs text-slate-600">
              Per-run agent cost cap: <span className="font-mono">${view.runCostCapUsd}</span> (
              <code>TRELLIS_RUN_COST_CAP_USD</code>)
            </p>
            {!!view.unknownModels?.length && (
              <p role="status" className="mt-2 rounded bg-amber-50 px-2 py-1 text-xs text-amber-800">
                Not in the price table, charged at the unknown-model price (
                <span className="font-mono">
                  {view.unknownModelPrice?.inputPerMTok}/{view.unknownModelPrice?.outputPerMTok}
                </span>{' '}
                USD per million tokens; add a row, or a <code>*</code> row for all):{' '}
                <span className="font-mono">{view.unknownModels.join(', ')}</span>
              </p>
            )}
          </div>
        )}
      </section>

      <section aria-labelledby="model-prices" className="rounded-lg border border-slate-200 bg-white p-4">
        <div className="flex items-center justify-between">
          <h2 id="model-prices" className="text-sm font-semibold">
            Model prices
          </h2>
          <span className="text-xs text-slate-500">USD per million tokens</span>
        </div>
        <table className="mt-2 w-full text-xs" aria-label="Model price table">
          <thead>
            <tr className="text-left text-slate-500">
              <th className="py-1 font-medium">Model</th>
              <th className="py-1 font-medium">Input</th>
              <th className="py-1 font-medium">Output</th>
              <th className="sr-only">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <td className="py-0.5 pr-2">
                  <input
                    className={cell}
                    aria-label="Model name"
                    value={r.model}
                    onChange={(e) => update(r.key, { model: e.target.value })}
                  />
                </td>
                <td className="py-0.5 pr-2">
                  <input
                    className={cell}
                    aria-label={`Input price of ${r.model || 'new model'}`}
                    inputMode="decimal"
                    value={r.input}
                    onChange={(e) => update(r.key, { input: e.target.value })}
                  />
                </td>
                <td className="py-0.5 pr-2">
                  <input
                    className={cell}
                    aria-label={`Output price of ${r.model || 'new model'}`}
                    inputMode="decimal"
                    value={r.output}
                    onChange={(e) => update(r.key, { output: e.target.value })}
                  />
                </td>
                <td className="py-0.5 text-right">
                  <Button
                    size="sm"
                    variant="ghost"
                    aria-label={`Remove ${r.model || 'row'}`}
                    onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}
                  >
                    Remove
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="mt-3 flex items-center gap-2">
          <Button
            size="sm"
            onClick={() => setRows((rs) => [...rs, { key: nextKey++, model: '', input: '0', output: '0' }])}
          >
            Add model
          </Button>
          <Button size="sm" variant="primary" onClick={() => void save()} disabled={busy}>
            Save prices
          </Button>
          <Button size="sm" variant="ghost" onClick={() => void reset()} disabled={busy}>
            Restore defaults
          </Button>
          {notice && (
            <span role="status" className="text-xs text-emerald-700">
              {notice}
            </span>
          )}
        </div>
        <p className="mt-2 text-xs text-slate-500">
          Dated and provider-prefixed ids (<code>gpt-4.1-mini-2025-04-14</code>) use their model&apos;s row. A
          model not listed is priced by a <code>*</code> row, else at a built-in default (never free), and is
          named above once seen; for a free self-hosted endpoint add <code>*</code> at 0 / 0. Model calls of
          one run (agent and llm steps, map items, child runs) stop with reason <code>budget</code> once their
          spending reaches the cap.
        </p>
      </section>
      {error && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-xs text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}
