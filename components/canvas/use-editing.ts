'use client';
import { useCallback, useMemo, useRef, type RefObject } from 'react';
import { addEdge, type Connection, type IsValidConnection } from '@xyflow/react';
import type { WorkflowNode } from '@/lib/workflow/definition';
import { edgeToFlow, NOTE_PREFIX, stepToFlow } from './convert';
import type { EditorActions } from './editor-actions';
import { outputsFor, uniqueId, wouldCycle } from './graph';
import { layoutPositions } from './layout';
import { DND_MIME } from './palette';
import type { FlowEdge, FlowNode, NodeTypeInfo, StepData, StepFlowNode } from './types';
import type { EditorDocument } from './use-editor-history';

// Changes to the graph itself: adding steps and notes, editing a step, connecting, auto-layout.

/** Vertical gap between a selected step and the step added beside it. */
export const PLACE_GAP_Y = 64;
/** A new step card's size before it is measured (step-node.tsx: w-60, about 80 px tall). */
const NEW_W = 240;
const NEW_H = 80;
/** How far aside (to the right) a new node moves per try. */
const STEP_ASIDE_X = NEW_W + 40;

type Placed = { position: { x: number; y: number }; measured?: { width?: number; height?: number } };

/** The first spot at or to the right of `p` where a new card overlaps no node. */
export function freeSpot(p: { x: number; y: number }, nodes: Placed[]) {
  const overlaps = (q: { x: number; y: number }) =>
    nodes.some((n) => {
      const w = n.measured?.width ?? NEW_W;
      const h = n.measured?.height ?? NEW_H;
      return (
        q.x < n.position.x + w &&
        q.x + NEW_W > n.position.x &&
        q.y < n.position.y + h &&
        q.y + NEW_H > n.position.y
      );
    });
  let q = p;
  for (let i = 0; i < nodes.length + 1 && overlaps(q); i++) q = { x: q.x + STEP_ASIDE_X, y: q.y };
  return q;
}

