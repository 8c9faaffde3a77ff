'use client';
import { memo } from 'react';
import type { AgentSettings, RetryPolicy } from '@/lib/workflow/definition';
import { groupTone, TypeIcon } from './icons';
import { fieldId, inputClass, labelClass, NumberInput, SchemaFields, type FieldContext } from './schema-form';
import { JsonField } from './json-field';
import { AgentModelField, AgentToolsField } from './agent-fields';
import { InspectorTabs } from './inspector-tabs';
import { PromotionTab } from '@/components/agent/promotion-tab';
import { LastRunTab } from './last-run-tab';
import { ReferencesContext, type ReferenceSource } from './reference-picker';
import type { LastRunView } from './use-last-run';
import type { NodeTypeInfo, StepData } from './types';
import { ExpressionField } from './expression-field';
import { StepErrorView } from './run-failure';
import { SchedulePanel } from './schedule-panel';
import { WebhookPanel } from './webhook-panel';

const DEFAULT_AGENT: AgentSettings = {
  instructions: '',
  tools: ['self'],
  maxSteps: 6,
  maxTokens: 8000,
  timeoutMs: 60_000,
  fallback: 'deterministic',
  shadow: false,
};
const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 1, backoffMs: 500, factor: 2 };

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section aria-label={title} className="border-b border-slate-100 px-4 py-3">
      <h3 className="mb-2 text-[11px] font-semibold tracking-wider text-slate-400 uppercase">{title}</h3>
      {children}
    </section>
  );
}

