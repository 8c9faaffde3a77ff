import { z } from 'zod';
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
    return done(await services.runCode(config.code, scope, signal));
  },
  asTool: () =>
    configTool('Run a JavaScript function body in a sandbox and return its result', codeConfig, true),
});
