'use client';
import { useState } from 'react';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import type { StepSummary } from './types';

/** Approve or reject one waiting approval step (POST /api/runs/:id/approvals/:nodeId). */
export function ApprovalPanel({
  runId,
  step,
  name,
  onDone,
}: {
  runId: string;
  step: StepSummary;
  name: string;
  onDone: () => void;
}) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const decide = async (approved: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/runs/${runId}/approvals/${step.nodeId}`, {
        method: 'POST',
        body: { approved, ...(comment.trim() ? { comment: comment.trim() } : {}) },
      });
      onDone();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section
      aria-label={`Approval: ${name}`}
      className="flex flex-wrap items-end gap-3 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3"
    >
      <div className="min-w-48 flex-1">
        <div className="text-sm font-semibold text-amber-900">Waiting for approval: {name}</div>
        <label className="mt-1 flex flex-col gap-1 text-xs text-amber-800">
          Comment
          <input
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            placeholder="Optional note for the trace"
            className="h-8 rounded-md border border-amber-300 bg-white px-2 text-sm text-slate-800"
          />
        </label>
        {error && (
          <p role="alert" className="mt-1 text-xs text-red-700">
            {error}
          </p>
        )}
      </div>
      <Button variant="primary" disabled={busy} onClick={() => void decide(true)}>
        Approve
      </Button>
      <Button variant="danger" disabled={busy} onClick={() => void decide(false)}>
        Reject
      </Button>
    </section>
  );
}
