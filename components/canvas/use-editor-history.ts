'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useEdgesState, useNodesState, useReactFlow } from '@xyflow/react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { splitMeta, toDefinition, toFlow, type DefinitionMeta } from './convert';
import { SnapshotHistory } from './history';
import { arrangeOnOpen } from './open-layout';
import type { FlowEdge, FlowNode, NodeTypeInfo, WorkflowRecord } from './types';

// The document being edited and its history. React Flow owns nodes and edges (positions,
// selection); after every settled change the definition is serialised and pushed as a snapshot
// (dragging frames and selection are not changes). The top snapshot is what save, run, export and
// validation read; `dirty` is "differs from the last saved snapshot".

export function useEditorHistory(record: WorkflowRecord, catalog?: Map<string, NodeTypeInfo>) {
  // Piled-up steps (no positions) open laid out; the catalog only orders branches, so it is read once.
  const [opened] = useState(() => arrangeOnOpen(record.definition, catalog));
  const initial = useMemo(() => toFlow(opened), [opened]);
  const [nodes, setNodes, onNodesChange] = useNodesState<FlowNode>(initial.nodes);
  const [edges, setEdges, onEdgesChange] = useEdgesState<FlowEdge>(initial.edges);
  const [meta, setMeta] = useState<DefinitionMeta>(() => splitMeta(record.definition));
  const rf = useReactFlow<FlowNode, FlowEdge>();

  const [history] = useState(
    () => new SnapshotHistory(JSON.stringify(toDefinition(splitMeta(opened), initial.nodes, initial.edges))),
  );
  /** Set just before an edit whose successive changes should merge into one undo step. */
  const coalesceKey = useRef<string | null>(null);
  const [savedSnap, setSavedSnap] = useState(() => history.current);
  const [currentSnap, setCurrentSnap] = useState(() => history.current);

  const dragging = useMemo(() => nodes.some((n) => n.dragging), [nodes]);
  // Drag frames skip this: the definition is rebuilt once the drag ends, not 60 times a second.
  useEffect(() => {
    if (dragging) return;
    const snap = JSON.stringify(toDefinition(meta, nodes, edges));
    const key = coalesceKey.current;
    coalesceKey.current = null;
    if (history.push(snap, key)) setCurrentSnap(snap);
  }, [meta, nodes, edges, dragging, history]);
  /** The document as of the last settled change (what save, run and export use). */
  const definition = useMemo(() => JSON.parse(currentSnap) as WorkflowDefinition, [currentSnap]);

  const load = useCallback(
    (def: WorkflowDefinition, keepSelection = true) => {
      const selected = new Set(
        keepSelection
          ? rf
              .getNodes()
              .filter((n) => n.selected)
              .map((n) => n.id)
          : [],
      );
      const flow = toFlow(def);
      setMeta(splitMeta(def));
      setNodes(flow.nodes.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n)));
      setEdges(flow.edges);
    },
    [rf, setEdges, setNodes],
  );

  const travel = useCallback(
    (snap: string | null) => {
      if (snap === null) return;
      setCurrentSnap(snap);
      load(JSON.parse(snap));
    },
    [load],
  );
  const undo = useCallback(() => travel(history.undo()), [history, travel]);
  const redo = useCallback(() => travel(history.redo()), [history, travel]);
  // currentSnap changes whenever the history moves, so these stay fresh.
  const canUndo = currentSnap !== undefined && history.canUndo;
  const canRedo = currentSnap !== undefined && history.canRedo;
  const dirty = currentSnap !== savedSnap;

  /** A change to the workflow's own fields; successive changes of one field are one undo step. */
  const editMeta = useCallback((field: string, update: (m: DefinitionMeta) => DefinitionMeta) => {
    coalesceKey.current = `meta:${field}`;
    setMeta(update);
  }, []);

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  return {
    rf,
    initial,
    nodes,
    setNodes,
    onNodesChange,
    edges,
    setEdges,
    onEdgesChange,
    meta,
    editMeta,
    coalesceKey,
    currentSnap,
    definition,
    load,
    undo,
    redo,
    canUndo,
    canRedo,
    dirty,
    savedSnap,
    markSaved: setSavedSnap,
  };
}

export type EditorDocument = ReturnType<typeof useEditorHistory>;
