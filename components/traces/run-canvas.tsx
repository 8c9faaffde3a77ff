'use client';
import { memo, useMemo } from 'react';
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from '@xyflow/react';
import { TypeIcon } from '@/components/canvas/icons';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { formatDuration } from './format';
import type { NodeOutcome } from './node-outcomes';
import { StatusIcon, StatusMark } from '@/components/ui/status-icon';
import { statusDot, statusStyle } from '@/components/ui/status-style';
import { OUTCOME_LABEL } from './run-status';

// The definition version the run used, read-only, each node tinted by its outcome. The graph is
// rebuilt only when outcomes change (a throttled refetch), so node data carrying the outcome is
// cheap here; the editor keeps live status outside node data because it re-renders far more.

type TraceNodeData = {
  title: string;
  type: string;
  outcome: string;
  attempts: number;
  items: number;
  failedItems: number;
  durationMs: number | null;
  agent: boolean;
  selected: boolean;
};
type TraceFlowNode = Node<TraceNodeData, 'trace'>;

/** The smallest zoom fitting the run graph may choose (its cards' text stays legible). */
export const FIT_MIN_ZOOM = 0.5;

function TraceNodeView({ data }: NodeProps<TraceFlowNode>) {
  const dim = data.outcome === 'not-run' || data.outcome === 'skipped';
  return (
    <div
      className={`w-52 overflow-hidden rounded-lg border-2 bg-white text-left shadow-sm ${statusStyle(data.outcome).border} ${
        dim ? 'opacity-60' : ''
      } ${data.selected ? 'shadow-lg ring-4 ring-brand-500/25' : ''}`}
      data-outcome={data.outcome}
    >
      <Handle
        type="target"
        position={Position.Top}
        id="in"
        className="!h-2 !w-2 !border-0 !bg-slate-300"
        isConnectable={false}
      />
      <div className="flex items-center gap-2 px-2.5 pt-2 pb-1.5">
        <span className="grid h-6 w-6 shrink-0 place-items-center rounded bg-slate-100 text-slate-600">
          <TypeIcon type={data.type} className="h-3.5 w-3.5" />
        </span>
        <div className="min-w-0 flex-1">
          <div className="truncate text-[13px] font-semibold text-slate-900">{data.title}</div>
          <div className="truncate font-mono text-[10px] text-slate-500">{data.type}</div>
        </div>
        {data.agent && (
          <span className="flex items-center gap-0.5 rounded bg-indigo-100 px-1 text-[9px] font-bold text-indigo-700 uppercase">
            <StatusIcon status="agent" className="h-2.5 w-2.5" />
            Agent
          </span>
        )}
      </div>
      <div className="flex items-center gap-1.5 border-t border-slate-100 px-2.5 py-1 text-[11px] text-slate-600">
        <StatusMark status={data.outcome} dotClass={`h-1.5 w-1.5 ${statusDot(data.outcome)}`} />
        <span className="font-medium">{OUTCOME_LABEL[data.outcome] ?? data.outcome}</span>
        {data.attempts > 1 && (
          <span className="rounded bg-amber-100 px-1 font-medium text-amber-800">×{data.attempts}</span>
        )}
        {data.items > 0 && (
          <span className="text-slate-500">
            {data.items} items{data.failedItems ? `, ${data.failedItems} failed` : ''}
          </span>
        )}
        <span className="ml-auto whitespace-nowrap text-slate-400 tabular-nums">
          {data.durationMs !== null ? formatDuration(data.durationMs) : ''}
        </span>
      </div>
      <Handle
        type="source"
        position={Position.Bottom}
        className="!h-2 !w-2 !border-0 !bg-slate-300"
        isConnectable={false}
      />
    </div>
  );
}

const nodeTypes = { trace: memo(TraceNodeView) };

export function RunCanvas({
  definition,
  outcomes,
  finished,
  selectedNodeId,
  onSelectNode,
}: {
  definition: WorkflowDefinition;
  outcomes: Map<string, NodeOutcome>;
  finished: boolean;
  selectedNodeId: string | null;
  onSelectNode: (nodeId: string) => void;
}) {
  const nodes = useMemo<TraceFlowNode[]>(
    () =>
      definition.nodes.map((n) => {
        const o = outcomes.get(n.id);
        return {
          id: n.id,
          type: 'trace',
          position: n.position ?? { x: 0, y: 0 },
          ariaLabel: `${n.name || n.id}: ${OUTCOME_LABEL[o?.outcome ?? (finished ? 'not-run' : 'queued')]}`,
          data: {
            title: n.name || n.id,
            type: n.type,
            outcome: o?.outcome ?? (finished ? 'not-run' : 'queued'),
            attempts: o?.attempts ?? 0,
            items: o?.items ?? 0,
            failedItems: o?.failedItems ?? 0,
            durationMs: o?.durationMs ?? null,
            agent: n.mode === 'agent',
            selected: n.id === selectedNodeId,
          },
        };
      }),
    [definition, outcomes, finished, selectedNodeId],
  );
  const edges = useMemo<Edge[]>(
    () =>
      definition.edges.map((e) => {
        const taken = outcomes.has(e.source) && outcomes.has(e.target);
        return {
          id: e.id,
          source: e.source,
          target: e.target,
          label: e.sourceHandle && e.sourceHandle !== 'out' ? e.sourceHandle : undefined,
          animated: taken && outcomes.get(e.target)?.outcome === 'running',
          style: {
            stroke: taken ? '#64748b' : '#cbd5e1',
            strokeWidth: taken ? 1.6 : 1,
            strokeDasharray: taken ? undefined : '4 4',
          },
          labelStyle: { fontSize: 10, fill: '#64748b' },
        };
      }),
    [definition, outcomes],
  );
  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      nodesDraggable={false}
      nodesConnectable={false}
      edgesFocusable={false}
      elementsSelectable
      onNodeClick={(_, n) => onSelectNode(n.id)}
      fitView
      // Fit, but never below a readable zoom: a long chain opens on its start, not as specks.
      fitViewOptions={{ padding: 0.15, maxZoom: 1, minZoom: FIT_MIN_ZOOM }}
      minZoom={0.1}
      proOptions={{ hideAttribution: true }}
      aria-label="Workflow graph for this run"
    >
      <Background gap={16} color="#e2e8f0" />
      <Controls showInteractive={false} position="bottom-right" />
    </ReactFlow>
  );
}

export function OutcomeLegend() {
  const items = ['succeeded', 'failed', 'skipped', 'fallback', 'agent', 'shadow', 'waiting', 'running'];
  return (
    <ul
      aria-label="Legend"
      className="flex flex-wrap items-center gap-x-3 gap-y-1 text-[11px] text-slate-500"
    >
      {items.map((k) => (
        <li key={k} className="flex items-center gap-1">
          <StatusMark status={k} dotClass={`h-2 w-2 ${statusDot(k)}`} />
          {OUTCOME_LABEL[k]}
        </li>
      ))}
    </ul>
  );
}
