import { z } from 'zod';
import { defineNode, done } from './define-node';

export const mergeConfig = z.object({
  mode: z
    .enum(['all', 'any'])
    .default('all')
    .describe(
      'all: wait for every incoming branch and output { <nodeId>: output }; any: pass on the first to arrive',
    ),
});

export const merge = defineNode({
  type: 'merge',
  label: 'Merge',
  group: 'Flow',
  icon: 'merge',
  description: 'Joins branches: waits for all of them, or passes on the first.',
  config: mergeConfig,
  defaultConfig: { mode: 'all' },
  // The scheduler decides when a merge may start and assembles its input per mode.
  async run({ input }) {
    return done(input);
  },
});
