'use client';
import { useEffect, useState } from 'react';
import { api } from '@/components/ui/api';
import { inputClass, labelClass } from './form-styles';

// Agent settings fields of the inspector: the step's model (free text, suggesting the models of
// the price table and the endpoint's default) and the tools, searchable once the list is long.

/** Above this many tools the list gets a filter box. */
export const TOOL_FILTER_FROM = 6;

let modelList: Promise<{ models: string[]; defaultModel: string | null }> | null = null;
function knownModels() {
  modelList ??= api<{ prices: Record<string, unknown>; model: { defaultModel: string | null } }>(
    '/api/settings',
  )
    .then((s) => ({
      models: Object.keys(s.prices).filter((m) => m !== '*'),
      defaultModel: s.model.defaultModel,
    }))
    .catch(() => {
      modelList = null;
      return { models: [], defaultModel: null };
    });
  return modelList;
}

export function AgentModelField({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string | undefined;
  onChange: (model: string | undefined) => void;
}) {
  const [known, setKnown] = useState<{ models: string[]; defaultModel: string | null }>({
    models: [],
    defaultModel: null,
  });
  useEffect(() => {
    let live = true;
    void knownModels().then((k) => live && setKnown(k));
    return () => {
      live = false;
    };
  }, []);
  return (
    <div>
      <label htmlFor={id} className={labelClass}>
        Model
      </label>
      <input
        id={id}
        list={`${id}-models`}
        className={inputClass}
        value={value ?? ''}
        placeholder={`default${known.defaultModel ? ` (${known.defaultModel})` : ''}`}
        onChange={(e) => onChange(e.target.value.trim() ? e.target.value : undefined)}
      />
      <datalist id={`${id}-models`}>
        {known.models.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
    </div>
  );
}

export function AgentToolsField({
  tools,
  selected,
  onToggle,
}: {
  tools: { tool: string; label: string }[];
  selected: string[];
  onToggle: (tool: string, on: boolean) => void;
}) {
  const [query, setQuery] = useState('');
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = tools.filter((t) => words.every((w) => t.label.toLowerCase().includes(w)));
  return (
    <fieldset>
      <legend className={labelClass}>
        Tools <span className="font-normal text-slate-400">({selected.length} on)</span>
      </legend>
      {tools.length > TOOL_FILTER_FROM && (
        <input
          type="search"
          aria-label="Search tools"
          placeholder="Search tools…"
          className={`${inputClass} mb-1.5`}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      )}
      <div className="max-h-48 space-y-1 overflow-y-auto">
        {shown.map(({ tool, label }) => (
          <label key={tool} className="flex items-center gap-2 text-xs text-slate-700">
            <input
              type="checkbox"
              className="accent-brand-600"
              checked={selected.includes(tool)}
              onChange={(e) => onToggle(tool, e.target.checked)}
            />
            <span className="truncate" title={label}>
              {label}
            </span>
          </label>
        ))}
        {shown.length === 0 && <p className="text-xs text-slate-400">No tool matches “{query}”.</p>}
      </div>
    </fieldset>
  );
}
