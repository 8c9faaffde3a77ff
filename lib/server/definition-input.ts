import { validateDefinition } from '@/lib/nodes/validate-definition';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { ValidationError, type Problem } from '@/lib/workflow/errors';
import { STRUCTURAL_PROBLEMS, type ProblemCode } from '@/lib/workflow/validate';

function prefixed(problems: Problem[], base: string): Problem[] {
  return problems.map((p) => ({ ...p, path: base + p.path }));
}

/** For saves: refuses malformed definitions, returns the semantic problems for the response. */
export function definitionForSave(
  value: unknown,
  base = '/definition',
): { definition: WorkflowDefinition; problems: Problem[] } {
  const r = validateDefinition(value);
  const structural = r.problems.filter((p) => STRUCTURAL_PROBLEMS.has(p.code as ProblemCode));
  if (structural.length) throw new ValidationError(prefixed(structural, base), 'Invalid definition');
  return { definition: value as WorkflowDefinition, problems: r.problems };
}

/**
 * Definitions found runnable, by identity: a saved version is immutable, and a webhook's is the
 * same object from run to run (lib/db/workflow-heads.ts), so it is validated once, not per run.
 */
const runnable = new WeakSet<object>();

/** For runs: every problem refuses the run. */
export function assertRunnable(definition: unknown, base = '/definition'): WorkflowDefinition {
  if (typeof definition === 'object' && definition !== null && runnable.has(definition))
    return definition as WorkflowDefinition;
  const r = validateDefinition(definition);
  if (!r.valid)
    throw new ValidationError(
      prefixed(r.problems, base),
      'The workflow has problems; fix them before running',
    );
  runnable.add(definition as object);
  return definition as WorkflowDefinition;
}
