import type { WorkflowEdge, WorkflowNode } from '@/lib/workflow/definition';
import { uniqueId } from './graph';

// Copied nodes travel as JSON so they paste into another workflow, another tab, or a text editor.
// The system clipboard may be refused (permissions, http), so localStorage is the fallback.
export const CLIPBOARD_KIND = 'trellis/nodes';
const STORAGE_KEY = 'trellis.clipboard';

export interface ClipboardPayload {
  kind: typeof CLIPBOARD_KIND;
  nodes: WorkflowNode[];
  edges: WorkflowEdge[];
}

export async function writeClipboard(nodes: WorkflowNode[], edges: WorkflowEdge[]): Promise<void> {
  const ids = new Set(nodes.map((n) => n.id));
  const payload: ClipboardPayload = {
    kind: CLIPBOARD_KIND,
    nodes,
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
  };
  const text = JSON.stringify(payload, null, 2);
  try {
    localStorage.setItem(STORAGE_KEY, text);
  } catch {
    // storage full or disabled: the system clipboard may still work
  }
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // refused: localStorage holds it
  }
}

export function parseClipboard(text: string | null | undefined): ClipboardPayload | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as ClipboardPayload;
    return v && v.kind === CLIPBOARD_KIND && Array.isArray(v.nodes) && Array.isArray(v.edges) ? v : null;
  } catch {
    return null;
  }
}

export async function readClipboard(): Promise<ClipboardPayload | null> {
  try {
    const fromSystem = parseClipboard(await navigator.clipboard.readText());
    if (fromSystem) return fromSystem;
  } catch {
    // refused: fall back
  }
  try {
    return parseClipboard(localStorage.getItem(STORAGE_KEY));
  } catch {
    return null;
  }
}

/** Give pasted nodes fresh ids (and rewire their edges), offset so they do not hide the originals. */
export function rekey(
  payload: Pick<ClipboardPayload, 'nodes' | 'edges'>,
  taken: Set<string>,
  offset: { x: number; y: number },
): { nodes: WorkflowNode[]; edges: WorkflowEdge[] } {
  const map = new Map<string, string>();
  const used = new Set(taken);
  const nodes = payload.nodes.map((n) => {
    const id = uniqueId(n.id, used);
    used.add(id);
    map.set(n.id, id);
    return { ...n, id, position: { x: (n.position?.x ?? 0) + offset.x, y: (n.position?.y ?? 0) + offset.y } };
  });
  const edges = payload.edges
    .filter((e) => map.has(e.source) && map.has(e.target))
    .map((e) => {
      const id = uniqueId(`e_${map.get(e.source)}_${map.get(e.target)}`, used);
      used.add(id);
      return { ...e, id, source: map.get(e.source)!, target: map.get(e.target)! };
    });
  return { nodes, edges };
}
