import { z } from 'zod';
import { MAX_DELAY_MS } from '@/lib/workflow/limits';
import { defineNode, done } from './define-node';

/** Delays up to this long sleep in the worker; longer ones park the run and free the worker. */
export const INLINE_DELAY_MAX_MS = 5_000;

export const delayConfig = z.object({
  ms: z.number().int().min(0).max(MAX_DELAY_MS).describe('How long to wait, in milliseconds'),
});

export const delay = defineNode({
  type: 'delay',
  label: 'Delay',
  group: 'Flow',
  icon: 'timer',
  description: 'Waits, then passes the input on.',
  config: delayConfig,
  defaultConfig: { ms: 1000 },
  async run({ config, input, clock, signal }) {
    if (config.ms <= INLINE_DELAY_MAX_MS) {
      await clock.sleep(config.ms, signal);
      return done(input);
    }
    return { kind: 'wait', reason: 'delay', until: clock.now() + config.ms, output: input };
  },
});
