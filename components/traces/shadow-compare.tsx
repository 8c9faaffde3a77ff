'use client';
import { DiffView } from './diff-view';
import { JsonView } from './json-view';
import type { StepDetail } from './types';

// A shadow step: the deterministic output was used, the agent's was recorded beside it. For a
// condition or switch both outputs are the step's input (those nodes route, they do not change
// data), so the comparison that matters is the branch: the step's handle against the agent's
// `{ branch }` answer (lib/engine/agent-step.ts compares the same pair for shadow agreement).

const BRANCHING = new Set(['condition', 'switch']);

export function agentBranch(shadowOutput: unknown): string | undefined {
  const b = (shadowOutput as { branch?: unknown } | null | undefined)?.branch;
  return typeof b === 'string' ? b : undefined;
}

export function ShadowComparison({ step }: { step: StepDetail }) {
  if (BRANCHING.has(step.nodeType)) {
    const det = step.handle ?? 'out';
    const agent = agentBranch(step.shadowOutput);
    const same = agent === det;
    return (
      <section
        aria-label="Shadow comparison"
        className="rounded-lg border border-fuchsia-200 bg-fuchsia-50/40 p-2.5"
      >
        <h4 className="text-xs font-semibold text-fuchsia-800">
          Shadow comparison: the deterministic branch was taken
        </h4>
        <dl aria-label="Branch comparison" className="mt-2 grid grid-cols-2 gap-2 text-sm">
          <div className="rounded-md bg-white px-2 py-1.5">
            <dt className="text-[11px] text-slate-500">Deterministic branch</dt>
            <dd className="font-mono font-semibold">{det}</dd>
          </div>
          <div className="rounded-md bg-white px-2 py-1.5">
            <dt className="text-[11px] text-slate-500">Agent&apos;s branch</dt>
            <dd className="font-mono font-semibold">{agent ?? '(no answer)'}</dd>
          </div>
        </dl>
        <p
          role="status"
          className={`mt-2 rounded-md px-2 py-1 text-xs font-medium ${same ? 'bg-brand-50 text-brand-700' : 'bg-amber-50 text-amber-800'}`}
        >
          {same ? '✓ Same branch' : '≠ Different branch'}
        </p>
      </section>
    );
  }
  return (
    <section
      aria-label="Shadow comparison"
      className="flex min-w-0 flex-col gap-2 rounded-lg border border-fuchsia-200 bg-fuchsia-50/40 p-2.5"
    >
      <h4 className="text-xs font-semibold text-fuchsia-800">
        Shadow comparison: the deterministic output was used
      </h4>
      {/* Side by side when there is room, stacked when the inspector is narrow. */}
      <div className="grid grid-cols-[repeat(auto-fit,minmax(14rem,1fr))] gap-2 [&>*]:min-w-0">
        <JsonView title="Deterministic output" value={step.output} openDepth={3} />
        <JsonView
          title="Agent output (shadow)"
          value={step.shadowOutput}
          openDepth={3}
          empty="The agent gave no output"
        />
      </div>
      <DiffView
        before={step.output}
        after={step.shadowOutput}
        label="Difference between deterministic and agent output"
      />
    </section>
  );
}
