import { z } from 'zod';
import { TrellisError } from '@/lib/workflow/errors';
import { MAX_ID_LENGTH } from '@/lib/workflow/limits';
import { defineNode, done } from './define-node';

export const subworkflowConfig = z.object({
  workflowId: z.string().min(1).max(MAX_ID_LENGTH).describe('Saved workflow to run as a child run'),
  input: z.unknown().describe("Template for the child run's input; strings may hold {{ expressions }}"),
});

export const subworkflow = defineNode({
  type: 'subworkflow',
  label: 'Sub-workflow',
  group: 'Flow',
  icon: 'workflow',
  description: "Runs a saved workflow as a child run; its output is the child's output.",
  config: subworkflowConfig,
  defaultConfig: { workflowId: '', input: '{{ input }}' },
  async run({ config, scope, signal, services }) {
    if (!services.runChild)
      throw new TrellisError('internal_error', 'subworkflow: the engine did not provide runChild');
    const input = await services.render(config.input ?? null, scope, signal);
    return done(await services.runChild({ workflowId: config.workflowId, input, signal }));
  },
});
