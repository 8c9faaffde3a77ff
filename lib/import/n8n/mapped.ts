import { isRec, type Rec } from '@/lib/workflow/record';
import type { ExpressionContext } from './expressions';
import type { ImportStatus, N8nNode } from './types';

// What every node mapper returns, and the helpers they share.

export interface MapInput {
  node: N8nNode;
  expr: ExpressionContext;
  /** AI sub-nodes attached to this node, by connection type (ai_languageModel, ai_tool…). */
  subNodes: Map<string, N8nNode[]>;
}

export interface Mapped {
  type: string;
  config: Rec;
  status: ImportStatus;
  reasons: string[];
  mode?: 'agent';
  agent?: Rec;
  notes?: string;
  /** AI sub-nodes folded into this node, with what became of each. */
  folded?: { node: N8nNode; status: ImportStatus; reasons: string[] }[];
  /** The Trellis handle for n8n main output i; null: that output has no Trellis counterpart. */
  handle(i: number): string | null;
}

export const out = (i: number) => (i === 0 ? 'out' : null);

/** The n8n "resource locator" form `{ __rl, value, mode }` or a plain value. */
export function locatorValue(v: unknown): unknown {
  return isRec(v) && '__rl' in v ? v.value : v;
}

export function placeholder(node: N8nNode, reasons: string[]): Mapped {
  const slug = node.type.replace(/^.*\./, '').replace(/[^A-Za-z0-9-]/g, '-');
  return {
    type: 'http.request',
    config: { method: 'POST', url: `https://placeholder.invalid/n8n/${slug}`, body: `{{ null }}` },
    status: 'placeholder',
    reasons,
    notes: `PLACEHOLDER for the n8n node "${node.name}" (${node.type}). Replace it: it calls an address that never resolves, so a run stops here. Original parameters: ${JSON.stringify(node.parameters).slice(0, 2000)}`,
    handle: out,
  };
}
