import { z } from 'zod';
import { defineNode, done } from './define-node';

// The webhook secret is kept by the server, never in the definition (DESIGN.md §2).
/** Highest webhook rate a workflow (or TRELLIS_WEBHOOK_RATE) may ask for. */
export const MAX_WEBHOOK_RATE = 10_000;

export const triggerWebhookConfig = z
  .object({
    ratePerSecond: z
      .number()
      .int()
      .min(1)
      .max(MAX_WEBHOOK_RATE)
      .optional()
      .describe(
        'Calls accepted per second for this workflow; default the server setting TRELLIS_WEBHOOK_RATE.',
      ),
  })
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
