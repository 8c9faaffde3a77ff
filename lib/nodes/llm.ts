import { z } from 'zod';
import { TrellisError } from '@/lib/workflow/errors';
import { defineNode, type NodeRunContext, type NodeResult } from '@/lib/nodes/define-node';
// lib/agent owns the model client and the JSON Schema check; both are leaf modules (no engine,
// no nodes), so this edge adds no cycle.
import { configTool } from '@/lib/nodes/tool-schema';
import { checkJsonSchema, parseModelJson } from '@/lib/workflow/json-schema-check';

export const llmConfig = z.object({
  model: z
    .string()
    .optional()
    .describe('Model name; empty uses the server default (OPENAI_MODEL, else gpt-4.1-mini)'),
  system: z.string().optional().describe('System prompt; may hold {{ }} expressions'),
  prompt: z
    .string()
    .min(1)
    .describe('User prompt; may hold {{ }} expressions, e.g. Classify: {{ steps.fetch.output.body.text }}'),
  outputSchema: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('JSON Schema of the answer; when set the model must answer JSON that validates against it'),
  temperature: z.number().min(0).max(2).optional().describe('Sampling temperature, 0 to 2'),
  allowSecretsInPrompt: z
    .boolean()
    .optional()
    .describe('Let the prompt and system templates read secrets.* (their values go to the model provider)'),
});
export type LlmConfig = z.infer<typeof llmConfig>;

/** What an agent may set through the `self` tool. */
export const llmToolParams = llmConfig.pick({ prompt: true, system: true });

function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export async function runLlm(ctx: NodeRunContext<LlmConfig>): Promise<Extract<NodeResult, { kind: 'done' }>> {
  const { config, signal, services } = ctx;
  // Secrets reach the model provider only when the owner said so (validation also refuses it).
  const scope = config.allowSecretsInPrompt ? ctx.scope : { ...ctx.scope, secrets: {} };
  const prompt = asText(await services.render(config.prompt, scope, signal));
  const system = config.system ? asText(await services.render(config.system, scope, signal)) : undefined;
  // The host injects the model client (the engine defaults it to one read from the environment);
  // lib/nodes never reaches into lib/agent for it.
  const chat = services.chat;
  if (!chat)
    throw new TrellisError('no_model_configured', 'No model configured: the host passed no chat service');
  const res = await chat({
    model: config.model || undefined,
    system,
    prompt,
    temperature: config.temperature,
    jsonSchema: config.outputSchema,
    signal,
  });
  if (!config.outputSchema) return { kind: 'done', output: res.text, tokens: res.tokens, cost: res.cost };

  const parsed = parseModelJson(res.text);
  if (!parsed.ok) {
    throw new TrellisError('model_error', `Model answer is not JSON: ${parsed.error}`, {
      retryable: true,
      details: { text: res.text.slice(0, 2000) },
    });
  }
  const errors = checkJsonSchema(config.outputSchema, parsed.value);
  if (errors.length > 0) {
    throw new TrellisError(
      'model_error',
      `Model answer does not match the output schema: ${errors[0].path || '/'} ${errors[0].message}`,
      { retryable: true, details: { errors, output: parsed.value } },
    );
  }
  return { kind: 'done', output: parsed.value, tokens: res.tokens, cost: res.cost };
}

export const llm = defineNode({
  type: 'llm',
  label: 'LLM',
  group: 'AI',
  icon: 'sparkles',
  description:
    'One model call (any OpenAI-compatible endpoint); optionally returns JSON validated against a schema.',
  config: llmConfig,
  defaultConfig: { prompt: 'Summarize: {{ input }}' },
  agentCapable: true,
  run: runLlm,
  asTool: () => configTool("Ask the model once (the step's own operation)", llmToolParams, true),
});
