import { z } from 'zod';
import { defineNode, done } from './define-node';

export const outputConfig = z.object({
  value: z.unknown().describe("Template for the run's output; strings may hold {{ expressions }}"),
});

export const output = defineNode({
  type: 'output',
  label: 'Output',
  group: 'Output',
  icon: 'flag',
  description: "Sets the run's output (several output nodes: an object keyed by node id).",
  config: outputConfig,
  defaultConfig: { value: '{{ input }}' },
  outputs: () => [],
  async run({ config, scope, signal, services }) {
    return done(await services.render(config.value, scope, signal));
  },
  sandboxCall: (config) => ({ kind: 'render', template: config.value }),
});
