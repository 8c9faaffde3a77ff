import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@/lib/db/client';
import { tempDataDir } from '@/lib/db/testing/databases';
import { createChatClient } from '@/lib/agent/model-client';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import {
  effectiveModelConfig,
  loadStoredEndpoint,
  MODEL_ENDPOINT_KEY,
  modelConfigReader,
  saveStoredEndpoint,
} from './model-endpoint';

// Settings → Model endpoint: the key is encrypted at rest, the environment wins over what is
// saved, and what is saved is what model calls really use (against the scripted model server).

const key = randomBytes(32);
const keyFn = () => key;
let db: Db;
let tmp: ReturnType<typeof tempDataDir>;
let llm: MockLlmServer;

beforeAll(async () => {
  tmp = tempDataDir();
  db = await openDb({ dataDir: tmp.dir });
  llm = await startMockLlmServer({ port: 0 });
});
afterAll(async () => {
  await llm.close();
  await db.close();
  tmp.remove();
});

describe('stored model endpoint', () => {
  it('keeps the API key encrypted at rest, bound to its row', async () => {
    await saveStoredEndpoint(db.prisma, { baseURL: llm.baseURL, apiKey: 'sk-live-very-secret' }, keyFn);
    const row = await db.prisma.setting.findUnique({ where: { key: MODEL_ENDPOINT_KEY } });
    expect(JSON.stringify(row!.value)).not.toContain('sk-live-very-secret');
    expect(await loadStoredEndpoint(db.prisma, keyFn)).toMatchObject({
      baseURL: llm.baseURL,
      apiKey: 'sk-live-very-secret',
    });
    // Another key cannot read it.
    await expect(loadStoredEndpoint(db.prisma, () => randomBytes(32))).rejects.toThrow();
    // Omitting the key keeps it; an empty one removes it.
    await saveStoredEndpoint(db.prisma, { defaultModel: 'scenario:echo' }, keyFn);
    expect((await loadStoredEndpoint(db.prisma, keyFn)).apiKey).toBe('sk-live-very-secret');
    await saveStoredEndpoint(db.prisma, { apiKey: '' }, keyFn);
    expect((await loadStoredEndpoint(db.prisma, keyFn)).apiKey).toBeUndefined();
  });

  it('the environment wins over the saved endpoint; nothing set means no model', () => {
    const stored = { baseURL: 'http://saved.test/v1', apiKey: 'k', defaultModel: 'm' };
    expect(effectiveModelConfig({ OPENAI_BASE_URL: 'http://env.test/v1' }, stored)).toMatchObject({
      source: 'environment',
      config: { baseURL: 'http://env.test/v1' },
    });
    expect(effectiveModelConfig({}, stored)).toEqual({
      source: 'settings',
      config: { baseURL: 'http://saved.test/v1', apiKey: 'k', defaultModel: 'm' },
    });
    expect(effectiveModelConfig({}, {})).toEqual({ source: 'none', config: null });
  });

  it('model calls go to the saved endpoint when the environment sets none', async () => {
    await saveStoredEndpoint(db.prisma, { baseURL: llm.baseURL, defaultModel: 'scenario:echo' }, keyFn);
    const before = llm.requests.length;
    const chat = createChatClient({ config: modelConfigReader(db, {}) });
    const res = await chat({ prompt: 'hello there', signal: AbortSignal.timeout(10_000) });
    expect(res.text).toContain('hello there');
    expect(llm.requests.length).toBe(before + 1);
    // With OPENAI_BASE_URL set the saved endpoint is not used at all.
    const envChat = createChatClient({
      config: modelConfigReader(db, { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }),
    });
    await expect(envChat({ prompt: 'x', signal: AbortSignal.timeout(10_000) })).rejects.toThrow();
    expect(llm.requests.length).toBe(before + 1);
  });
});
