import { validate, type ValidationResult } from '@/lib/workflow/validate';
import { nodeRegistry } from './registry';

/** validate() against the real node registry: what the API, the CLI and the editor call. */
export function validateDefinition(definition: unknown): ValidationResult {
  return validate(definition, nodeRegistry);
}
