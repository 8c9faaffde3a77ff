import { z } from 'zod';
import { defineNode, done } from './define-node';

export const triggerManualConfig = z
  .object({})
  .describe('Started by hand from the editor, the API or the CLI.');

export const triggerManual = defineNode({
  type: 'trigger.manual',
  label: 'Manual trigger',
  group: 'Triggers',
  icon: 'play',
  description: 'Starts the workflow by hand; its output is the run input.',
  config: triggerManualConfig,
  defaultConfig: {},
  isTrigger: true,
  async run({ scope }) {
    return done(scope.input);
  },
});
