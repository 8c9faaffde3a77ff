import { z } from 'zod';
import { defineNode, done } from './define-node';
import { configTool } from './tool-schema';

export const conditionConfig = z.object({
  expression: z
    .string()
    .min(1)
    .describe(
      "JavaScript expression, e.g. steps.fetch.output.status === 200; truthy takes the 'true' branch",
    ),
});

export const condition = defineNode({
  type: 'condition',
  label: 'Condition',
  group: 'Logic',
  icon: 'split',
  description: 'Sends the input on to the true or false branch.',
  config: conditionConfig,
  defaultConfig: { expression: 'true' },
  outputs: () => ['true', 'false'],
  expressionFields: ['expression'],
  agentCapable: true,
  async run({ config, input, scope, signal, services }) {
    const value = await services.evaluate(config.expression, scope, signal);
    return done(input, value ? 'true' : 'false');
  },
  asTool: () =>
    configTool(
      'Decide between the true and false branch with a JavaScript expression',
      conditionConfig,
      true,
    ),
});
