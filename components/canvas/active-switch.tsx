'use client';
import { useState } from 'react';
import { api, errorMessage } from '@/components/ui/api';

// The workflow's on/off switch (PATCH /api/workflows/:id { enabled }): off, its schedules and
// webhooks do not fire (manual runs still work); turning it off also cancels runs not started yet.

export function ActiveSwitch({
  workflowId,
  enabled,
  onChange,
  label = 'Active',
  compact = false,
}: {
  workflowId: string;
  enabled: boolean;
  onChange: (enabled: boolean) => void;
  /** The accessible name (the list names each row's switch after its workflow). */
  label?: string;
  compact?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ enabled: boolean }>(`/api/workflows/${workflowId}`, {
        method: 'PATCH',
        body: { enabled: !enabled },
      });
      onChange(r.enabled);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-slate-600">
      <button
        type="button"
        role="switch"
        aria-checked={enabled}
        aria-label={label}
        disabled={busy}
        title={
          enabled
            ? 'Active: schedules and webhooks start runs. Click to pause them.'
            : 'Inactive: schedules and webhooks do not start runs (manual runs still work). Click to activate.'
        }
        onClick={() => void toggle()}
        className={`relative h-5 w-9 shrink-0 rounded-full transition-colors disabled:opacity-60 ${enabled ? 'bg-brand-600' : 'bg-slate-300'}`}
      >
        <span
          aria-hidden
          className={`absolute top-0.5 left-0.5 h-4 w-4 rounded-full bg-white shadow transition-transform ${enabled ? 'translate-x-4' : ''}`}
        />
      </button>
      {!compact && (
        <span aria-hidden className="hidden xl:inline">
          {enabled ? 'Active' : 'Inactive'}
        </span>
      )}
      {error && (
        <span role="alert" className="text-red-600">
          {error}
        </span>
      )}
    </span>
  );
}
