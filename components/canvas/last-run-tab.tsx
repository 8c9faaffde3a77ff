'use client';
import Link from 'next/link';
import { JsonTree } from '@/components/traces/json-view';
import { StatusBadge } from '@/components/ui/status-badge';
import type { LastRunView } from './use-last-run';

// The inspector's "Last run" tab: what the selected step received and produced in the run the
// editor shows data from (this session's run, else the workflow's latest), with a link to its trace.

export function LastRunTab({ view }: { view: LastRunView | null }) {
  if (!view || !view.run) {
    return (
      <p className="px-4 py-3 text-xs text-slate-500">
        No run yet. Run the workflow to see what this step receives and returns.
      </p>
    );
  }
  const { run } = view;
  return (
    <div className="space-y-3 px-4 py-3">
      <div className="flex flex-wrap items-center gap-2 text-xs text-slate-600">
        <Link href={`/runs/${run.id}`} className="font-medium text-brand-700 hover:underline">
          Run {run.id.slice(0, 8)}
        </Link>
        {run.version ? <span>v{run.version}</span> : null}
        {view.status && <StatusBadge status={view.status} />}
      </div>
      {view.loading ? (
        <p className="text-xs text-slate-500">Loading step…</p>
      ) : view.notRun ? (
        <p className="text-xs text-slate-500">This step did not run in that run.</p>
      ) : (
        (['input', 'output', 'error'] as const).map((k) =>
          view[k] === undefined || view[k] === null ? null : (
            <section key={k}>
              <h4 className="mb-1 text-[11px] font-medium text-slate-600">
                {k === 'input' ? 'Input' : k === 'output' ? 'Output' : 'Error'}
              </h4>
              <div className={`rounded-md py-1 ${k === 'error' ? 'bg-red-50' : 'bg-slate-50'}`}>
                <JsonTree value={view[k]} label={`Last run ${k}`} />
              </div>
            </section>
          ),
        )
      )}
    </div>
  );
}
