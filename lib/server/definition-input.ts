import { validateDefinition } from '@/lib/nodes/validate-definition';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { ValidationError, type Problem } from '@/lib/workflow/errors';
import type { ProblemCode } from '@/lib/workflow/validate';

// Saving keeps work in progress (as n8n and Windmill do): a definition with graph or config
// problems may be saved, but not one whose shape or size is wrong. Running requires no problems.
const STRUCTURAL = new Set<ProblemCode>([
  'not_object',
  'schema_version',
  'too_large',
  'too_deep',
  'string_too_long',
  'too_many_nodes',
  'too_many_edges',
  'invalid_shape',
  'internal_error',
]);

function prefixed(problems: Problem[], base: string): Problem[] {
  return problems.map((p) => ({ ...p, path: base + p.path }));
}

/** For saves: refuses malformed definitions, returns the semantic problems for the response. */
export function definitionForSave(
  value: unknown,
  base = '/definition',
): { definition: WorkflowDefinition; problems: Problem[] } {
  const r = validateDefinition(value);
  const structural = r.problems.filter((p) => STRUCTURAL.has(p.code as ProblemCode));
  if (structural.length) throw new ValidationError(prefixed(structural, base), 'Invalid definition');
  return { definition: value as WorkflowDefinition, problems: r.problems };
}

/** For runs: every problem refuses the run. */
export function assertRunnable(definition: unknown, base = '/definition'): WorkflowDefinition {
  const r = validateDefinition(definition);
  if (!r.valid)
    throw new ValidationError(
      prefixed(r.problems, base),
      'The workflow has problems; fix them before running',
    );
  return definition as WorkflowDefinition;
}
