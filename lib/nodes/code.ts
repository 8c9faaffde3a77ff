import { z } from 'zod';
import { TrellisError } from '@/lib/workflow/errors';
import { MAX_EXPRESSION_LENGTH } from '@/lib/workflow/limits';
import { defineNode, done } from './define-node';
import { configTool } from './tool-schema';

export const codeConfig = z.object({
  code: z
    .string()
    .max(MAX_EXPRESSION_LENGTH)
    .describe(
      'JavaScript function body run in the sandbox; input, steps, item and index are in scope; return the output',
    ),
});

export const code = defineNode({
  type: 'code',
  label: 'Code',
  group: 'Data',
  icon: 'code',
  description: 'Runs a JavaScript function body in the sandbox; its return value is the output.',
  config: codeConfig,
  defaultConfig: { code: 'return input;' },
  agentCapable: true,
  codeFields: ['code'],
  async run({ config, scope, signal, services }) {
    try {
      return done(await services.runCode(config.code, scope, signal));
    } catch (err) {
      // A throw (or a TypeError…) inside the user's code is this step's own failure, not an
      // expression's: say so, so nobody hunts for a {{ }} that is not there.
      if (err instanceof TrellisError && err.code === 'expression_error')
        throw new TrellisError('node_error', `The code threw: ${err.message}`, {
          details: { thrownBy: 'code', ...(isObject(err.details) ? err.details : {}) },
          cause: err,
        });
      throw err;
    }
  },
  sandboxCall: (config) => ({ kind: 'code', code: config.code }),
  asTool: () =>
    configTool('Run a JavaScript function body in a sandbox and return its result', codeConfig, true),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
