import { z } from 'zod';
import { defineNode } from './define-node';

export const approvalConfig = z.object({
  message: z.string().optional().describe('Template shown to the approver; may hold {{ expressions }}'),
});

export const approval = defineNode({
  type: 'approval',
  label: 'Approval',
  group: 'Flow',
  icon: 'check',
  description: 'Pauses the run until a person approves or rejects it in the UI or the API.',
  config: approvalConfig,
  defaultConfig: { message: 'Please review.' },
  outputs: () => ['approved', 'rejected'],
  async run({ config, scope, signal, services }) {
    const message =
      config.message === undefined ? undefined : await services.render(config.message, scope, signal);
    // The decision arrives later; the engine resumes with { approved, comment?, by? } and the handle.
    return { kind: 'wait', reason: 'approval', output: { message } };
  },
});