export const ConfigPanel = memo(function ConfigPanel({
  step,
  info,
  onChange,
  references,
  problemPaths,
  workflows,
  lastRun,
  workflowId,
  savedVersion = 0,
  workflowEnabled,
  onServerVersion,
  tab,
  onTab,
}: {
  step: StepData;
  info: NodeTypeInfo | undefined;
  onChange: (update: (s: StepData) => StepData) => void;
  /** What the expression picker offers (upstream steps, run input, last run's fields). */
  references: ReferenceSource;
  /** Problem message by path inside the node (`config/url`, `name`, …). */
  problemPaths: Map<string, string>;
  workflows: { id: string; name: string }[];
  lastRun: LastRunView | null;
  workflowId?: string;
  /** The latest saved version: panels that read the stored workflow refresh when it changes. */
  savedVersion?: number;
  /** The workflow's on/off switch: a schedule of an inactive workflow says it will not fire. */
  workflowEnabled?: boolean;
  /** A Promotion-tab action saved this version on the server: the editor takes its changes over. */
  onServerVersion?: (version: number) => void;
  /** The chosen inspector tab (kept by the editor across selections). */
  tab: string;
  onTab: (tab: string) => void;
}) {
  const id = step.id;
  const ctx: FieldContext = {
    nodeId: id,
    expressionFields: new Set(info?.expressionFields ?? []),
    problemPaths,
  };
  const agent = { ...DEFAULT_AGENT, ...step.agent };
  const setAgent = (patch: Partial<AgentSettings>) =>
    onChange((s) => ({ ...s, agent: { ...DEFAULT_AGENT, ...s.agent, ...patch } }));
  const retry = { ...DEFAULT_RETRY, ...step.retry };
  const setRetry = (patch: Partial<RetryPolicy>) =>
    onChange((s) => {
      const next = { ...DEFAULT_RETRY, ...s.retry, ...patch };
      for (const k of Object.keys(next) as (keyof RetryPolicy)[]) if (next[k] === undefined) delete next[k];
      return { ...s, retry: next };
    });
  const toggleTool = (tool: string, on: boolean) =>
    setAgent({ tools: on ? [...new Set([...agent.tools, tool])] : agent.tools.filter((t) => t !== tool) });
  const isAgent = step.mode === 'agent';
  const settings = (
    <>
      <Section title="General">
        <label htmlFor={fieldId(id, 'name')} className={labelClass}>
          Name
        </label>
        <input
          id={fieldId(id, 'name')}
          className={inputClass}
          value={step.name ?? ''}
          placeholder={info?.label}
          onChange={(e) => onChange((s) => ({ ...s, name: e.target.value || undefined }))}
        />
        {info?.description && <p className="mt-2 text-[11px] text-slate-500">{info.description}</p>}
        {problemPaths.get('type') && (
          <p className="mt-2 text-[11px] text-red-600">{problemPaths.get('type')}</p>
        )}
      </Section>

      {step.type === 'trigger.webhook' && workflowId && (
        <Section title="Webhook">
          <WebhookPanel workflowId={workflowId} savedVersion={savedVersion} />
        </Section>
      )}

      {step.type === 'trigger.schedule' && (
        <Section title="Schedule">
          <SchedulePanel
            cron={typeof step.config?.cron === 'string' ? step.config.cron : ''}
            timezone={typeof step.config?.timezone === 'string' ? step.config.timezone : undefined}
            enabled={workflowEnabled}
          />
        </Section>
      )}

      {info?.agentCapable && (
        <Section title="Mode">
          <div
            role="radiogroup"
            aria-label="Execution mode"
            className="grid grid-cols-2 gap-1 rounded-md bg-slate-100 p-0.5"
          >
            {(['workflow', 'agent'] as const).map((m) => {
              const active = (step.mode ?? 'workflow') === m;
              return (
                <button
                  key={m}
                  type="button"
                  role="radio"
                  aria-checked={active}
                  onClick={() =>
                    onChange((s) =>
                      m === 'agent'
                        ? { ...s, mode: 'agent', agent: { ...DEFAULT_AGENT, ...s.agent } }
                        : { ...s, mode: undefined },
                    )
                  }
                  className={`rounded px-2 py-1 text-xs font-medium ${active ? 'bg-white text-slate-900 shadow-sm' : 'text-slate-500 hover:text-slate-800'}`}
                >
                  {m === 'workflow' ? 'Deterministic' : 'Agent'}
                </button>
              );
            })}
          </div>
          {isAgent && (
            <div className="mt-3 space-y-3">
              <div>
                <label htmlFor={fieldId(id, 'agent/instructions')} className={labelClass}>
                  Instructions
                </label>
                <ExpressionField
                  id={fieldId(id, 'agent/instructions')}
                  label="Instructions"
                  value={agent.instructions}
                  onChange={(v) => setAgent({ instructions: v })}
                  kind="template"
                  multiline
                  rows={8}
                  invalid={problemPaths.has('agent/instructions')}
                />
              </div>
              <AgentModelField
                id={fieldId(id, 'agent/model')}
                value={agent.model}
                onChange={(model) => setAgent({ model })}
              />
              <AgentToolsField
                tools={[
                  { tool: 'self', label: 'This step (its deterministic operation)' },
                  { tool: 'http', label: 'HTTP (allow-listed hosts)' },
                  ...workflows.map((w) => ({ tool: `workflow:${w.id}`, label: `Workflow: ${w.name}` })),
                ]}
                selected={agent.tools}
                onToggle={toggleTool}
              />
              {agent.tools.includes('http') && (
                <div>
                  <label htmlFor={fieldId(id, 'agent/allowHosts')} className={labelClass}>
                    Allowed hosts (one per line)
                  </label>
                  <textarea
                    id={fieldId(id, 'agent/allowHosts')}
                    rows={2}
                    className="w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-xs"
                    value={(agent.allowHosts ?? []).join('\n')}
                    onChange={(e) =>
                      setAgent({
                        allowHosts: e.target.value
                          .split('\n')
                          .map((h) => h.trim())
                          .filter(Boolean),
                      })
                    }
                  />
                </div>
              )}
              <div className="grid grid-cols-3 gap-2">
                <div>
                  <label htmlFor={fieldId(id, 'agent/maxSteps')} className={labelClass}>
                    Max steps
                  </label>
                  <NumberInput
                    id={fieldId(id, 'agent/maxSteps')}
                    value={agent.maxSteps}
                    min={1}
                    onChange={(v) => setAgent({ maxSteps: v ?? DEFAULT_AGENT.maxSteps })}
                  />
                </div>
                <div>
                  <label htmlFor={fieldId(id, 'agent/maxTokens')} className={labelClass}>
                    Max tokens
                  </label>
                  <NumberInput
                    id={fieldId(id, 'agent/maxTokens')}
                    value={agent.maxTokens}
                    min={1}
                    onChange={(v) => setAgent({ maxTokens: v ?? DEFAULT_AGENT.maxTokens })}
                  />
                </div>
                <div>
                  <label htmlFor={fieldId(id, 'agent/timeoutMs')} className={labelClass}>
                    Agent timeout (ms)
                  </label>
                  <NumberInput
                    id={fieldId(id, 'agent/timeoutMs')}
                    value={agent.timeoutMs}
                    min={1}
                    onChange={(v) => setAgent({ timeoutMs: v ?? DEFAULT_AGENT.timeoutMs })}
                  />
                </div>
              </div>
              <div>
                <label htmlFor={fieldId(id, 'agent/fallback')} className={labelClass}>
                  On agent failure
                </label>
                <select
                  id={fieldId(id, 'agent/fallback')}
                  className={inputClass}
                  value={agent.fallback}
                  onChange={(e) => setAgent({ fallback: e.target.value as AgentSettings['fallback'] })}
                >
                  <option value="deterministic">Fall back to the deterministic step</option>
                  <option value="fail">Fail the step</option>
                </select>
              </div>
              {/* A type whose effects cannot happen twice has no shadow mode (its agent acts in place). */}
              {!info?.runsOnce && (
                <label className="flex items-center gap-2 text-xs text-slate-700">
                  <input
                    type="checkbox"
                    className="accent-brand-600"
                    checked={agent.shadow}
                    onChange={(e) => setAgent({ shadow: e.target.checked })}
                  />
                  Shadow mode (use the deterministic output, record the agent&apos;s beside it)
                </label>
              )}
            </div>
          )}
        </Section>
      )}

      <Section title={isAgent ? 'Deterministic config (fallback)' : 'Config'}>
        {info?.configSchema ? (
          <SchemaFields
            schema={info.configSchema}
            value={step.config ?? {}}
            ctx={ctx}
            basePath="config"
            onChange={(config) => onChange((s) => ({ ...s, config }))}
          />
        ) : (
          <JsonField
            id={fieldId(id, 'config')}
            nodeId={id}
            label="Config"
            value={step.config ?? {}}
            onCommit={(v) => onChange((s) => ({ ...s, config: (v ?? {}) as Record<string, unknown> }))}
            rows={6}
            template
          />
        )}
      </Section>

      <Section title="Reliability">
        <div className="grid grid-cols-3 gap-2">
          <div>
            <label htmlFor={fieldId(id, 'retry/maxAttempts')} className={labelClass}>
              Attempts
            </label>
            <NumberInput
              id={fieldId(id, 'retry/maxAttempts')}
              value={retry.maxAttempts}
              min={1}
              invalid={problemPaths.has('retry/maxAttempts')}
              onChange={(v) => setRetry({ maxAttempts: v ?? 1 })}
            />
          </div>
          <div>
            <label htmlFor={fieldId(id, 'retry/backoffMs')} className={labelClass}>
              Backoff (ms)
            </label>
            <NumberInput
              id={fieldId(id, 'retry/backoffMs')}
              value={retry.backoffMs}
              min={0}
              onChange={(v) => setRetry({ backoffMs: v ?? 0 })}
            />
          </div>
          <div>
            <label htmlFor={fieldId(id, 'retry/factor')} className={labelClass}>
              Factor
            </label>
            <NumberInput
              id={fieldId(id, 'retry/factor')}
              value={retry.factor}
              min={1}
              onChange={(v) => setRetry({ factor: v ?? 1 })}
            />
          </div>
        </div>
        <div className="mt-3 grid grid-cols-2 gap-2">
          <div>
            <label htmlFor={fieldId(id, 'timeoutMs')} className={labelClass}>
              Timeout (ms)
            </label>
            <NumberInput
              id={fieldId(id, 'timeoutMs')}
              value={step.timeoutMs}
              min={1}
              invalid={problemPaths.has('timeoutMs')}
              onChange={(v) => onChange((s) => ({ ...s, timeoutMs: v }))}
            />
          </div>
          <div>
            <label htmlFor={fieldId(id, 'onError')} className={labelClass}>
              On error
            </label>
            <select
              id={fieldId(id, 'onError')}
              className={inputClass}
              value={step.onError ?? 'fail'}
              onChange={(e) =>
                onChange((s) => ({
                  ...s,
                  onError: e.target.value === 'fail' ? undefined : (e.target.value as StepData['onError']),
                }))
              }
            >
              <option value="fail">Fail the run</option>
              <option value="continue">Continue</option>
              <option value="branch">Take the error branch</option>
            </select>
          </div>
        </div>
        {[...problemPaths]
          .filter(([p]) => /^(retry|timeoutMs|onError)/.test(p))
          .map(([p, m]) => (
            <p key={p} className="mt-2 text-[11px] text-red-600">
              {p}: {m}
            </p>
          ))}
      </Section>
    </>
  );

  return (
    <aside
      aria-label="Node settings"
      className="flex w-80 shrink-0 flex-col overflow-y-auto border-l border-slate-200 bg-white"
    >
      <div className="flex items-center gap-2 border-b border-slate-100 px-4 py-3">
        <span className={`grid h-7 w-7 place-items-center rounded-md ${groupTone(info?.group)}`}>
          <TypeIcon type={step.type} icon={info?.icon} />
        </span>
        <div className="min-w-0">
          <div className="truncate text-sm font-semibold">{step.name || info?.label || step.type}</div>
          <div className="truncate text-[11px] text-slate-500">
            {info?.label ?? step.type} · <span className="font-mono">{id}</span>
          </div>
        </div>
      </div>

      {lastRun?.fromSession && !lastRun.loading && lastRun.error !== undefined && lastRun.error !== null && (
        <div className="border-b border-slate-100 px-4 py-3">
          <StepErrorView
            error={lastRun.error}
            stepType={step.type}
            allowHosts={(step.config?.allowHosts as string[] | undefined) ?? []}
            onAllowHost={(host) =>
              onChange((s) => {
                const hosts = (s.config?.allowHosts as string[] | undefined) ?? [];
                return { ...s, config: { ...s.config, allowHosts: [...new Set([...hosts, host])] } };
              })
            }
          />
        </div>
      )}

      <ReferencesContext.Provider value={references}>
        <InspectorTabs
          idPrefix={`inspector-${id}`}
          active={tab}
          onChange={onTab}
          tabs={[
            { id: 'settings', label: 'Settings', content: settings },
            { id: 'last-run', label: 'Last run', content: <LastRunTab view={lastRun} /> },
            ...(info?.agentCapable && workflowId
              ? [
                  {
                    id: 'promotion',
                    label: 'Promotion',
                    content: (
                      <PromotionTab
                        workflowId={workflowId}
                        nodeId={id}
                        savedVersion={savedVersion}
                        onVersionSaved={onServerVersion}
                      />
                    ),
                  },
                ]
              : []),
          ]}
        />
      </ReferencesContext.Provider>
    </aside>
  );
});
