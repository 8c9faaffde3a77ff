import { z } from 'zod';
import { guardedFetch } from '@/lib/net/guarded-fetch';
import { TrellisError } from '@/lib/workflow/errors';
import { defineNode, done } from './define-node';
import {
  dslError,
  evalDeep,
  frameOf,
  runTask,
  WorkflowError,
  type Envelope,
  type RuntimeHost,
} from './serverless-workflow/runtime';

// One top-level task of an imported Serverless Workflow document (lib/import/serverless-workflow.ts).
// Its expressions are jq (`expressionLanguage: "jq"`). Between steps travels an envelope: the
// task's transformed output, the workflow context ($context) and the workflow's own data; flow
// directives (`then`) pick the outgoing handle, which names the next task's node (or "end").

const rec = z.record(z.string(), z.unknown());

export const swTaskConfig = z.object({
  kind: z
    .enum(['start', 'task', 'end'])
    .describe('start: workflow input; task: one DSL task; end: workflow output'),
  name: z.string().optional().describe('The task name in the document'),
  task: rec.optional().describe('The DSL task definition (jq expressions in ${ })'),
  pointer: z.string().optional().describe('Where the task sits in the document, e.g. /do/0/fetch'),
  next: z.string().default('end').describe('Node to continue with (a node id, or "end")'),
  targets: z
    .record(z.string(), z.string())
    .default({})
    .describe('Task names the task may jump to, and their node ids'),
  input: rec.optional().describe('start: the workflow `input` (from)'),
  output: rec.optional().describe('end: the workflow `output` (as)'),
  errors: rec.optional().describe('start: use.errors of the document'),
  document: rec.optional().describe('start: the document header (dsl, namespace, name, version)'),
  documents: rec
    .optional()
    .describe('OpenAPI documents the task calls, resolved at import (local files only)'),
});
type SwTaskConfig = z.infer<typeof swTaskConfig>;

export const END_HANDLE = 'end';
/** Emitted events kept on a step; more are dropped (there is no broker to hand them to). */
export const MAX_EMITTED_EVENTS = 100;

function handles(c: SwTaskConfig): string[] {
  if (c.kind === 'end') return ['out'];
  return [...new Set([c.next, ...Object.values(c.targets), END_HANDLE])];
}

function envelopeOf(input: unknown): Envelope {
  const e = input as Envelope | undefined;
  if (!e || typeof e !== 'object' || !('workflow' in e))
    throw new TrellisError(
      'node_error',
      'sw.task expects the envelope of the previous Serverless Workflow task',
    );
  return e;
}

export const swTask = defineNode({
  type: 'sw.task',
  label: 'Serverless Workflow task',
  group: 'Flow',
  icon: 'list',
  description: 'One task of an imported Serverless Workflow (DSL 1.0) document; its expressions are jq.',
  config: swTaskConfig,
  defaultConfig: { kind: 'task', task: { set: {} }, next: 'end', targets: {} },
  outputs: (config) => handles(config),
  expressionLanguages: ['jq'],
  async run({ config, input, scope, signal, clock, services }) {
    const emitted: unknown[] = [];
    const host = (env: Envelope): RuntimeHost => ({
      fetch: (url, init) => (services.fetch ?? guardedFetch)(url, init),
      sleep: (ms, s) => clock.sleep(ms, s),
      signal,
      errors: ((env as Envelope & { errors?: Record<string, unknown> }).errors ?? {}) as Record<
        string,
        unknown
      >,
      secrets: scope.secrets,
      documents: config.documents,
      emitted,
    });
    if (config.kind === 'start') {
      const workflow = {
        input,
        startedAt: new Date(clock.now()).toISOString(),
        name: String(config.document?.name ?? ''),
      };
      const env: Envelope & { errors?: unknown } = {
        output: input,
        context: {},
        workflow,
        errors: config.errors ?? {},
      };
      const from = config.input?.from;
      if (from !== undefined)
        env.output = await evalDeep(from, input, frameOf(env), host(env), '/input/from');
      return done(env, config.next);
    }
    const env = envelopeOf(input);
    if (config.kind === 'end') {
      const as = config.output?.as;
      const value =
        as === undefined ? env.output : await evalDeep(as, env.output, frameOf(env), host(env), '/output/as');
      return done(value, 'out');
    }
    const frame = frameOf(env);
    let result;
    try {
      result = await runTask(
        config.name ?? '',
        config.task ?? {},
        env.output,
        frame,
        host(env),
        config.pointer ?? '/do',
      );
    } catch (err) {
      if (err instanceof WorkflowError) throw err;
      if (err instanceof TrellisError) throw err;
      throw dslError('runtime', 500, config.pointer ?? '/do', (err as Error).message);
    }
    const next: Envelope & { emitted?: unknown[] } = {
      ...env,
      output: result.output,
      context: frame.context,
    };
    if (emitted.length) next.emitted = emitted.slice(0, MAX_EMITTED_EVENTS);
    const then = result.then;
    if (then === 'continue') return done(next, config.next);
    if (then === 'end' || then === 'exit') return done(next, END_HANDLE);
    const handle = config.targets[then];
    if (!handle)
      throw dslError('configuration', 400, `${config.pointer}/then`, `"then: ${then}" names no later task`);
    return done(next, handle);
  },
});
