import { z } from 'zod';
import {
  isReservedKey,
  MAX_AGENT_STEPS,
  MAX_CANARY_PERCENT,
  MAX_GATE_WINDOW,
  MAX_ID_LENGTH,
  MAX_RETRY_ATTEMPTS,
  MAX_STEPS_PER_RUN_LIMIT,
  MAX_TIMEOUT_MS,
  MIN_CANARY_PERCENT,
} from './limits';

// The one source of the definition format (DESIGN.md §2). TypeScript types, the JSON Schema
// file (docs/workflow.schema.json) and the editor's forms all derive from these schemas.
// Node `config` is an open object here; each node type's plugin in lib/nodes owns its schema.

export const idSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'ids start with a letter or _ and hold letters, digits, _ and -')
  .refine((id) => !isReservedKey(id), 'ids cannot be __proto__, constructor or prototype');

export const positionSchema = z.object({ x: z.number(), y: z.number() });

export const retrySchema = z.object({
  maxAttempts: z.number().int().min(1).max(MAX_RETRY_ATTEMPTS).default(1),
  backoffMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).default(500),
  factor: z.number().min(1).max(10).default(2),
  maxBackoffMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
});

/** How a node's expressions are read: JavaScript (default), or jq (imported Serverless Workflow tasks). */
export const expressionLanguageSchema = z.enum(['js', 'jq']);

export const onErrorSchema = z.enum(['fail', 'continue', 'branch']);
export const nodeModeSchema = z.enum(['workflow', 'agent']);

/**
 * When a step may move to its next rollout stage, and when it is rolled back (lib/workflow/gates.ts).
 * Evaluated over the last `window` finished steps of the current stage; an unset threshold is no gate.
 */
export const rolloutGatesSchema = z.object({
  minSample: z
    .number()
    .int()
    .min(1)
    .max(MAX_GATE_WINDOW)
    .default(20)
    .describe('Finished steps needed in the window before any gate decides'),
  window: z
    .number()
    .int()
    .min(1)
    .max(MAX_GATE_WINDOW)
    .default(50)
    .describe('How many of the most recent finished steps the gates read'),
  minAgreement: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('Share of compared (shadow) cases where the agent equals the deterministic output'),
  maxFallbackRate: z.number().min(0).max(1).optional().describe('Share of agent attempts that fell back'),
  maxP95LatencyMs: z.number().min(0).optional().describe("95th percentile of the agent's time per step"),
  maxCostPerRunUsd: z.number().min(0).optional().describe("Mean of the agent's cost per step, in USD"),
});

export const agentSettingsSchema = z.object({
  instructions: z.string().default(''),
  /** "self", "workflow:<id>", "http" */
  tools: z.array(z.string()).default([]),
  maxSteps: z.number().int().min(1).max(MAX_AGENT_STEPS).default(6),
  maxTokens: z.number().int().min(1).default(8000),
  timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(60_000),
  fallback: z.enum(['deterministic', 'fail']).default('deterministic'),
  shadow: z.boolean().default(false),
  /**
   * Canary stage: the agent serves this share of runs (sticky by run id), the others run in shadow.
   * Ignored while `shadow` is true (the safe reading). Absent: the agent serves every run.
   */
  canaryPercent: z.number().int().min(MIN_CANARY_PERCENT).max(MAX_CANARY_PERCENT).optional(),
  gates: rolloutGatesSchema.optional(),
  /** Move to the next stage by itself when every gate passes (never past `agent`). */
  autoAdvance: z.boolean().optional(),
  /** Written by an automatic rollback or the kill switch, shown on the canvas; the next stage change clears it. */
  rolledBack: z
    .object({ from: z.string().max(100), reason: z.string().max(2_000), at: z.string().max(40) })
    .optional(),
  model: z.string().optional(),
  allowHosts: z.array(z.string()).optional(),
  /** The owner accepts that the agent's instructions may carry secrets.* to the model provider. */
  allowSecretsInPrompt: z.boolean().optional(),
});

export const nodeSchema = z.object({
  id: idSchema,
  type: z.string().min(1),
  name: z.string().optional(),
  position: positionSchema.default({ x: 0, y: 0 }),
  config: z.record(z.string(), z.unknown()).default({}),
  retry: retrySchema.optional(),
  timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
  onError: onErrorSchema.optional(),
  mode: nodeModeSchema.optional(),
  agent: agentSettingsSchema.optional(),
  notes: z.string().optional(),
  expressionLanguage: expressionLanguageSchema.optional(),
});

export const edgeSchema = z.object({
  id: idSchema,
  source: z.string().min(1),
  target: z.string().min(1),
  sourceHandle: z.string().optional(),
  targetHandle: z.string().optional(),
});

/** Sticky notes live beside the graph; the engine ignores them. */
export const stickyNoteSchema = z.object({
  id: z.string().min(1),
  text: z.string(),
  position: positionSchema,
  width: z.number().optional(),
  height: z.number().optional(),
});

export const definitionSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string().min(1).max(200),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  /** Per-workflow run limits (lib/workflow/limits.ts). */
  limits: z
    .object({
      maxSteps: z
        .number()
        .int()
        .min(1)
        .max(MAX_STEPS_PER_RUN_LIMIT)
        .optional()
        .describe('Steps one run may record before it fails with run_too_large'),
    })
    .optional(),
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema),
  notes: z.array(stickyNoteSchema).optional(),
});

export type WorkflowDefinition = z.infer<typeof definitionSchema>;
export type WorkflowNode = z.infer<typeof nodeSchema>;
export type WorkflowEdge = z.infer<typeof edgeSchema>;
export type RetryPolicy = z.infer<typeof retrySchema>;
export type AgentSettings = z.infer<typeof agentSettingsSchema>;
export type RolloutGates = z.infer<typeof rolloutGatesSchema>;
export type OnError = z.infer<typeof onErrorSchema>;
export type NodeMode = z.infer<typeof nodeModeSchema>;
export type ExpressionLanguage = z.infer<typeof expressionLanguageSchema>;
export type StickyNote = z.infer<typeof stickyNoteSchema>;

export const DEFAULT_HANDLE = 'out';
export const DEFAULT_INPUT_HANDLE = 'in';
export const ERROR_HANDLE = 'error';
