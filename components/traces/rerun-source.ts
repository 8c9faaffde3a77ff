import type { RunSummary, StepSummary } from './types';

// A rerun (trigger `rerun:<sourceRunId>`) starts with copies of the source run's steps it did not
// need to run again (lib/engine/engine.ts rerun): the copies keep their original start times, so
// a step that started before the rerun itself was created is a reused one.

export function rerunSourceOf(run: Pick<RunSummary, 'trigger'>): string | null {
  const m = /^rerun:(.+)$/.exec(run.trigger);
  return m ? m[1] : null;
}

export function reusedStepIds(
  run: Pick<RunSummary, 'trigger' | 'createdAt'>,
  steps: StepSummary[],
): Set<string> {
  if (!rerunSourceOf(run)) return new Set();
  const created = Date.parse(run.createdAt);
  return new Set(steps.filter((s) => Date.parse(s.startedAt) < created).map((s) => s.id));
}

/** The run Compare starts with: a rerun's source, else the newest run before this one. */
export function defaultCompareWith(
  run: Pick<RunSummary, 'id' | 'trigger' | 'createdAt'>,
  others: Pick<RunSummary, 'id' | 'createdAt'>[],
): string | null {
  const source = rerunSourceOf(run);
  if (source) return source;
  const mine = Date.parse(run.createdAt);
  const candidates = others.filter((r) => r.id !== run.id);
  return (candidates.find((r) => Date.parse(r.createdAt) <= mine) ?? candidates[0])?.id ?? null;
}
