'use client';
import { useState } from 'react';
import type { RolloutGates } from '@/lib/workflow/definition';
import { Button } from '@/components/ui/button';

// The editable gates of one step. Rates are typed as percentages and sent as 0..1; an empty
// threshold is no gate. The server validates (400 names the field by JSON pointer).

const FIELDS: {
  key: keyof RolloutGates;
  label: string;
  unit: string;
  percent?: boolean;
  step?: string;
}[] = [
  { key: 'minSample', label: 'Minimum sample', unit: 'steps' },
  { key: 'window', label: 'Window', unit: 'steps' },
  { key: 'minAgreement', label: 'Agreement at least', unit: '%', percent: true },
  { key: 'maxFallbackRate', label: 'Fallback rate at most', unit: '%', percent: true },
  { key: 'maxP95LatencyMs', label: 'p95 latency at most', unit: 'ms' },
  { key: 'maxCostPerRunUsd', label: 'Cost per run at most', unit: 'USD', step: '0.0001' },
];

const toText = (v: number | undefined, percent?: boolean) =>
  v === undefined ? '' : String(percent ? Math.round(v * 1000) / 10 : v);

export function GatesForm({
  nodeId,
  gates,
  autoAdvance,
  busy,
  onSave,
}: {
  nodeId: string;
  gates: RolloutGates;
  autoAdvance: boolean;
  busy: boolean;
  onSave: (gates: RolloutGates, autoAdvance: boolean) => void;
}) {
  const [text, setText] = useState(() =>
    Object.fromEntries(FIELDS.map((f) => [f.key, toText(gates[f.key], f.percent)])),
  );
  const [auto, setAuto] = useState(autoAdvance);
  const [error, setError] = useState<string | null>(null);

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const out: Record<string, number> = {};
    for (const f of FIELDS) {
      const raw = text[f.key]?.trim();
      if (!raw) continue;
      const n = Number(raw);
      if (!Number.isFinite(n)) {
        setError(`${f.label}: not a number`);
        return;
      }
      out[f.key] = f.percent ? n / 100 : n;
    }
    setError(null);
    onSave(out as RolloutGates, auto);
  }

  return (
    <form aria-label="Gates" onSubmit={submit} className="space-y-2">
      <div className="grid grid-cols-2 gap-2">
        {FIELDS.map((f) => (
          <label key={f.key} className="text-[11px] text-slate-600">
            <span className="block">
              {f.label} <span className="text-slate-400">({f.unit})</span>
            </span>
            <input
              id={`${nodeId}-gate-${f.key}`}
              inputMode="decimal"
              step={f.step}
              className="mt-0.5 h-7 w-full rounded-md border border-slate-300 px-2 font-mono text-xs"
              value={text[f.key] ?? ''}
              placeholder={f.key === 'minSample' || f.key === 'window' ? undefined : 'no gate'}
              onChange={(e) => setText((t) => ({ ...t, [f.key]: e.target.value }))}
            />
          </label>
        ))}
      </div>
      <label className="flex items-center gap-2 text-xs text-slate-700">
        <input
          type="checkbox"
          className="accent-brand-600"
          checked={auto}
          onChange={(e) => setAuto(e.target.checked)}
        />
        Advance by itself when every gate passes
      </label>
      {error && (
        <p role="alert" className="text-xs text-red-700">
          {error}
        </p>
      )}
      <Button type="submit" size="sm" variant="secondary" disabled={busy}>
        Save gates
      </Button>
    </form>
  );
}
