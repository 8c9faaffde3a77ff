import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { sourceHandle } from '@/lib/workflow/graph';

export interface NodeChange {
  id: string;
  name: string;
  /** Dotted field paths that differ, e.g. `config.url`, `retry`, `mode`. */
  fields: { path: string; before: unknown; after: unknown }[];
}

export interface DefinitionDiff {
  added: WorkflowNode[];
  removed: WorkflowNode[];
  changed: NodeChange[];
  edgesAdded: string[];
  edgesRemoved: string[];
  metaChanged: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const edgeKey = (e: WorkflowDefinition['edges'][number]) => `${e.source}.${sourceHandle(e)} → ${e.target}`;

/** What changed from `a` to `b`. Positions are ignored: moving a node is not a change worth reviewing. */
export function diffDefinitions(a: WorkflowDefinition, b: WorkflowDefinition): DefinitionDiff {
  const before = new Map(a.nodes.map((n) => [n.id, n]));
  const after = new Map(b.nodes.map((n) => [n.id, n]));
  const added = b.nodes.filter((n) => !before.has(n.id));
  const removed = a.nodes.filter((n) => !after.has(n.id));
  const changed: NodeChange[] = [];
  for (const n of b.nodes) {
    const old = before.get(n.id);
    if (!old) continue;
    const fields: NodeChange['fields'] = [];
    const keys = new Set(
      [...Object.keys(old), ...Object.keys(n)].filter((k) => k !== 'position' && k !== 'id'),
    );
    for (const k of keys) {
      const x = (old as Record<string, unknown>)[k];
      const y = (n as Record<string, unknown>)[k];
      if (same(x, y)) continue;
      if (k === 'config' && x && y && typeof x === 'object' && typeof y === 'object') {
        const ck = new Set([...Object.keys(x), ...Object.keys(y)]);
        for (const c of ck) {
          const cx = (x as Record<string, unknown>)[c];
          const cy = (y as Record<string, unknown>)[c];
          if (!same(cx, cy)) fields.push({ path: `config.${c}`, before: cx, after: cy });
        }
      } else fields.push({ path: k, before: x, after: y });
    }
    if (fields.length) changed.push({ id: n.id, name: n.name || n.id, fields });
  }
  const ea = new Set(a.edges.map(edgeKey));
  const eb = new Set(b.edges.map(edgeKey));
  const metaChanged = (['name', 'description', 'inputSchema'] as const).filter((k) => !same(a[k], b[k]));
  return {
    added,
    removed,
    changed,
    edgesAdded: [...eb].filter((k) => !ea.has(k)),
    edgesRemoved: [...ea].filter((k) => !eb.has(k)),
    metaChanged,
  };
}
