import { TrellisError } from '@/lib/workflow/errors';
import { stageOf } from '@/lib/workflow/rollout';
import { defineNode, type NodeRunContext } from '@/lib/nodes/define-node';
import { configTool } from '@/lib/nodes/tool-schema';
import { browserAgentTools } from '@/lib/browser/agent-tools';
import type { EgressRules } from '@/lib/browser/egress-proxy';
import { DEFAULT_ACTION_TIMEOUT_MS } from '@/lib/browser/limits';
import { sharedBrowserPool } from '@/lib/browser/pool';
import type { ActionLog, BrowserTrace } from '@/lib/browser/action-log';
import {
  domSnapshot,
  recorded,
  runAction,
  screenshot,
  TargetMissing,
  type RunnerEnv,
} from '@/lib/browser/runner';
import { browserConfigSchema, type BrowserAction, type BrowserConfig } from '@/lib/browser/schema';

// A browser step: deterministic web actions on a real Chromium (lib/browser), replayed with a
// check of every target against what was recorded. When a target is missing and healing is
// allowed (agent mode or heal: true), the interface agent finishes the goal with observe / act /
// extract and the step is marked healed, carrying the new sequence the owner may accept.

const HEAL_ANSWER = {
  type: 'object',
  properties: { done: { type: 'boolean' }, note: { type: 'string' } },
  required: ['done'],
};

export interface BrowserOutput extends BrowserTrace {
  url: string;
  title: string;
  extracted: Record<string, unknown>;
  /** The actions as they ran, each target's `expect` set to what it acted on: what "accept" saves. */
  recorded: BrowserAction[];
  healed?: { fromAction: number; reason: string; actions: BrowserAction[]; tokens: number; cost: number };
}

const readsSecrets = (template: string) => /\bsecrets\b/.test(template);

export async function runBrowser(ctx: NodeRunContext<BrowserConfig>) {
  const { config, scope, signal, services } = ctx;
  const render = async (t: string) => {
    const v = await services.render(t, scope, signal);
    return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
  };
  const startUrl = await render(config.startUrl);
  let start: URL;
  try {
    start = new URL(startUrl);
  } catch {
    throw new TrellisError('validation_error', `startUrl is not a URL: ${startUrl.slice(0, 200)}`, {
      details: { pointer: '/config/startUrl' },
    });
  }
  const rules: EgressRules = config.allowHosts?.length
    ? { allowHosts: config.allowHosts }
    : { pinHost: start.host };
  const pool = sharedBrowserPool();
  const lease = await pool.acquire(rules, signal);
  const { page, guard } = lease;
  const onAbort = () => void lease.context.close().catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  const logs: ActionLog[] = [];
  try {
    if (config.viewport) await page.setViewportSize(config.viewport);
    const env: RunnerEnv = {
      page,
      guard,
      timeoutMs: config.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS,
      render,
      readsSecrets,
      ...(services.saveArtifact
        ? {
            saveScreenshot: (bytes: Buffer, meta: Record<string, unknown>) =>
              services.saveArtifact!({ kind: 'screenshot', mime: 'image/jpeg', bytes, meta }),
            ...(config.domSnapshots
              ? {
                  saveDom: (bytes: Buffer, meta: Record<string, unknown>) =>
                    services.saveArtifact!({ kind: 'dom', mime: 'text/html; charset=utf-8', bytes, meta }),
                }
              : {}),
          }
        : {}),
      t0: performance.now(),
      extracted: {},
      screenshots: [],
      secretFields: [],
      secretValues: [],
    };
    const after = async (log: ActionLog) => {
      if (config.captureEachAction && log.type !== 'screenshot')
        log.screenshot = await screenshot(env, { action: log.index, by: log.by });
      log.dom = await domSnapshot(env, { action: log.index, by: log.by });
      logs.push(log);
    };
    const step = async (action: BrowserAction, index: number, by: ActionLog['by']) => {
      const log = await runAction(env, action, index, by);
      await after(log);
      return log;
    };
    const failed = async (index: number, type: BrowserAction['type'], err: unknown) => {
      const log: ActionLog = {
        index,
        type,
        by: 'replay',
        status: err instanceof TargetMissing ? 'missing' : 'failed',
        startMs: 0,
        durationMs: 0,
        error: (err as Error)?.message ?? String(err),
        url: page.url(),
      };
      logs.push(log);
      await screenshot(env, { action: index, failed: true }).catch(() => undefined);
      log.dom = await domSnapshot(env, { action: index, failed: true }).catch(() => undefined);
    };
    const finish = async (extra: Partial<BrowserOutput>): Promise<BrowserOutput> => ({
      url: page.url(),
      title: await page.title(),
      extracted: env.extracted,
      screenshots: env.screenshots,
      actions: logs,
      blocked: guard.blocked(),
      recorded: [],
      ...extra,
    });
    const withTrace = async (err: unknown) => {
      if (!(err instanceof TrellisError)) return err;
      const trace = await finish({}).catch(() => null);
      return new TrellisError(err.code, err.message, {
        details: {
          ...(err.details as object | undefined),
          ...(trace
            ? { actions: trace.actions, blocked: trace.blocked, screenshots: trace.screenshots }
            : {}),
        },
        retryable: err.retryable,
        cause: err,
      });
    };

    try {
      await step({ type: 'goto', url: config.startUrl }, -1, 'replay');
    } catch (err) {
      await failed(-1, 'goto', err);
      throw await withTrace(err);
    }
    const replayed: BrowserAction[] = [];
    for (let i = 0; i < config.actions.length; i++) {
      const action = config.actions[i];
      try {
        const log = await step(action, i, 'replay');
        replayed.push(recorded(action, log.observed));
        continue;
      } catch (err) {
        if (signal.aborted) throw signal.reason ?? err;
        await failed(i, action.type, err);
        // Agent stage (not shadow or canary: healing acts on the page, so it cannot run beside the replay).
        const healable = err instanceof TargetMissing && (config.heal || stageOf(ctx.node).stage === 'agent');
        if (!healable) throw await withTrace(err);
        if (!services.interfaceAgent)
          throw await withTrace(
            new TrellisError(
              'browser_target_missing',
              `${(err as Error).message} (healing needs a model: none is available to this step)`,
              { details: (err as TrellisError).details },
            ),
          );
        const healed = await heal(ctx, env, i, err, after);
        if (!healed.ok) throw await withTrace(healed.error);
        const sequence = [...replayed, ...healed.actions];
        const output = await finish({
          recorded: sequence,
          healed: {
            fromAction: i,
            reason: err.reason,
            actions: sequence,
            tokens: healed.tokens,
            cost: healed.cost,
          },
        });
        return { kind: 'done' as const, output, tokens: healed.tokens, cost: healed.cost, healed: true };
      }
    }
    return { kind: 'done' as const, output: await finish({ recorded: replayed }) };
  } finally {
    signal.removeEventListener('abort', onAbort);
    void pool.release(lease);
  }
}

