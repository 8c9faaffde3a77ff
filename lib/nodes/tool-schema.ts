import { z } from 'zod';
import type { ToolSpec } from './define-node';

/** An agent tool from a node's config schema: the model fills the deterministic config's fields. */
export function configTool(description: string, schema: z.ZodType, readOnly = false): ToolSpec {
  const parameters = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete parameters.$schema;
  return { description, parameters, readOnly };
}
