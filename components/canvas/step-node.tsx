'use client';
import type { WorkflowNode } from '@/lib/workflow/definition';
import { stageLabel, stageOf } from '@/lib/workflow/rollout';
import { memo } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { StatusIcon, StatusMark } from '@/components/ui/status-icon';
import { statusDot, statusLabel, statusStyle } from '@/components/ui/status-style';
import { useEditorActions } from './editor-actions';
import { outputsFor } from './graph';
import { groupTone, TypeIcon } from './icons';
import { useNodeSlice } from './node-status-store';
import type { StepFlowNode } from './types';
import { useCatalog } from './use-node-types';

function short(v: unknown, max = 48): string {
  const s = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** One line that tells what the step does without opening it. */
export function configSummary(type: string, config: Record<string, unknown>): string {
  switch (type) {
    case 'http.request':
      return `${config.method ?? 'GET'} ${short(config.url, 40)}`;
    case 'trigger.schedule':
      return short(config.cron);
    case 'condition':
      return short(config.expression);
    case 'switch':
      return `${Array.isArray(config.cases) ? config.cases.length : 0} cases`;
    case 'delay':
      return `${config.ms ?? 0} ms`;
    case 'llm':
      return short(config.prompt ?? config.model);
    case 'code':
      return short(
        String(config.code ?? '')
          .split('\n')
          .find((l) => l.trim()) ?? '',
      );
    case 'map':
      return `each of ${short(config.items, 36)}`;
    case 'merge':
      return `wait for ${config.mode ?? 'all'}`;
    case 'subworkflow':
      return short(config.workflowId);
    case 'approval':
      return short(config.message ?? 'Ask a person');
    case 'transform':
    case 'output':
      return short(config.value);
    default:
      return '';
  }
}

function StepNodeView({ id, data, selected }: NodeProps<StepFlowNode>) {
  const catalog = useCatalog();
  const slice = useNodeSlice(id);
  const step = data.step;
  const info = catalog.get(step.type);
  const outputs = outputsFor(step, info);
  const hasInput = info ? info.hasInput : !step.type.startsWith('trigger.');
  const summary = configSummary(step.type, step.config ?? {});
  const title = step.name || info?.label || step.type;
  const status = slice.status;
  const actions = useEditorActions();

  return (
    <div
      className={`group/step relative w-60 rounded-lg border bg-white text-left shadow-sm transition-shadow ${
        selected
          ? 'border-brand-500 shadow-md'
          : slice.problems
            ? slice.warningsOnly
              ? 'border-amber-300'
              : 'border-red-300'
            : 'border-slate-200'
      } ${status ? statusStyle(status).ring : ''}`}
      data-status={status ?? 'idle'}
      title={status === 'failed' && slice.error ? slice.error : undefined}
    >
      {hasInput && (
        <Handle
          type="target"
          position={Position.Top}
          id="in"
          aria-label={`${title} input`}
          className="step-detail !h-3 !w-3 !border-2 !border-white !bg-slate-400"
        />
      )}
      <div className="flex items-start gap-2 px-3 pt-2.5 pb-2">
        <span
          className={`mt-0.5 grid h-7 w-7 shrink-0 place-items-center rounded-md ${groupTone(info?.group)}`}
        >
          <TypeIcon type={step.type} icon={info?.icon} />
        </span>
        <div className="min-w-0 flex-1">
          <div className="flex items-center gap-1.5">
            <span className="truncate text-sm font-semibold text-slate-900">{title}</span>
            <StageBadge step={step} />
          </div>
          <div className="truncate text-[11px] text-slate-500">
            {info?.label ?? step.type}
            <span className="text-slate-300"> · </span>
            <span className="font-mono">{id}</span>
          </div>
        </div>
        {slice.problems > 0 && (
          <span
            role="img"
            aria-label={`${slice.problems} ${slice.warningsOnly ? 'warning' : 'problem'}${slice.problems > 1 ? 's' : ''}`}
            className={`grid h-5 min-w-5 place-items-center rounded-full px-1 text-[10px] font-bold text-white ${slice.warningsOnly ? 'bg-amber-500' : 'bg-red-500'}`}
          >
            {slice.problems}
          </span>
        )}
      </div>
      {summary && (
        <div className="truncate border-t border-slate-100 px-3 py-1.5 font-mono text-[11px] text-slate-600">
          {summary}
        </div>
      )}
      {status && (
        // A chip on the card's top edge, not a row: the card keeps its height while a run shows,
        // so nodes laid out close together do not grow into each other.
        <div
          className={`absolute -top-2.5 right-2 flex items-center gap-1 rounded-full border bg-white px-1.5 py-px text-[10px] leading-4 text-slate-700 shadow-sm ${statusStyle(status).border}`}
        >
          <StatusMark status={status} dotClass={`h-1.5 w-1.5 ${statusDot(status)}`} />
          <span>{statusLabel(status)}</span>
          {slice.mode && slice.mode !== 'workflow' && slice.mode !== status && (
            <span className="text-slate-400">· {slice.mode}</span>
          )}
        </div>
      )}
      {outputs.length > 0 && (
        <div className="relative h-4">
          {outputs.map((h, i) => {
            const left = `${((i + 1) / (outputs.length + 1)) * 100}%`;
            const isError = h === 'error';
            return (
              <div key={h}>
                {outputs.length > 1 && (
                  <span
                    className={`step-detail pointer-events-none absolute -bottom-5 -translate-x-1/2 text-[10px] font-medium ${
                      isError ? 'text-red-600' : 'text-slate-500'
                    }`}
                    style={{ left }}
                  >
                    {h}
                  </span>
                )}
                <Handle
                  type="source"
                  position={Position.Bottom}
                  id={h}
                  aria-label={`${title} output ${h}`}
                  style={{ left }}
                  className={`step-detail !h-3 !w-3 !border-2 !border-white ${isError ? '!bg-red-500' : '!bg-brand-600'}`}
                />
                <button
                  type="button"
                  aria-label={`Add a step after ${title}${outputs.length > 1 ? ` (${h})` : ''}`}
                  title={`Add a step after this one${outputs.length > 1 ? `, on “${h}”` : ''}: pick it in the palette`}
                  onClick={(e) => {
                    e.stopPropagation();
                    actions.addFrom(id, h);
                  }}
                  style={{ left }}
                  className={`step-detail nodrag nopan absolute top-2.5 ml-2 grid h-4 w-4 place-items-center rounded-full border border-slate-300 bg-white text-[11px] leading-none text-slate-500 hover:border-brand-500 hover:text-brand-700 focus-visible:opacity-100 ${selected ? 'opacity-100' : 'opacity-0 group-hover/step:opacity-100'}`}
                >
                  +
                </button>
              </div>
            );
          })}
        </div>
      )}
      {slice.status && <span className="sr-only">Status: {statusLabel(slice.status)}</span>}
      {status === 'failed' && slice.error && <span className="sr-only">Error: {slice.error}</span>}
    </div>
  );
}

const STAGE_HINT: Record<string, string> = {
  shadow: 'Shadow: the deterministic output serves, the agent is recorded beside it',
  canary: 'Canary: the agent serves this share of runs, the rest run in shadow',
  agent: 'Runs in agent mode; falls back to the deterministic step',
};

/** The rollout stage (text, not colour alone) and, after an automatic rollback, why. */
function StageBadge({ step }: { step: Pick<WorkflowNode, 'mode' | 'agent'> }) {
  const s = stageOf(step);
  const back = step.agent?.rolledBack;
  return (
    <>
      {s.stage !== 'workflow' && (
        <span
          className="flex items-center gap-0.5 rounded bg-indigo-100 px-1 py-px text-[10px] font-semibold tracking-wide whitespace-nowrap text-indigo-700 uppercase"
          title={STAGE_HINT[s.stage]}
        >
          <StatusIcon status="agent" className="h-2.5 w-2.5" />
          {stageLabel(s)}
        </span>
      )}
      {back && (
        <span
          role="img"
          aria-label={`Rolled back from ${back.from}: ${back.reason}`}
          title={`Rolled back from ${back.from} at ${back.at}: ${back.reason}`}
          className="rounded bg-amber-100 px-1 py-px text-[10px] font-semibold whitespace-nowrap text-amber-800"
        >
          ↩ rolled back
        </span>
      )}
    </>
  );
}

export const StepNode = memo(StepNodeView);
