import { createChatClient, type ChatFn, type ModelConfig } from '@/lib/agent/model-client';
import { startMockLlmServer, type MockLlmServer } from './mock-llm-server';

export interface ScriptedModel {
  mock: MockLlmServer;
  /** The agent's model endpoint: default model scenario:echo (a step picks another by its model name). */
  model: ModelConfig;
  /** The engine's chat service (llm steps), through the real openai SDK. */
  chat: ChatFn;
}

/** The scripted model server on 127.0.0.1 and what an engine needs to reach it. Close `mock` after. */
export async function startScriptedModel(): Promise<ScriptedModel> {
  const mock = await startMockLlmServer();
  return {
    mock,
    model: { baseURL: mock.baseURL, apiKey: 'mock', defaultModel: 'scenario:echo' },
    chat: createChatClient({ env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'mock' } }),
  };
}
