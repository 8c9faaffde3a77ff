import type { WorkflowNode } from '@/lib/workflow/definition';
import type { NodeTypeInfo } from './types';

/** Output handles of one node: switch derives them from its cases; `onError: branch` adds `error`. */
export function outputsFor(
  step: Pick<WorkflowNode, 'type' | 'config' | 'onError'>,
  info?: NodeTypeInfo,
): string[] {
  let outs: string[];
  if (step.type === 'switch') {
    const cases = Array.isArray(step.config?.cases) ? (step.config.cases as { id?: unknown }[]) : [];
    outs = [...cases.map((c) => String(c?.id ?? '')).filter(Boolean), 'default'];
  } else {
    outs = info ? [...info.outputs] : ['out'];
  }
  if (step.onError === 'branch' && !outs.includes('error')) outs.push('error');
  return outs;
}

/** Would an edge source→target close a cycle? True when source is reachable from target. */
export function wouldCycle(
  edges: { source: string; target: string }[],
  source: string,
  target: string,
): boolean {
  if (source === target) return true;
  const out = new Map<string, string[]>();
  for (const e of edges) {
    const list = out.get(e.source);
    if (list) list.push(e.target);
    else out.set(e.source, [e.target]);
  }
  const seen = new Set<string>([target]);
  const stack = [target];
  while (stack.length) {
    const cur = stack.pop()!;
    if (cur === source) return true;
    for (const next of out.get(cur) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return false;
}

/** Every node that can reach `id` (its upstream), nearest first. */
export function upstreamOf(edges: { source: string; target: string }[], id: string): string[] {
  const into = new Map<string, string[]>();
  for (const e of edges) {
    const list = into.get(e.target);
    if (list) list.push(e.source);
    else into.set(e.target, [e.source]);
  }
  const seen = new Set<string>([id]);
  const order: string[] = [];
  const queue = [id];
  while (queue.length) {
    const cur = queue.shift()!;
    for (const prev of into.get(cur) ?? []) {
      if (!seen.has(prev)) {
        seen.add(prev);
        order.push(prev);
        queue.push(prev);
      }
    }
  }
  return order;
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
