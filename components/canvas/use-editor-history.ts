'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useReactFlow, useStoreApi } from '@xyflow/react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { splitMeta, toDefinition, toFlow, type DefinitionMeta } from './convert';
import { SnapshotHistory } from './history';
import { arrangeOnOpen } from './open-layout';
import type { FlowEdge, FlowNode, NodeTypeInfo, WorkflowRecord } from './types';

// The document being edited and its history. React Flow's store owns nodes and edges (the canvas
// is uncontrolled: `defaultNodes`), so a drag frame updates the store and re-renders the dragged
// card and its edges, not the editor. After every settled change to the store (a drop, an edit;
// not a drag frame) the definition is serialised and pushed as a snapshot; one equal to the top
// (selection, measuring) pushes nothing. The top snapshot is what save, run, export and validation
// read; `dirty` is "differs from the last saved snapshot".

export function useEditorHistory(record: WorkflowRecord, catalog?: Map<string, NodeTypeInfo>) {
  // Piled-up steps (no positions) open laid out; the catalog only orders branches, so it is read once.
  const [opened] = useState(() => arrangeOnOpen(record.definition, catalog));
  const initial = useMemo(() => toFlow(opened), [opened]);
  const [meta, setMeta] = useState<DefinitionMeta>(() => splitMeta(record.definition));
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const store = useStoreApi<FlowNode, FlowEdge>();
  // rf's setters go through React Flow's update queue into its store (uncontrolled canvas).
  const { setNodes, setEdges } = rf;

  const [history] = useState(
    () => new SnapshotHistory(JSON.stringify(toDefinition(splitMeta(opened), initial.nodes, initial.edges))),
  );
  /** Set just before an edit whose successive changes should merge into one undo step. */
  const coalesceKey = useRef<string | null>(null);
  const [savedSnap, setSavedSnap] = useState(() => history.current);
  const [currentSnap, setCurrentSnap] = useState(() => history.current);

  const metaRef = useRef(meta);
  /** Push the store's nodes and edges with the meta as a snapshot, unless a drag is under way. */
  const commit = useCallback(() => {
    const { nodes, edges } = store.getState();
    // Drag frames skip this: the definition is rebuilt once the drag ends, not 60 times a second.
    if (nodes.some((n) => n.dragging)) return;
    const snap = JSON.stringify(toDefinition(metaRef.current, nodes, edges));
    const key = coalesceKey.current;
    coalesceKey.current = null;
    if (history.push(snap, key)) setCurrentSnap(snap);
  }, [store, history]);
  // Subscribed after the canvas filled the store with the opened document (child effects run
  // first), so opening pushes nothing. One commit per task however many store updates it made
  // (nodes and edges of one edit arrive separately).
  useEffect(() => {
    let queued = false;
    return store.subscribe((s, prev) => {
      if ((s.nodes === prev.nodes && s.edges === prev.edges) || queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        commit();
      });
    });
  }, [store, commit]);
  useEffect(() => {
    if (metaRef.current === meta) return;
    metaRef.current = meta;
    commit();
  }, [meta, commit]);
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
    setNodes,
    setEdges,
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
