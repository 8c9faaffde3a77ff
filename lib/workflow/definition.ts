import { z } from 'zod';
import {
  isReservedKey,
  MAX_AGENT_STEPS,
  MAX_ID_LENGTH,
  MAX_RETRY_ATTEMPTS,
  MAX_STEPS_PER_RUN_LIMIT,
  MAX_TIMEOUT_MS,
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

export const agentSettingsSchema = z.object({
  instructions: z.string().default(''),
  /** "self", "workflow:<id>", "http" */
  tools: z.array(z.string()).default([]),
  maxSteps: z.number().int().min(1).max(MAX_AGENT_STEPS).default(6),
  maxTokens: z.number().int().min(1).default(8000),
  timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(60_000),
  fallback: z.enum(['deterministic', 'fail']).default('deterministic'),
  shadow: z.boolean().default(false),
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
export type OnError = z.infer<typeof onErrorSchema>;
export type NodeMode = z.infer<typeof nodeModeSchema>;
export type ExpressionLanguage = z.infer<typeof expressionLanguageSchema>;
export type StickyNote = z.infer<typeof stickyNoteSchema>;

export const DEFAULT_HANDLE = 'out';
export const DEFAULT_INPUT_HANDLE = 'in';
export const ERROR_HANDLE = 'error';
