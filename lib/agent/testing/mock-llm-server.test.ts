import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startMockLlmServer,
  sampleFromSchema,
  MOCK_SCENARIOS,
  type MockLlmServer,
} from '@/lib/agent/testing/mock-llm-server';

let mock: MockLlmServer;
beforeAll(async () => {
  mock = await startMockLlmServer();
});
afterAll(() => mock.close());

async function chat(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${mock.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test reads loosely shaped JSON
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('mock LLM server', () => {
  it('listens on 127.0.0.1 and lists its scenarios as models', async () => {
    expect(mock.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${mock.baseURL}/models`);
    const ids = ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toEqual(MOCK_SCENARIOS.map((s) => `scenario:${s}`));
  });

  it('selects the scenario by header, model name or prompt marker (default echo)', async () => {
    const msgs = (text: string) => [{ role: 'user', content: text }];
    await chat({ model: 'm', messages: msgs('hi') });
    await chat({ model: 'scenario:rate-limit', messages: msgs('hi') });
    await chat({ model: 'm', messages: msgs('hi [scenario:server-error]') });
    await chat({ model: 'm', messages: msgs('hi') }, { 'x-mock-scenario': 'malformed-json' });
    expect(mock.requests.slice(-4).map((r) => r.scenario)).toEqual([
      'echo',
      'rate-limit',
      'server-error',
      'malformed-json',
    ]);
  });

  it('answers in OpenAI format with usage, tool calls and errors', async () => {
    const ok = await chat({ model: 'm', messages: [{ role: 'user', content: 'ping' }] });
    expect(ok.json.choices[0].message).toMatchObject({ role: 'assistant', content: 'Echo: ping' });
    expect(ok.json.usage.total_tokens).toBe(ok.json.usage.prompt_tokens + ok.json.usage.completion_tokens);
    const tools = [
      {
        type: 'function',
        function: { name: 'lookup', parameters: { type: 'object', properties: { id: { type: 'string' } } } },
      },
    ];
    const call = await chat({
      model: 'scenario:tool-then-answer',
      messages: [{ role: 'user', content: 'x' }],
      tools,
    });
    expect(call.json.choices[0].finish_reason).toBe('tool_calls');
    expect(call.json.choices[0].message.tool_calls[0]).toMatchObject({
      type: 'function',
      function: { name: 'lookup', arguments: '{"id":"ok"}' },
    });
    const err = await chat({ model: 'scenario:rate-limit', messages: [] });
    expect(err.status).toBe(429);
    expect(err.json.error.type).toBe('rate_limit_exceeded');
  });

  it('tool-then-agree runs the first tool as configured, then answers what it returned', async () => {
    const tools = [{ type: 'function', function: { name: 'self', parameters: { type: 'object' } } }];
    const first = await chat({
      model: 'scenario:tool-then-agree',
      messages: [{ role: 'user', content: 'x' }],
      tools,
    });
    const call = first.json.choices[0].message.tool_calls[0];
    expect(call.function).toEqual({ name: 'self', arguments: '{}' });
    const second = await chat({
      model: 'scenario:tool-then-agree',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"label":"bug"}' },
      ],
      tools,
    });
    expect(second.json.choices[0].message.content).toBe('{"label":"bug"}');
  });

  it('answers requests that pick no scenario with the server default', async () => {
    const other = await startMockLlmServer({ scenario: 'malformed-json' });
    try {
      await fetch(`${other.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await fetch(`${other.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'scenario:echo', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(other.requests.map((r) => r.scenario)).toEqual(['malformed-json', 'echo']);
    } finally {
      await other.close();
    }
  });

  it('builds schema-shaped samples, picking enum values named in the prompt', () => {
    const schema = {
      type: 'object',
      properties: { label: { enum: ['billing', 'bug'] }, n: { type: 'integer', minimum: 3 } },
    };
    expect(sampleFromSchema(schema, 'found a BUG')).toEqual({ label: 'bug', n: 3 });
  });

  it('answers an alias with its dated id, like real endpoints (x-mock-model overrides)', async () => {
    const msgs = [{ role: 'user', content: 'hi' }];
    expect((await chat({ model: 'gpt-4.1-mini', messages: msgs })).json.model).toBe(
      'gpt-4.1-mini-2025-04-14',
    );
    expect((await chat({ model: 'scenario:echo', messages: msgs })).json.model).toBe('scenario:echo');
    const prefixed = await chat(
      { model: 'gpt-4.1-mini', messages: msgs },
      { 'x-mock-model': 'openai/gpt-4.1-mini' },
    );
    expect(prefixed.json.model).toBe('openai/gpt-4.1-mini');
  });
});
