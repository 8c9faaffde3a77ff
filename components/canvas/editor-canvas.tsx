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
  type OnEdgesChange,
  type OnNodesChange,
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
/** Below this canvas width the minimap would cover the graph it maps: it hides. */
export const MINIMAP_MIN_CANVAS_PX = 640;

export type Toast = { text: string; tone: 'ok' | 'error' };

export interface EditorCanvasProps {
  canvasRef: RefObject<HTMLDivElement | null>;
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** The nodes the canvas opens on (see initialFit). */
  initialNodes: FlowNode[];
  onNodesChange: OnNodesChange<FlowNode>;
  onEdgesChange: OnEdgesChange<FlowEdge>;
  onConnect(c: Connection): void;
  isValidConnection: IsValidConnection<FlowEdge>;
  onDrop(e: React.DragEvent): void;
  toast: Toast | null;
}

export function EditorCanvas(p: EditorCanvasProps) {
  const isEmpty = p.nodes.length === 0;
  const narrow = useNarrow(p.canvasRef, MINIMAP_MIN_CANVAS_PX);
  const zoomedOut = useStore(zoomedOutOf);
  // A big graph opens on its first nodes at a readable zoom: fitting 1,000 nodes would render
  // every one of them at a size nobody can read (and defeat onlyRenderVisibleElements). Memoized:
  // a new options object per render would be a store update per render.
  const { initialNodes } = p;
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
        nodes={p.nodes}
        edges={p.edges}
        nodeTypes={nodeTypes}
        onNodesChange={p.onNodesChange}
        onEdgesChange={p.onEdgesChange}
        onConnect={p.onConnect}
        isValidConnection={p.isValidConnection}
        snapToGrid
        snapGrid={SNAP}
        fitView
        fitViewOptions={initialFit}
        minZoom={0.1}
        deleteKeyCode={['Backspace', 'Delete']}
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        defaultEdgeOptions={{ type: 'default' }}
        onlyRenderVisibleElements={p.nodes.length > LARGE_GRAPH}
        proOptions={{ hideAttribution: true }}
      >
        <Background variant={BackgroundVariant.Dots} gap={16} size={1} color="#cbd5e1" />
        {!isEmpty && p.nodes.length <= MINIMAP_MAX_NODES && !narrow && (
          <MiniMap
            pannable
            zoomable
            ariaLabel="Minimap"
            style={{ width: 160, height: 110 }}
            nodeColor={(n) => (n.type === 'note' ? '#fde68a' : '#94a3b8')}
            className="!rounded-md !border !border-slate-200"
          />
        )}
        <Controls showInteractive={false} fitViewOptions={{ padding: 0.2, duration: 200 }} />
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
