import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrellisError } from '@/lib/workflow/errors';
import { llm, llmConfig, type LlmConfig } from '@/lib/nodes/llm';
import { createChatClient, getModelConfig, DEFAULT_MODEL } from '@/lib/agent/model-client';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { nodeContext } from '@/lib/nodes/testing/node-context';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import { createSandboxServices, shutdownSandbox } from '@/lib/sandbox';

// The real openai SDK against the scripted server on 127.0.0.1.
let mock: MockLlmServer;
let chat: ReturnType<typeof createChatClient>;
beforeAll(async () => {
  mock = await startMockLlmServer();
  chat = createChatClient({ env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'mock' } });
});
afterAll(async () => {
  mock.close();
  await shutdownSandbox();
});

const LABEL_SCHEMA = {
  type: 'object',
  properties: { label: { enum: ['billing', 'bug', 'other'] } },
  required: ['label'],
};

async function run(c: Partial<LlmConfig>, input: unknown = {}) {
  const r = await llm.run(
    nodeContext(llmConfig.parse({ prompt: 'hi', ...c }), { input, services: { chat } }),
  );
  if (r.kind !== 'done') throw new Error('expected done');
  return r;
}

describe('llm node', () => {
  it('returns plain text, records tokens, renders the prompt and system', async () => {
    const r = await run(
      { prompt: 'Say {{ input.word }}', system: 'Be {{ input.tone }}' },
      { word: 'hello', tone: 'brief' },
    );
    expect(r.output).toBe('Echo: Say hello');
    expect(r.tokens).toBeGreaterThan(0);
    const req = mock.requests.at(-1)!.body;
    expect(req.model).toBe(DEFAULT_MODEL);
    expect(req.messages[0]).toEqual({ role: 'system', content: 'Be brief' });
    expect(req.response_format).toBeUndefined();
  });

  it('asks for JSON with an outputSchema and returns the parsed, validated value', async () => {
    const r = await run({
      prompt: 'Classify: my invoice is wrong, billing issue',
      outputSchema: LABEL_SCHEMA,
      model: 'gpt-4.1-mini',
    });
    expect(r.output).toEqual({ label: 'billing' });
    expect(mock.requests.at(-1)!.body.response_format).toEqual({ type: 'json_object' });
    expect(r.cost).toBeGreaterThan(0); // priced model
  });

  it('fails with model_error and JSON pointers when the answer breaks the schema', async () => {
    const err = (await run({
      prompt: 'x',
      outputSchema: LABEL_SCHEMA,
      model: 'scenario:always-invalid',
    }).catch((e: unknown) => e)) as TrellisError;
    expect(err).toBeInstanceOf(TrellisError);
    expect(err.code).toBe('model_error');
    expect(err.message).toMatch(/does not match the output schema: \/label must be one of/);
    expect((err.details as { errors: Array<{ path: string }> }).errors[0].path).toBe('/label');
  });

  it('fails with model_error when the answer is not JSON', async () => {
    const err = (await run({
      prompt: 'x',
      outputSchema: LABEL_SCHEMA,
      model: 'scenario:malformed-json',
    }).catch((e: unknown) => e)) as TrellisError;
    expect(err.code).toBe('model_error');
    expect(err.message).toMatch(/not JSON/);
  });

  it.each([
    ['scenario:rate-limit', 429],
    ['scenario:server-error', 500],
  ])('%s surfaces as a retryable model_error with the status', async (model, status) => {
    const before = mock.requests.length;
    const err = (await run({ prompt: 'x', model }).catch((e: unknown) => e)) as TrellisError;
    expect(err.code).toBe('model_error');
    expect(err.retryable).toBe(true);
    expect(err.details).toEqual({ status });
    expect(mock.requests.length - before).toBe(1); // the SDK does not retry behind the engine's back
  });

  it('fails clearly when no model is configured', async () => {
    const noModel = createChatClient({ env: {} });
    const p = llm.run(nodeContext(llmConfig.parse({ prompt: 'x' }), { services: { chat: noModel } }));
    await expect(p).rejects.toMatchObject({
      code: 'no_model_configured',
      message: 'No model configured: set OPENAI_BASE_URL and/or OPENAI_API_KEY',
    });
  });

  it('fails with no_model_configured when the host passes no chat service', async () => {
    await expect(llm.run(nodeContext(llmConfig.parse({ prompt: 'x' })))).rejects.toMatchObject({
      code: 'no_model_configured',
    });
  });

  it('uses the environment when the engine is given no chat service', async () => {
    const saved = { ...process.env };
    const run = async (prompt: string) => {
      const store = new MemoryTraceStore();
      const engine = createEngine({ store, services: createSandboxServices() });
      const def = {
        schemaVersion: 1 as const,
        name: 'env',
        nodes: [
          { id: 't', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
          { id: 'l', type: 'llm', position: { x: 0, y: 0 }, config: { prompt } },
        ],
        edges: [{ id: 'e', source: 't', target: 'l' }],
      };
      const { runId } = await engine.runToCompletion({ definition: def, input: {} });
      return (await store.listSteps(runId)).find((st) => st.nodeId === 'l');
    };
    try {
      delete process.env.OPENAI_API_KEY;
      delete process.env.OPENAI_BASE_URL;
      expect(await run('x')).toMatchObject({ status: 'failed', error: { code: 'no_model_configured' } });
      process.env.OPENAI_BASE_URL = mock.baseURL;
      expect(await run('from env')).toMatchObject({ status: 'succeeded', output: 'Echo: from env' });
    } finally {
      process.env = saved;
    }
  });

  it('aborts the model call through the signal', async () => {
    const ac = new AbortController();
    const p = llm.run(
      nodeContext(llmConfig.parse({ prompt: 'x', model: 'scenario:slow' }), {
        services: { chat },
        signal: ac.signal,
      }),
    );
    setTimeout(() => ac.abort(new Error('step timed out')), 50);
    await expect(p).rejects.toThrow('step timed out');
  });
});

describe('getModelConfig', () => {
  it('is null without OPENAI_BASE_URL and OPENAI_API_KEY, and fills a placeholder key for keyless local servers', () => {
    expect(getModelConfig({})).toBeNull();
    expect(getModelConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' })).toEqual({
      baseURL: 'http://127.0.0.1:11434/v1',
      apiKey: 'not-needed',
      defaultModel: DEFAULT_MODEL,
    });
    expect(getModelConfig({ OPENAI_API_KEY: 'k', OPENAI_MODEL: 'm' })).toEqual({
      baseURL: undefined,
      apiKey: 'k',
      defaultModel: 'm',
    });
  });
});