async function heal(
  ctx: NodeRunContext<BrowserConfig>,
  env: RunnerEnv,
  from: number,
  missing: TargetMissing,
  after: (log: ActionLog) => Promise<void>,
): Promise<
  { ok: true; actions: BrowserAction[]; tokens: number; cost: number } | { ok: false; error: TrellisError }
> {
  const { config, signal } = ctx;
  const plan = config.actions.slice(from);
  const planValues = new Set(config.actions.flatMap((a) => (a.type === 'fill' ? [a.value] : [])));
  const schemas = new Map(
    config.actions.flatMap((a) => (a.type === 'extract' && a.schema ? [[a.into, a.schema] as const] : [])),
  );
  const session = browserAgentTools(env, { planValues, schemas, firstIndex: from, after });
  const goal =
    ctx.node.agent?.instructions?.trim() ||
    'Finish this browser step: carry out the remaining plan on the current page, finding each control by what it is for.';
  const res = await ctx.services.interfaceAgent!({
    goal,
    context: {
      goal,
      url: env.page.url(),
      stoppedAt: { index: from, reason: missing.reason },
      plan: plan.map((action, k) => ({ index: from + k, ...action })),
      extracted: Object.keys(env.extracted),
    },
    tools: session.tools,
    outputSchema: HEAL_ANSWER,
    signal,
  });
  const spend = { tokens: res.tokens, cost: res.cost };
  if (res.outcome !== 'ok')
    return {
      ok: false,
      error: new TrellisError(
        'browser_target_missing',
        `${missing.message}; healing stopped (${res.reason}): ${res.message ?? ''}`,
        {
          details: { ...(missing.details as object), healReason: res.reason, ...spend },
        },
      ),
    };
  // The agent says it is done; the plan's own reads are the check that it is.
  const wanted = plan.flatMap((a) => (a.type === 'extract' ? [a.into] : []));
  const lacking = wanted.filter((k) => !(k in env.extracted));
  if (session.taken.length === 0 || lacking.length)
    return {
      ok: false,
      error: new TrellisError(
        'browser_target_missing',
        `${missing.message}; the agent finished without ${lacking.length ? `extracting ${lacking.join(', ')}` : 'acting'}`,
        {
          details: { ...(missing.details as object), healReason: 'incomplete', ...spend },
        },
      ),
    };
  return { ok: true, actions: session.taken.map((t) => recorded(t.action, t.log.observed)), ...spend };
}

export const browser = defineNode({
  type: 'browser',
  label: 'Browser',
  group: 'Data',
  icon: 'globe',
  description:
    'Open a page in a real browser and run deterministic actions (click, fill, extract, screenshot). Only the start URL host (or allowHosts) is reachable. Agent mode heals a changed page.',
  config: browserConfigSchema,
  defaultConfig: {
    startUrl: 'https://example.com',
    actions: [{ type: 'extract', into: 'heading', as: 'text', target: { role: 'heading' } }],
  },
  agentCapable: true,
  interfaceAgent: true,
  // Healing acts on the live page: it cannot run beside the replay (no shadow or canary).
  runsOnce: true,
  async run(ctx) {
    return runBrowser(ctx);
  },
  // Agent mode does not call this step as a `self` tool: it heals through its own interface agent
  // (observe / act / extract). The tool is what the registry shows an agent of another step.
  asTool: () =>
    configTool(
      'Run a browser step: open startUrl and carry out the actions',
      browserConfigSchema.omit({ allowHosts: true }),
    ),
});
