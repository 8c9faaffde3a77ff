import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { TrellisError } from '@/lib/workflow/errors';
import type { NodeServices } from '@/lib/nodes/define-node';
import { costOf, type PriceTable } from '@/lib/agent/pricing';
import { schemaInstruction } from '@/lib/agent/prompt';

// The one place that knows how Trellis talks to an OpenAI-compatible endpoint (OpenAI, Ollama,
// vLLM, LM Studio, the scripted mock). Chat completions only: the common denominator.

export const DEFAULT_MODEL = 'gpt-4.1-mini';

export interface ModelConfig {
  baseURL?: string;
  apiKey: string;
  defaultModel: string;
}

/** null when neither OPENAI_BASE_URL nor OPENAI_API_KEY is set: no model configured. */
export function getModelConfig(env: Record<string, string | undefined> = process.env): ModelConfig | null {
  const baseURL = env.OPENAI_BASE_URL?.trim() || undefined;
  const apiKey = env.OPENAI_API_KEY?.trim() || undefined;
  if (!baseURL && !apiKey) return null;
  // Local servers need no key, but the SDK insists on one.
  return { baseURL, apiKey: apiKey ?? 'not-needed', defaultModel: env.OPENAI_MODEL?.trim() || DEFAULT_MODEL };
}

export function noModelConfigured(): TrellisError {
  return new TrellisError(
    'no_model_configured',
    'No model configured: set OPENAI_BASE_URL and/or OPENAI_API_KEY',
  );
}

/** Endpoints whose SDK client is kept for reuse (a new client per call costs ~2 ms: no warm connection). */
export const MAX_CACHED_CLIENTS = 16;
const clients = new Map<string, OpenAI>();

export function createOpenAI(config: ModelConfig): OpenAI {
  const key = `${config.baseURL ?? ''}\u0000${config.apiKey}`;
  let client = clients.get(key);
  if (!client) {
    // Retries belong to the engine (node retry policy) and the agent loop, not hidden in the SDK.
    client = new OpenAI({ apiKey: config.apiKey, baseURL: config.baseURL, maxRetries: 0 });
    if (clients.size >= MAX_CACHED_CLIENTS) clients.delete(clients.keys().next().value!);
    clients.set(key, client);
  }
  return client;
}

/** Map SDK errors to our codes: 429/5xx/network are retryable model errors, aborts pass through. */
export function toModelError(err: unknown, signal?: AbortSignal): unknown {
  if (err instanceof TrellisError) return err;
  if (err instanceof APIUserAbortError || signal?.aborted) return signal?.reason ?? err;
  if (err instanceof APIConnectionError) {
    return new TrellisError('model_error', `Model endpoint unreachable: ${err.message}`, {
      retryable: true,
      cause: err,
    });
  }
  if (err instanceof APIError) {
    const status = err.status;
    return new TrellisError('model_error', `Model endpoint returned HTTP ${status ?? '?'}: ${err.message}`, {
      retryable: status === 429 || (status !== undefined && status >= 500),
      details: { status },
      cause: err,
    });
  }
  return new TrellisError('model_error', (err as Error)?.message ?? String(err), { cause: err });
}

/**
 * The completion cap as the endpoint expects it: OpenAI's reasoning models (o1/o3/o4, gpt-5) refuse
 * `max_tokens` and want `max_completion_tokens`; local servers (Ollama, vLLM, LM Studio) all read
 * `max_tokens`.
 */
export function completionLimit(
  model: string,
  maxTokens: number,
): { max_tokens: number } | { max_completion_tokens: number } {
  const id = model.slice(model.lastIndexOf('/') + 1).toLowerCase();
  return /^(o\d|gpt-5)/.test(id) ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens };
}

export type ChatFn = NonNullable<NodeServices['chat']>;

/**
 * The engine passes this as services.chat. Reads the environment at call time, so a model set up
 * after start-up is picked up; with none it throws no_model_configured when called.
 */
export function createChatClient(
  opts: {
    env?: Record<string, string | undefined>;
    prices?: PriceTable;
    /** The endpoint in force (the host's reads Settings, the environment winning); default: env. */
    config?: () => Promise<ModelConfig | null>;
  } = {},
): ChatFn {
  let cached: { key: string; client: OpenAI } | undefined;
  return async (args) => {
    const config = opts.config ? await opts.config() : getModelConfig(opts.env ?? process.env);
    if (!config) throw noModelConfigured();
    const key = `${config.baseURL}\u0000${config.apiKey}`;
    if (cached?.key !== key) cached = { key, client: createOpenAI(config) };
    const model = args.model || config.defaultModel;
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [];
    let system = args.system ?? '';
    if (args.jsonSchema) {
      // json_object mode is what every compatible server supports; the schema goes in the prompt
      // and the caller validates the answer.
      system += `${system ? '\n\n' : ''}${schemaInstruction(args.jsonSchema)}`;
    }
    if (system) messages.push({ role: 'system', content: system });
    messages.push({ role: 'user', content: args.prompt });
    try {
      const res = await cached.client.chat.completions.create(
        {
          model,
          messages,
          ...(args.temperature === undefined ? {} : { temperature: args.temperature }),
          ...(args.maxTokens === undefined ? {} : completionLimit(model, args.maxTokens)),
          ...(args.jsonSchema ? { response_format: { type: 'json_object' as const } } : {}),
        },
        { signal: args.signal },
      );
      const text = res.choices[0]?.message?.content ?? '';
      const promptTokens = res.usage?.prompt_tokens ?? 0;
      const completionTokens = res.usage?.completion_tokens ?? 0;
      return {
        text,
        tokens: res.usage?.total_tokens ?? promptTokens + completionTokens,
        cost: costOf(res.model || model, { promptTokens, completionTokens }, opts.prices),
        model: res.model || model,
        usage: { promptTokens, completionTokens },
      };
    } catch (err) {
      throw toModelError(err, args.signal);
    }
  };
}
