import type { WorkflowEdge, WorkflowNode } from '@/lib/workflow/definition';
import { MAX_ID_LENGTH } from '@/lib/workflow/limits';

export interface JoinOptions {
  /** Where the merge goes, relative to the node it feeds. */
  offset?: { x: number; y: number };
  /** Told about each node that got a merge in front (e.g. to say so in the import report). */
  onJoin?: (node: WorkflowNode) => void;
}

/**
 * Other tools run a node once per branch that reaches it (n8n), or let several tasks jump to it
 * (Serverless Workflow); a Trellis node waits for all its inputs. A node (other than a merge) fed
 * by several nodes gets a merge "any" in front, so it runs for whichever branch came. Adds the
 * merges to `nodes`, retargets the incoming edges, and returns the edges with the new ones.
 */
export function joinBranches(
  nodes: WorkflowNode[],
  edges: WorkflowEdge[],
  { offset = { x: -120, y: 60 }, onJoin }: JoinOptions = {},
): WorkflowEdge[] {
  const out = [...edges];
  for (const n of [...nodes]) {
    if (n.type === 'merge') continue;
    const inc = out.filter((e) => e.target === n.id);
    if (new Set(inc.map((e) => e.source)).size < 2) continue;
    let id = `${n.id}_join`.slice(0, MAX_ID_LENGTH);
    while (nodes.some((x) => x.id === id)) id = `${id}_`;
    nodes.push({
      id,
      type: 'merge',
      name: `Join into ${n.name ?? n.id}`,
      position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
      config: { mode: 'any' },
    });
    for (const e of inc) e.target = id;
    out.push({ id: `e_${id}_${n.id}`, source: id, target: n.id });
    onJoin?.(n);
  }
  return out;
}
