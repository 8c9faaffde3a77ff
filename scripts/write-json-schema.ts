// Writes docs/workflow.schema.json from the zod schemas (npm run schema:json).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { nodeRegistry } from '@/lib/nodes/registry';
import { renderWorkflowJsonSchema } from '@/lib/workflow/json-schema';

export const WORKFLOW_SCHEMA_FILE = path.join(import.meta.dirname, '..', 'docs', 'workflow.schema.json');

writeFileSync(WORKFLOW_SCHEMA_FILE, renderWorkflowJsonSchema(nodeRegistry));
console.log(`wrote ${path.relative(process.cwd(), WORKFLOW_SCHEMA_FILE)}`);
