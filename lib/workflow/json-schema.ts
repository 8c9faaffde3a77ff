import { z } from 'zod';
import { definitionSchema } from './definition';
import type { NodeCatalog } from './node-type';

// docs/workflow.schema.json derives from the zod schemas: the definition's shape from
// definition.ts, and each node type's `config` from its plugin via an if/then per type.
// scripts/write-json-schema.ts writes it; a test regenerates it and fails when it is stale.

export const WORKFLOW_SCHEMA_ID = 'https://trellis.dev/schemas/workflow.schema.json';

type Json = Record<string, unknown>;

function toJson(schema: z.ZodType): Json {
  const out = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Json;
  delete out.$schema;
  return out;
}

export function buildWorkflowJsonSchema(catalog: NodeCatalog): Json {
  const root = toJson(definitionSchema);
  const props = root.properties as Json;
  const nodes = props.nodes as Json;
  const nodeItem = nodes.items as Json;
  const specs = [...catalog.list()].sort((a, b) => a.type.localeCompare(b.type));
  const nodeProps = nodeItem.properties as Json;
  nodeProps.type = {
    ...(nodeProps.type as Json),
    enum: specs.map((s) => s.type),
    description: 'Node type; see the per-type config schemas below',
  };
  nodes.items = {
    ...nodeItem,
    allOf: specs.map((s) => ({
      if: { properties: { type: { const: s.type } }, required: ['type'] },
      then: { properties: { config: { ...toJson(s.config), description: `${s.label}: ${s.description}` } } },
    })),
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: WORKFLOW_SCHEMA_ID,
    title: 'Trellis workflow definition',
    description:
      'A Trellis workflow (schemaVersion 1). Generated from the zod schemas by scripts/write-json-schema.ts; do not edit.',
    ...root,
  };
}

/** The file's exact text: stable key order, two-space indent, trailing newline. */
export function renderWorkflowJsonSchema(catalog: NodeCatalog): string {
  return JSON.stringify(buildWorkflowJsonSchema(catalog), null, 2) + '\n';
}
