import type { NodeCatalog, NodeTypeSpec } from '@/lib/workflow/node-type';
import { approval } from './approval';
import { browser } from './browser';
import { code } from './code';
import { condition } from './condition';
import type { NodeDefinition } from './define-node';
import { delay } from './delay';
import { httpRequest } from './http-request';
import { llm } from './llm';
import { map } from './map';
import { merge } from './merge';
import { output } from './output';
import { subworkflow } from './subworkflow';
import { switchNode } from './switch';
import { swTask } from './sw-task';
import { transform } from './transform';
import { triggerManual } from './trigger-manual';
import { triggerSchedule } from './trigger-schedule';
import { triggerWebhook } from './trigger-webhook';

// The one list of node types: the editor's palette, validation and the engine all read it.
// Order is palette order.
const ALL: NodeDefinition[] = [
  triggerManual,
  triggerWebhook,
  triggerSchedule,
  httpRequest,
  browser,
  transform,
  code,
  condition,
  switchNode,
  map,
  merge,
  delay,
  llm,
  approval,
  subworkflow,
  output,
  swTask,
] as unknown as NodeDefinition[];

export function createRegistry(defs: readonly NodeDefinition[]): NodeCatalog & {
  getNode(type: string): NodeDefinition | undefined;
  types(): string[];
} {
  const byType = new Map<string, NodeDefinition>();
  for (const def of defs) {
    // Fail at start-up, not at the first run that happens to use the shadowed type.
    if (byType.has(def.type)) throw new Error(`node type "${def.type}" is registered twice`);
    byType.set(def.type, def);
  }
  const list = [...byType.values()];
  return {
    get: (type: string): NodeTypeSpec | undefined => byType.get(type),
    list: (): NodeTypeSpec[] => list,
    getNode: (type: string) => byType.get(type),
    types: () => list.map((d) => d.type),
  };
}

export const nodeRegistry = createRegistry(ALL);

export function getNode(type: string): NodeDefinition | undefined {
  return nodeRegistry.getNode(type);
}
