import { z } from 'zod';
import { defineNode, done } from './define-node';

// The webhook secret is kept by the server, never in the definition (DESIGN.md §2).
export const triggerWebhookConfig = z
  .object({})
  .describe('Started by POST /api/hooks/<workflowId>; the body is the run input.');

export const triggerWebhook = defineNode({
  type: 'trigger.webhook',
  label: 'Webhook',
  group: 'Triggers',
  icon: 'webhook',
  description: 'Starts the workflow when its webhook URL is called; its output is the request body.',
  config: triggerWebhookConfig,
  defaultConfig: {},
  isTrigger: true,
  async run({ scope }) {
    return done(scope.input);
  },
});
