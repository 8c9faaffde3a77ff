import type { Edge, Node } from '@xyflow/react';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';

/** One entry of GET /api/node-types (docs/api.md). */
export interface NodeTypeInfo {
  type: string;
  label: string;
  group: string;
  icon: string;
  description: string;
  defaultConfig: Record<string, unknown>;
  outputs: string[];
  hasInput: boolean;
  isTrigger?: boolean;
  agentCapable?: boolean;
  /** No rollout stage runs its agent beside the deterministic step (no shadow mode). */
  runsOnce?: boolean;
  configSchema?: JsonSchema;
  expressionFields?: string[];
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  additionalProperties?: unknown;
}

export interface Problem {
  path: string;
  code: string;
  message: string;
  /** "warning": shown, but the workflow still saves and runs. */
  severity?: 'warning';
}

export interface WorkflowSummary {
  id: string;
  name: string;
  latestVersion: number;
  /** Off: schedules and webhooks do not fire. */
  enabled?: boolean;
  /** The latest definition's description. */
  description?: string | null;
  updatedAt: string;
  createdAt: string;
  lastRun: { id: string; status: string; createdAt: string } | null;
}

export interface WorkflowRecord {
  id: string;
  name: string;
  version: number;
  definition: WorkflowDefinition;
  enabled?: boolean;
  createdAt: string;
  updatedAt: string;
  /** Set by the editor when it opened an older `version`: the latest one, which edits are based on. */
  latestVersion?: number;
}

export interface Example {
  id: string;
  name: string;
  description: string;
  definition: WorkflowDefinition;
}

/** Everything of a definition node except its position, which React Flow owns while editing. */
export type StepData = Omit<WorkflowNode, 'position'>;
export type StepFlowNode = Node<{ step: StepData }, 'step'>;
export type NoteFlowNode = Node<{ text: string }, 'note'>;
export type FlowNode = StepFlowNode | NoteFlowNode;
export type FlowEdge = Edge;

export type RunNodeStatus =
  'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'waiting' | 'fallback';