export function useEditing(
  doc: EditorDocument,
  catalog: Map<string, NodeTypeInfo>,
  canvasRef: RefObject<HTMLDivElement | null>,
  /** Where the next added step comes from after a `+` on a handle: the palette's search box. */
  focusPalette: () => void = () => {},
) {
  const { rf, setNodes, setEdges, coalesceKey } = doc;
  /** Set by a `+` on an output handle; used (and cleared) by the next add while its node is selected. */
  const pendingFrom = useRef<{ nodeId: string; handle: string } | null>(null);
  const takenIds = useCallback(() => new Set(rf.getNodes().map((n) => n.id)), [rf]);

  const viewportCenter = useCallback(() => {
    const r = canvasRef.current?.getBoundingClientRect();
    if (!r) return { x: 0, y: 0 };
    const p = rf.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
    return { x: p.x - 120, y: p.y - 40 };
  }, [rf, canvasRef]);

  /**
   * Adds a step. Dropped steps go where they were dropped; added by click or keyboard, a step goes
   * beside (below) the one selected step and is connected from its first output, or else to the
   * middle of the view; either way it moves aside until it stacks on no other node.
   */
  const addStep = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      const info = catalog.get(type);
      if (!info) return;
      const id = uniqueId(type.replace(/^trigger\./, '').replace(/\./g, '_'), takenIds());
      const all = rf.getNodes();
      const selected = all.filter((n) => n.selected);
      const from = !position && selected.length === 1 && selected[0].type === 'step' ? selected[0] : null;
      const fromStep = (from as StepFlowNode | null)?.data.step;
      const pending = pendingFrom.current;
      pendingFrom.current = null;
      const handle =
        pending && from && pending.nodeId === from.id
          ? pending.handle
          : fromStep
            ? outputsFor(fromStep, catalog.get(fromStep.type)).find((h) => h !== 'error')
            : undefined;
      // Below the handle it comes from: a later branch (false, default) starts further right.
      const handles = fromStep ? outputsFor(fromStep, catalog.get(fromStep.type)) : [];
      const shift = handle && handles.length > 1 ? handles.indexOf(handle) * (NEW_W + 40) : 0;
      const place =
        position ??
        (from
          ? { x: from.position.x + shift, y: from.position.y + (from.measured?.height ?? 80) + PLACE_GAP_Y }
          : viewportCenter());
      const node: WorkflowNode = {
        id,
        type,
        position: position ? place : freeSpot(place, all),
        config: structuredClone(info.defaultConfig ?? {}),
      };
      setNodes((ns) => [
        ...ns.map((n) => (n.selected ? { ...n, selected: false } : n)),
        { ...stepToFlow(node), selected: true },
      ]);
      if (from && handle && info.hasInput) {
        const edgeId = uniqueId(`e_${from.id}_${id}`, new Set(rf.getEdges().map((e) => e.id)));
        setEdges((es) => [
          ...es,
          edgeToFlow({
            id: edgeId,
            source: from.id,
            target: id,
            sourceHandle: handle === 'out' ? undefined : handle,
          }),
        ]);
      }
    },
    [catalog, rf, setEdges, setNodes, takenIds, viewportCenter],
  );

  const addNote = useCallback(() => {
    const id = uniqueId('note', new Set(rf.getNodes().map((n) => n.id.slice(NOTE_PREFIX.length))));
    setNodes((ns) => [
      ...ns,
      {
        id: NOTE_PREFIX + id,
        type: 'note',
        position: viewportCenter(),
        data: { text: '' },
        ariaLabel: 'Sticky note',
        width: 200,
        height: 120,
      },
    ]);
  }, [rf, setNodes, viewportCenter]);

  const updateStep = useCallback(
    (id: string, update: (s: StepData) => StepData) => {
      coalesceKey.current = `step:${id}`;
      setNodes((ns) =>
        ns.map((n) => {
          if (n.id !== id || n.type !== 'step') return n;
          const step = update((n as StepFlowNode).data.step);
          return { ...n, data: { step }, ariaLabel: step.name || step.id } as StepFlowNode;
        }),
      );
    },
    [setNodes, coalesceKey],
  );

  const actions: EditorActions = useMemo(
    () => ({
      setNoteText: (noteId, text) => {
        coalesceKey.current = `note:${noteId}`;
        setNodes((ns) => ns.map((n) => (n.id === noteId ? ({ ...n, data: { text } } as FlowNode) : n)));
      },
      addFrom: (nodeId, handle) => {
        pendingFrom.current = { nodeId, handle };
        setNodes((ns) =>
          ns.map((n) => (n.selected === (n.id === nodeId) ? n : { ...n, selected: n.id === nodeId })),
        );
        focusPalette();
      },
    }),
    [setNodes, coalesceKey, focusPalette],
  );

  const isValidConnection: IsValidConnection<FlowEdge> = useCallback(
    (c) => {
      if (!c.source || !c.target || c.source === c.target) return false;
      const target = rf.getNode(c.target);
      const source = rf.getNode(c.source);
      if (!target || !source || target.type !== 'step' || source.type !== 'step') return false;
      const info = catalog.get((target as StepFlowNode).data.step.type);
      if (info && !info.hasInput) return false;
      const current = rf.getEdges();
      const handle = c.sourceHandle ?? 'out';
      if (
        current.some(
          (e) => e.source === c.source && e.target === c.target && (e.sourceHandle ?? 'out') === handle,
        )
      )
        return false;
      return !wouldCycle(current, c.source, c.target);
    },
    [catalog, rf],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const taken = new Set(rf.getEdges().map((e) => e.id));
      const id = uniqueId(`e_${c.source}_${c.target}`, taken);
      setEdges((es) =>
        addEdge(
          edgeToFlow({ id, source: c.source, target: c.target, sourceHandle: c.sourceHandle ?? undefined }),
          es,
        ),
      );
    },
    [rf, setEdges],
  );

  const autoLayout = useCallback(() => {
    const steps = rf.getNodes().filter((n) => n.type === 'step');
    const outputs = new Map(
      steps.map((n) => {
        const step = (n as StepFlowNode).data.step;
        return [n.id, outputsFor(step, catalog.get(step.type))];
      }),
    );
    const pos = layoutPositions(
      steps.map((n) => ({ id: n.id, width: n.measured?.width, height: n.measured?.height })),
      rf
        .getEdges()
        .map((e) => ({ ...e, handleRank: outputs.get(e.source)?.indexOf(e.sourceHandle ?? 'out') ?? 0 })),
    );
    setNodes((ns) => ns.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id)! } : n)));
    requestAnimationFrame(() => rf.fitView({ padding: 0.2, duration: 200 }));
  }, [catalog, rf, setNodes]);

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData(DND_MIME);
      if (!type) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addStep(type, { x: p.x - 120, y: p.y - 30 });
    },
    [addStep, rf],
  );

  return { addStep, addNote, updateStep, actions, isValidConnection, onConnect, autoLayout, onDrop };
}
