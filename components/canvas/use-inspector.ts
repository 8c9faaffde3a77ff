'use client';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useStore, type ReactFlowState } from '@xyflow/react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api } from '@/components/ui/api';
import { fieldForPath } from './graph';
import type { ProblemRow } from './problems-panel';
import { fieldId } from './schema-form';
import type { FlowNode, StepData, StepFlowNode } from './types';
import type { EditorDocument } from './use-editor-history';
import { useLastRunData, useSelectedStepRun } from './use-last-run';
import { useReferenceSource } from './use-reference-source';

// What the inspector (config panel) shows for the selected step, and jumping from a problem to
// its node and field.

/** The step the inspector shows: the one selected node, when it is a step. */
export interface SelectedStep {
  id: string;
  data: StepFlowNode['data'];
}

const selectedStepOf = (s: ReactFlowState): SelectedStep | null => {
  let one: FlowNode | null = null;
  for (const n of s.nodes as FlowNode[]) {
    if (!n.selected) continue;
    if (one) return null;
    one = n;
  }
  return one?.type === 'step' ? { id: one.id, data: (one as StepFlowNode).data } : null;
};
// A drag moves the selected node (a new object every frame) but keeps its data: the editor does
// not re-render while the card moves.
const sameStep = (a: SelectedStep | null, b: SelectedStep | null) =>
  a === b || (!!a && !!b && a.id === b.id && a.data === b.data);

export function useInspector(
  workflowId: string,
  doc: EditorDocument,
  problemRows: ProblemRow[],
  validated: WorkflowDefinition,
  runId: string | null,
  runStatus: string | null,
  updateStep: (id: string, update: (s: StepData) => StepData) => void,
) {
  const { rf, setNodes, setEdges } = doc;
  const selectedStep = useStore(selectedStepOf, sameStep);
  const selectedId = selectedStep?.id;

  const problemPaths = useMemo(() => {
    const m = new Map<string, string>();
    for (const p of problemRows) if (p.nodeId === selectedId) m.set(fieldForPath(p.path) ?? '', p.message);
    return m;
  }, [problemRows, selectedId]);

  const [workflows, setWorkflows] = useState<{ id: string; name: string }[]>([]);
  useEffect(() => {
    api<{ workflows: { id: string; name: string }[] }>('/api/workflows').then(
      (r) => setWorkflows(r.workflows.filter((w) => w.id !== workflowId)),
      () => setWorkflows([]),
    );
  }, [workflowId]);

  const runData = useLastRunData(workflowId, runId, runStatus);
  const lastRun = useSelectedStepRun(runData, selectedId);
  const references = useReferenceSource(selectedId, doc.definition, runData);
  // The chosen tab outlives the selection: comparing steps' last runs is click, click, click.
  const [tab, setTab] = useState('settings');

  /** Select one node and bring it into view. */
  const focusNode = useCallback(
    (nodeId: string) => {
      setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === nodeId })));
      const node = rf.getNode(nodeId);
      if (node) {
        const w = node.measured?.width ?? 240;
        const h = node.measured?.height ?? 80;
        void rf.setCenter(node.position.x + w / 2, node.position.y + h / 2, {
          zoom: Math.max(rf.getZoom(), 0.9),
          duration: 250,
        });
      }
    },
    [rf, setNodes],
  );

  const pickProblem = useCallback(
    (p: ProblemRow) => {
      if (!p.nodeId) {
        const m = /^\/edges\/(\d+)/.exec(p.path);
        const edgeId = m ? validated.edges[Number(m[1])]?.id : undefined;
        if (edgeId) setEdges((es) => es.map((e) => ({ ...e, selected: e.id === edgeId })));
        return;
      }
      focusNode(p.nodeId);
      const field = fieldForPath(p.path);
      if (field) {
        // The panel mounts on the next render; focus the field once it exists.
        setTimeout(() => {
          const candidates = [field, field.split('/').slice(0, 2).join('/'), field.split('/')[0]];
          for (const c of candidates) {
            const el = document.getElementById(fieldId(p.nodeId!, c));
            if (el) {
              el.focus();
              break;
            }
          }
        }, 60);
      }
    },
    [validated.edges, focusNode, setEdges],
  );

  const onStepChange = useCallback(
    (u: (s: StepData) => StepData) => {
      if (selectedId) updateStep(selectedId, u);
    },
    [selectedId, updateStep],
  );

  return {
    selectedStep,
    references,
    tab,
    setTab,
    problemPaths,
    workflows,
    lastRun,
    focusNode,
    pickProblem,
    onStepChange,
  };
}
