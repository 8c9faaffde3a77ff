import { z } from 'zod';
import { edgeSchema, nodeSchema } from '@/lib/workflow/definition';
import { TrellisError } from '@/lib/workflow/errors';
import { MAX_ID_LENGTH, MAX_MAP_CONCURRENCY, MAX_MAP_ITEMS, MAX_NODES } from '@/lib/workflow/limits';
import { defineNode, done } from './define-node';

export const mapConfig = z
  .object({
    items: z
      .string()
      .min(1)
      .describe('JavaScript expression that yields the array to iterate, e.g. steps.fetch.output.body.items'),
    body: z
      .object({
        nodes: z.array(nodeSchema).min(1).max(MAX_NODES),
        edges: z.array(edgeSchema).default([]),
      })
      .optional()
      .describe(
        "Inline body run once per item (sees item and index); it starts at its nodes with no incoming edge and yields its output node's value",
      ),
    workflowId: z
      .string()
      .min(1)
      .max(MAX_ID_LENGTH)
      .optional()
      .describe('Saved workflow to run once per item instead of an inline body'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(MAX_MAP_CONCURRENCY)
      .default(4)
      .describe('How many items run at once'),
  })
  .superRefine((c, ctx) => {
    if (!c.body === !c.workflowId) {
      ctx.addIssue({
        code: 'custom',
        path: ['body'],
        message: 'give either an inline body or a workflowId (exactly one)',
      });
    }
  });

export const map = defineNode({
  type: 'map',
  label: 'Map',
  group: 'Flow',
  icon: 'list',
  description:
    'Runs a body or a saved workflow once per list item, with bounded concurrency; outputs the results in item order.',
  config: mapConfig,
  defaultConfig: {
    items: 'input',
    body: {
      nodes: [{ id: 'result', type: 'output', position: { x: 0, y: 0 }, config: { value: '{{ item }}' } }],
      edges: [],
    },
    concurrency: 4,
  },
  expressionFields: ['items'],
  bodyField: 'body',
  async run({ config, scope, signal, services }) {
    if (!services.runBody)
      throw new TrellisError('internal_error', 'map: the engine did not provide runBody');
    const items = await services.evaluate(config.items, scope, signal);
    if (!Array.isArray(items)) {
      throw new TrellisError(
        'node_error',
        `map: items must evaluate to an array, got ${items === null ? 'null' : typeof items}`,
      );
    }
    if (items.length > MAX_MAP_ITEMS) {
      throw new TrellisError('node_error', `map: ${items.length} items; the limit is ${MAX_MAP_ITEMS}`);
    }
    const body = config.body ?? { workflowId: config.workflowId! };
    return done(await services.runBody({ body, items, concurrency: config.concurrency, signal }));
  },
});
