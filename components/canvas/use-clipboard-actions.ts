'use client';
import { useCallback } from 'react';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { readClipboard, rekey, writeClipboard } from './clipboard';
import { edgeToFlow, stepToFlow } from './convert';
import type { StepFlowNode } from './types';
import type { EditorDocument } from './use-editor-history';

// Copy, paste and duplicate of the selected steps (with the edges among them); the payload
// format and re-keying live in clipboard.ts.

type Notify = (text: string, tone?: 'ok' | 'error') => void;

const stepsAsDefinition = (flowNodes: StepFlowNode[]) =>
  flowNodes.map((n) => ({ ...n.data.step, position: n.position }) as WorkflowNode);

export function useClipboardActions(doc: EditorDocument, notify: Notify) {
  const { rf, setNodes, setEdges, definition } = doc;

  const selectedSteps = useCallback(
    () => rf.getNodes().filter((n): n is StepFlowNode => n.type === 'step' && !!n.selected),
    [rf],
  );

  const insertNodes = useCallback(
    (
      payload: { nodes: WorkflowNode[]; edges: WorkflowDefinition['edges'] },
      offset: { x: number; y: number },
    ) => {
      const taken = new Set([...rf.getNodes().map((n) => n.id), ...rf.getEdges().map((e) => e.id)]);
      const fresh = rekey(payload, taken, offset);
      setNodes((ns) => [
        ...ns.map((n) => (n.selected ? { ...n, selected: false } : n)),
        ...fresh.nodes.map((n) => ({ ...stepToFlow(n), selected: true })),
      ]);
      setEdges((es) => [...es, ...fresh.edges.map(edgeToFlow)]);
      return fresh.nodes.length;
    },
    [rf, setEdges, setNodes],
  );

  const duplicate = useCallback(() => {
    const sel = selectedSteps();
    if (!sel.length) return;
    const ids = new Set(sel.map((n) => n.id));
    insertNodes(
      {
        nodes: stepsAsDefinition(sel),
        edges: definition.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
      },
      { x: 40, y: 40 },
    );
  }, [definition.edges, insertNodes, selectedSteps]);

  const copy = useCallback(async () => {
    const sel = selectedSteps();
    if (!sel.length) return;
    await writeClipboard(stepsAsDefinition(sel), definition.edges);
    notify(`Copied ${sel.length} node${sel.length > 1 ? 's' : ''}`);
  }, [definition.edges, notify, selectedSteps]);

  const paste = useCallback(async () => {
    const payload = await readClipboard();
    if (!payload) return notify('The clipboard holds no Trellis nodes', 'error');
    const n = insertNodes(payload, { x: 40, y: 40 });
    notify(`Pasted ${n} node${n > 1 ? 's' : ''}`);
  }, [insertNodes, notify]);

  return { duplicate, copy, paste };
}
