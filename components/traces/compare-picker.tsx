'use client';
import { useEffect, useState } from 'react';
import { useRouter } from 'next/navigation';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Spinner } from '@/components/ui/spinner';
import { formatTrigger, relativeTime, shortId } from './format';
import { defaultCompareWith, rerunSourceOf } from './rerun-source';
import { StatusBadge } from './run-status';
import type { RunPage, RunSummary } from './types';

// "Compare…": pick the run to compare this one with. A rerun starts on its source run; any other
// run on the one before it. The source is listed even when it is older than the recent page.

const RECENT = 20;

export function ComparePicker({
  run,
  open,
  onClose,
}: {
  run: RunSummary;
  open: boolean;
  onClose: () => void;
}) {
  const router = useRouter();
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);

  useEffect(() => {
    if (!open || !run.workflowId) return;
    let live = true;
    setError(null);
    (async () => {
      const page = await api<RunPage>(`/api/runs?workflowId=${run.workflowId}&limit=${RECENT}`);
      const list = page.runs.filter((r) => r.id !== run.id);
      const source = rerunSourceOf(run);
      if (source && !list.some((r) => r.id === source)) {
        const s = await api<{ run: RunSummary }>(`/api/runs/${source}?stepLimit=1`).catch(() => null);
        if (s) list.unshift(s.run);
      }
      return list;
    })().then(
      (list) => {
        if (!live) return;
        setRuns(list);
        setChosen(defaultCompareWith(run, list));
      },
      (e) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [open, run]);

  const source = rerunSourceOf(run);
  return (
    <Dialog
      open={open}
      title="Compare with…"
      onClose={onClose}
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button
            variant="primary"
            disabled={!chosen}
            onClick={() => chosen && router.push(`/runs/compare?a=${chosen}&b=${run.id}`)}
          >
            Compare
          </Button>
        </>
      }
    >
      {error && (
        <p role="alert" className="text-red-700">
          Could not list runs: {error}
        </p>
      )}
      {!runs && !error && <Spinner label="Loading runs" />}
      {runs && runs.length === 0 && <p className="text-slate-500">No other run of this workflow yet.</p>}
      {runs && runs.length > 0 && (
        <fieldset>
          <legend className="mb-2 text-xs text-slate-500">
            Run #{shortId(run.id)} on the right; pick the run for the left.
          </legend>
          <div role="radiogroup" aria-label="Run to compare with" className="flex flex-col gap-1">
            {runs.map((r) => (
              <label
                key={r.id}
                className={`flex cursor-pointer items-center gap-2 rounded-md border px-2 py-1.5 text-xs ${chosen === r.id ? 'border-brand-400 bg-brand-50' : 'border-slate-200 hover:bg-slate-50'}`}
              >
                <input
                  type="radio"
                  name="compare-with"
                  className="accent-brand-600"
                  checked={chosen === r.id}
                  onChange={() => setChosen(r.id)}
                  aria-label={`Run #${shortId(r.id)}${r.id === source ? ' (rerun source)' : ''}`}
                />
                <span className="font-mono">#{shortId(r.id)}</span>
                <StatusBadge status={r.status} />
                <span className="shrink-0 whitespace-nowrap text-slate-500">{relativeTime(r.createdAt)}</span>
                <span className="min-w-0 truncate text-slate-500">{formatTrigger(r.trigger)}</span>
                {r.version ? <span className="shrink-0 text-slate-400">v{r.version}</span> : null}
                {r.id === source && (
                  <span className="ml-auto shrink-0 rounded bg-slate-100 px-1 text-[10px] font-medium whitespace-nowrap text-slate-600">
                    rerun source
                  </span>
                )}
              </label>
            ))}
          </div>
        </fieldset>
      )}
    </Dialog>
  );
}
