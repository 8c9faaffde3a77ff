'use client';
import { useEffect, useMemo, useState, type RefObject } from 'react';
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  type Connection,
  type IsValidConnection,
  type NodeTypes,
  type ReactFlowState,
  useStore,
} from '@xyflow/react';
import { NoteNode } from './note-node';
import { openingNodes } from './open-layout';
import { DND_MIME } from './palette';
import { StepNode } from './step-node';
import type { FlowEdge, FlowNode } from './types';

// The React Flow canvas with its empty state and toast.

// Module scope: a new object per render would make React Flow remount every node.
const nodeTypes: NodeTypes = { step: StepNode, note: NoteNode };
const SNAP: [number, number] = [16, 16];
// Props of React Flow as module constants: a new object per render is a store update, and a new
// `defaultEdgeOptions` re-renders every edge (1,000 edge renders per drag frame on a large graph
// when the editor re-rendered each frame, issue 21).
const DEFAULT_EDGE_OPTIONS = { type: 'default' };
const DELETE_KEYS = ['Backspace', 'Delete'];
const MULTI_SELECT_KEYS = ['Shift', 'Meta', 'Control'];
const PRO_OPTIONS = { hideAttribution: true };
const CONTROLS_FIT = { padding: 0.2, duration: 200 };
const MINIMAP_STYLE = { width: 160, height: 110 };
const minimapColor = (n: FlowNode) => (n.type === 'note' ? '#fde68a' : '#94a3b8');
/** Above this many nodes the canvas renders only what is on screen and opens on the first nodes. */
export const LARGE_GRAPH = 200;
/** The minimap redraws every node on every frame; past this size it costs more than it shows. */
export const MINIMAP_MAX_NODES = 500;
/**
 * Below this zoom the cards drop what cannot be used at that size (the "+" buttons, handle dots
 * and labels: a few pixels each) by a class on the canvas, not a re-render of every card. Hidden,
 * not removed: the cards keep their size, so edges stay put. Each of those elements is its own
 * paint chunk, and with a few hundred cards on screen they made every drag frame re-layerize
 * thousands of chunks (issue 21).
 */
export const DETAIL_ZOOM = 0.4;
const zoomedOutOf = (s: ReactFlowState) => s.transform[2] < DETAIL_ZOOM;
const nodeCountOf = (s: ReactFlowState) => s.nodes.length;
/** Below this canvas width the minimap would cover the graph it maps: it hides. */
export const MINIMAP_MIN_CANVAS_PX = 640;

export type Toast = { text: string; tone: 'ok' | 'error' };

export interface EditorCanvasProps {
  canvasRef: RefObject<HTMLDivElement | null>;
  /**
   * The document the canvas opens on. From then on React Flow's store holds the nodes and edges
   * (uncontrolled: a drag frame re-renders the dragged card and its edges, not the editor); the
   * editor changes them through `useReactFlow().setNodes` and reads them from the store.
   */
  initial: { nodes: FlowNode[]; edges: FlowEdge[] };
  onConnect(c: Connection): void;
  isValidConnection: IsValidConnection<FlowEdge>;
  onDrop(e: React.DragEvent): void;
  toast: Toast | null;
}

export function EditorCanvas(p: EditorCanvasProps) {
  const nodeCount = useStore(nodeCountOf);
  const isEmpty = nodeCount === 0;
  const narrow = useNarrow(p.canvasRef, MINIMAP_MIN_CANVAS_PX);
  const zoomedOut = useStore(zoomedOutOf);
  // A big graph opens on its first nodes at a readable zoom: fitting 1,000 nodes would render
  // every one of them at a size nobody can read (and defeat onlyRenderVisibleElements). Memoized:
  // a new options object per render would be a store update per render.
  const initialNodes = p.initial.nodes;
  const initialFit = useMemo(
    () => ({
      padding: 0.2,
      maxZoom: 1,
      ...(initialNodes.length > LARGE_GRAPH
        ? { nodes: openingNodes(initialNodes).map((n) => ({ id: n.id })) }
        : {}),
    }),
    [initialNodes],
  );
  return (
    <div
      ref={p.canvasRef}
      className="relative min-h-0 flex-1"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(DND_MIME)) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'move';
        }
      }}
      onDrop={p.onDrop}
    >
      <ReactFlow<FlowNode, FlowEdge>
        aria-label="Workflow canvas"
        className={zoomedOut ? 'zoomed-out' : undefined}
        defaultNodes={p.initial.nodes}
        defaultEdges={p.initial.edges}
        nodeTypes={nodeTypes}
        onConnect={p.onConnect}
        isValidConnection={p.isValidConnection}
        snapToGrid
        snapGrid={SNAP}
        fitView
        fitViewOptions={initialFit}
        minZoom={0.1}
        deleteKeyCode={DELETE_KEYS}
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
        onlyRenderVisibleElements={nodeCount > LARGE_GRAPH}
        proOptions={PRO_OPTIONS}
      >
        <Background variant={BackgroundVariant.Dots} gap={16} size={1} color="#cbd5e1" />
        {!isEmpty && nodeCount <= MINIMAP_MAX_NODES && !narrow && (
          <MiniMap
            pannable
            zoomable
            ariaLabel="Minimap"
            style={MINIMAP_STYLE}
            nodeColor={minimapColor}
            className="!rounded-md !border !border-slate-200"
          />
        )}
        <Controls showInteractive={false} fitViewOptions={CONTROLS_FIT} />
      </ReactFlow>
      {isEmpty && (
        <div className="pointer-events-none absolute inset-0 grid place-items-center">
          <div className="rounded-xl border border-dashed border-slate-300 bg-white/80 px-8 py-6 text-center backdrop-blur-sm">
            <p className="text-sm font-medium text-slate-700">This workflow is empty</p>
            <p className="mt-1 text-xs text-slate-500">
              Drag a trigger from the palette onto the canvas, or press{' '}
              <kbd className="rounded border border-slate-300 px-1">/</kbd> to search.
            </p>
          </div>
        </div>
      )}
      {p.toast && (
        <div
          role="status"
          className={`absolute top-3 left-1/2 -translate-x-1/2 rounded-md px-3 py-1.5 text-xs font-medium shadow-lg ${
            p.toast.tone === 'ok' ? 'bg-slate-900 text-white' : 'bg-red-600 text-white'
          }`}
        >
          {p.toast.text}
        </div>
      )}
    </div>
  );
}

/** Is the element narrower than `px`? Follows its size (palette folded, window resized). */
function useNarrow(ref: RefObject<HTMLElement | null>, px: number): boolean {
  const [narrow, setNarrow] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([e]) => setNarrow(e.contentRect.width < px));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, px]);
  return narrow;
}
