import type { WorkflowNode } from '@/lib/workflow/definition';
import {
  graphFromEdges,
  outputHandles,
  switchHandles,
  upstreamOf as upstreamIn,
  wouldCycle as wouldCycleIn,
} from '@/lib/workflow/graph';
import type { NodeTypeInfo } from './types';

// The editor's graph questions, asked of lib/workflow/graph.ts (the library validation and the
// engine use), over the canvas's edge list.

/** Output handles of one node: switch derives them from its cases; `onError: branch` adds `error`. */
export function outputsFor(
  step: Pick<WorkflowNode, 'type' | 'config' | 'onError'>,
  info?: NodeTypeInfo,
): string[] {
  const typeOutputs = step.type === 'switch' ? switchHandles(step.config) : info ? info.outputs : ['out'];
  return outputHandles(step, typeOutputs);
}

/** Would an edge source→target close a cycle? True when source is reachable from target. */
export function wouldCycle(
  edges: { source: string; target: string }[],
  source: string,
  target: string,
): boolean {
  return wouldCycleIn(graphFromEdges(edges), source, target);
}

/** Every node that can reach `id` (its upstream), nearest first. */
export function upstreamOf(edges: { source: string; target: string }[], id: string): string[] {
  return [...upstreamIn(graphFromEdges(edges), id)].filter((x) => x !== id);
}

/** A fresh id from a base (`http_request`, `http_request_2`, …) not in `taken`. */
export function uniqueId(base: string, taken: Set<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^[^A-Za-z_]+/, '') || 'node';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) {
    const id = `${clean}_${i}`;
    if (!taken.has(id)) return id;
  }
}

/** Node id a problem points at: `/nodes/3/config/url` → definition.nodes[3].id. */
export function nodeIdForPath(path: string, nodes: { id: string }[]): string | undefined {
  const m = /^\/nodes\/(\d+)(?:\/|$)/.exec(path);
  if (m) return nodes[Number(m[1])]?.id;
  const e = /^\/edges\/(\d+)/.exec(path);
  return e ? undefined : undefined;
}

/** The part of a problem's path inside the node, e.g. `config/url`. */
export function fieldForPath(path: string): string | undefined {
  const m = /^\/nodes\/\d+\/(.+)$/.exec(path);
  return m?.[1];
}
