import type { z } from 'zod';

// What lib/workflow needs to know about a node type to validate a definition. lib/nodes
// implements this (plus run/asTool); lib/workflow never imports lib/nodes, so validate()
// takes the catalog as an argument.
export interface NodeTypeSpec {
  type: string;
  label: string;
  /** Palette group, e.g. "Triggers", "Logic", "Data", "AI", "Flow". */
  group: string;
  icon: string;
  description: string;
  config: z.ZodType;
  defaultConfig: Record<string, unknown>;
  /** Output handles for a given config (switch derives them from its cases). */
  outputs(config: Record<string, unknown>): string[];
  /** Whether the node has an `in` handle (triggers do not). */
  hasInput: boolean;
  isTrigger?: boolean;
  /** Can be promoted to agent mode. */
  agentCapable?: boolean;
  /**
   * Agent mode is the node's own: it replays its deterministic config and calls its interface
   * agent (services.interfaceAgent) only where the replay fails (the browser step's healing).
   */
  interfaceAgent?: boolean;
  /**
   * What the step does to the outside cannot happen twice in one run (a browser session acting on
   * a page): no rollout stage runs its agent beside the deterministic step (shadow, canary), so
   * its stages are workflow → agent (rollout.ts stagesFor) and the API refuses the others.
   */
  runsOnce?: boolean;
  /** Config fields holding expressions (whole-value JS), for syntax checks and editor hints. */
  expressionFields?: string[];
  /** Config fields holding a JavaScript function body (code node): syntax-checked, not templates. */
  codeFields?: string[];
  /**
   * Config field holding an inline sub-graph `{ nodes, edges }` (map): validated as its own
   * graph, and not scanned as a template of this node.
   */
  bodyField?: string;
  /**
   * Expression languages the node reads (default ['js']). A node marked `expressionLanguage: "jq"`
   * must list jq; its config is then not scanned for JavaScript `{{ }}` templates.
   */
  expressionLanguages?: readonly ('js' | 'jq')[];
}

export interface NodeCatalog {
  get(type: string): NodeTypeSpec | undefined;
  list(): NodeTypeSpec[];
}
