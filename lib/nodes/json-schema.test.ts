import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWorkflowJsonSchema } from '@/lib/workflow/json-schema';
import { nodeRegistry } from './registry';

const FILE = path.join(import.meta.dirname, '..', '..', 'docs', 'workflow.schema.json');

describe('docs/workflow.schema.json', () => {
  it('is up to date with the zod schemas (run `npm run schema:json` when this fails)', () => {
    // Compared as data, not text, so prettier may reformat the file freely.
    expect(JSON.parse(readFileSync(FILE, 'utf8'))).toEqual(buildWorkflowJsonSchema(nodeRegistry));
  });

  it('describes each node type config with an if/then on the type', () => {
    const schema = buildWorkflowJsonSchema(nodeRegistry) as {
      properties: {
        nodes: {
          items: {
            allOf: {
              if: { properties: { type: { const: string } } };
              then: { properties: { config: Record<string, unknown> } };
            }[];
          };
        };
      };
    };
    const rules = schema.properties.nodes.items.allOf;
    expect(rules.map((r) => r.if.properties.type.const).sort()).toEqual(
      nodeRegistry
        .list()
        .map((s) => s.type)
        .sort(),
    );
    const delayRule = rules.find((r) => r.if.properties.type.const === 'delay')!;
    expect(delayRule.then.properties.config).toMatchObject({
      type: 'object',
      properties: { ms: { type: 'integer', minimum: 0 } },
      required: ['ms'],
    });
  });
});
