import { TrellisError } from '@/lib/workflow/errors';
import { MAX_BROWSER_ACTIONS } from './limits';
import { snapshotOf } from './page-script';
import type { ActionLog } from './action-log';
import { runAction, type RunnerEnv } from './runner';
import { ACTION_TYPES, browserActionSchema, EXTRACT_KINDS, type BrowserAction } from './schema';

// The interface agent's tools over the step's live page: observe (a trimmed accessibility
// snapshot), act (one action of the same vocabulary as the deterministic list) and extract
// (schema-bound when the plan names a schema for that key). The context's egress proxy still decides
// what is reachable, so the agent cannot leave the allowed hosts; every action it takes is logged
// like a replayed one and becomes the healed sequence.

const TARGET_PARAMS = {
  type: 'object',
  properties: {
    role: { type: 'string' },
    name: { type: 'string' },
    label: { type: 'string' },
    text: { type: 'string' },
    css: { type: 'string' },
  },
  additionalProperties: false,
};

/** Shaped like lib/nodes' NodeTool, which the node hands to services.interfaceAgent. */
export interface BrowserTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  run(args: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
}

export interface AgentSession {
  tools: BrowserTool[];
  /** The actions the agent took, in order, with what each acted on. */
  taken: Array<{ action: BrowserAction; log: ActionLog }>;
}

export function browserAgentTools(
  env: RunnerEnv,
  opts: {
    /** Fill values the model may hand back as written in the plan; only those are rendered. */
    planValues: Set<string>;
    /** Schemas of the plan's extract actions, by `into`. */
    schemas: Map<string, Record<string, unknown>>;
    /** Index the first agent action gets in the log (after the replayed ones). */
    firstIndex: number;
    /** Called after each action the agent took (the step's log, per-action screenshots). */
    after?: (log: ActionLog) => Promise<void>;
  },
): AgentSession {
  const taken: AgentSession['taken'] = [];
  const agentEnv: RunnerEnv = {
    ...env,
    // The model's text is data: a template it writes is typed literally, unless it is one the
    // saved plan holds (a login's {{ secrets.password }}), which renders as the owner wrote it.
    render: (v) => (opts.planValues.has(v) ? env.render(v) : Promise.resolve(v)),
    readsSecrets: (v) => opts.planValues.has(v) && env.readsSecrets(v),
  };
  const run = async (action: BrowserAction) => {
    if (taken.length >= MAX_BROWSER_ACTIONS)
      throw new TrellisError('agent_budget_exceeded', `more than ${MAX_BROWSER_ACTIONS} actions`);
    const log = await runAction(agentEnv, action, opts.firstIndex + taken.length, 'agent');
    taken.push({ action, log });
    await opts.after?.(log);
    return log;
  };
  const tools: BrowserTool[] = [
    {
      name: 'observe',
      description:
        'List the visible controls of the current page (role, accessible name, the heading or region they sit in), with its URL and title.',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
      async run() {
        const snap = await snapshotOf(env.page);
        return { url: env.page.url(), title: await env.page.title(), ...snap };
      },
    },
    {
      name: 'act',
      description:
        'Do one action on the page: goto (url), click, fill (value), select (value), check (checked), press (key), waitFor, screenshot. Target a control by role + name (preferred), label, text or css.',
      parameters: {
        type: 'object',
        properties: {
          type: { type: 'string', enum: ACTION_TYPES.filter((t) => t !== 'extract') },
          target: TARGET_PARAMS,
          url: { type: 'string' },
          value: { type: 'string' },
          key: { type: 'string' },
          checked: { type: 'boolean' },
          state: { type: 'string', enum: ['visible', 'hidden', 'attached', 'detached'] },
          urlIncludes: { type: 'string' },
          fullPage: { type: 'boolean' },
        },
        required: ['type'],
        additionalProperties: false,
      },
      async run(args) {
        const parsed = browserActionSchema.safeParse(args);
        if (!parsed.success || parsed.data.type === 'extract')
          throw new TrellisError(
            'validation_error',
            `not an action: ${parsed.success ? 'use the extract tool' : parsed.error.issues[0]?.message}`,
          );
        const log = await run(parsed.data);
        return { ok: true, url: log.url, title: await env.page.title(), actedOn: log.observed ?? null };
      },
    },
    {
      name: 'extract',
      description:
        'Read a value from the page into the step output under `into`: text, an attribute, a table (rows as objects) or a list.',
      parameters: {
        type: 'object',
        properties: {
          into: { type: 'string' },
          as: { type: 'string', enum: [...EXTRACT_KINDS] },
          target: TARGET_PARAMS,
          attribute: { type: 'string' },
        },
        required: ['into'],
        additionalProperties: false,
      },
      async run(args) {
        const schema = opts.schemas.get(String(args.into));
        const parsed = browserActionSchema.safeParse({
          ...args,
          type: 'extract',
          ...(schema ? { schema } : {}),
        });
        if (!parsed.success)
          throw new TrellisError('validation_error', parsed.error.issues[0]?.message ?? 'invalid');
        await run(parsed.data);
        return { ok: true, into: args.into, value: env.extracted[String(args.into)] };
      },
    },
  ];
  return { tools, taken };
}
