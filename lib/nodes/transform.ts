import { z } from 'zod';
import { defineNode, done } from './define-node';
import { configTool } from './tool-schema';

export const transformConfig = z.object({
  value: z
    .unknown()
    .describe(
      'Template: any JSON value; strings may hold {{ expressions }}, and a string that is exactly one {{ }} yields its raw value',
    ),
});

export const transform = defineNode({
  type: 'transform',
  label: 'Transform',
  group: 'Data',
  icon: 'braces',
  description: 'Builds a value (usually an object) from expressions over earlier steps.',
  config: transformConfig,
  defaultConfig: { value: {} },
  agentCapable: true,
  async run({ config, scope, signal, services }) {
    return done(await services.render(config.value, scope, signal));
  },
  sandboxCall: (config) => ({ kind: 'render', template: config.value }),
  asTool: () =>
    configTool('Build a JSON value from a template with {{ }} expressions', transformConfig, true),
});
