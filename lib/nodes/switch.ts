import { z } from 'zod';
import { SWITCH_DEFAULT_HANDLE, switchHandles } from '@/lib/workflow/graph';
import { MAX_ID_LENGTH, MAX_SWITCH_CASES } from '@/lib/workflow/limits';
import { defineNode, done } from './define-node';
import { configTool } from './tool-schema';

export const DEFAULT_CASE = SWITCH_DEFAULT_HANDLE;
const RESERVED = new Set([DEFAULT_CASE, 'error']);

export const switchConfig = z.object({
  cases: z
    .array(
      z.object({
        id: z
          .string()
          .min(1)
          .max(MAX_ID_LENGTH)
          .regex(
            /^[A-Za-z_][A-Za-z0-9_-]*$/,
            'case ids start with a letter or _ and hold letters, digits, _ and -',
          )
          .refine((id) => !RESERVED.has(id), 'case ids "default" and "error" are reserved')
          .describe('Name of the output handle this case takes'),
        expression: z.string().min(1).describe('JavaScript expression; the first truthy case wins'),
      }),
    )
    .max(MAX_SWITCH_CASES)
    .superRefine((cases, ctx) => {
      const seen = new Set<string>();
      cases.forEach((c, i) => {
        if (seen.has(c.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `case id "${c.id}" is used twice` });
        seen.add(c.id);
      });
    })
    .describe("Cases in order; when none is true the 'default' handle is taken"),
});

export const switchNode = defineNode({
  type: 'switch',
  label: 'Switch',
  group: 'Logic',
  icon: 'split',
  description: 'Sends the input on to the first case whose expression is true, else to default.',
  config: switchConfig,
  defaultConfig: { cases: [{ id: 'case1', expression: 'false' }] },
  outputs: (config) => switchHandles(config),
  expressionFields: ['cases[].expression'],
  agentCapable: true,
  async run({ config, input, scope, signal, services }) {
    for (const c of config.cases) {
      if (await services.evaluate(c.expression, scope, signal)) return done(input, c.id);
    }
    return done(input, DEFAULT_CASE);
  },
  asTool: () =>
    configTool('Pick the first matching case among named JavaScript expressions', switchConfig, true),
});
