import { z } from 'zod';
import type { PrismaClient } from '@/lib/db/generated/client';
import type { Db } from '@/lib/db/client';
import { DEFAULT_MODEL, getModelConfig, type ModelConfig } from '@/lib/agent/model-client';
import { decryptSecret, encryptSecret, loadSecretKey } from '@/lib/secrets/crypto';
import { secretRedactor } from '@/lib/secrets/redact';

// The model endpoint set in Settings (Setting "model_endpoint"): base URL and default model in
// clear, the API key encrypted like a stored secret (AES-GCM under TRELLIS_SECRET_KEY, the row
// name as associated data). The environment wins: when OPENAI_BASE_URL or OPENAI_API_KEY is set,
// the stored endpoint is shown but not used. Kept apart from settings.ts (the route handlers) so
// runtime.ts can import it without a cycle.

export const MODEL_ENDPOINT_KEY = 'model_endpoint';
/** The AAD the stored key is bound to: a value copied into another row does not decrypt. */
const KEY_AAD = 'model_endpoint.apiKey';
/** Settings edits reach agent steps within this long (each step reads the cached endpoint). */
export const MODEL_ENDPOINT_CACHE_MS = 2_000;
export const MAX_MODEL_API_KEY_LENGTH = 4096;

export const modelEndpointBody = z.object({
  baseURL: z
    .string()
    .trim()
    .max(2000)
    .refine((s) => s === '' || /^https?:\/\//.test(s), 'an http(s) URL, or empty to clear')
    .optional(),
  /** Omitted: keep the stored key; '': remove it. */
  apiKey: z.string().max(MAX_MODEL_API_KEY_LENGTH).optional(),
  defaultModel: z.string().trim().max(200).optional(),
});

const storedSchema = z.object({
  baseURL: z.string().optional(),
  apiKey: z.string().optional(),
  defaultModel: z.string().optional(),
});
type Stored = z.infer<typeof storedSchema>;

async function readRow(prisma: PrismaClient): Promise<Stored> {
  const row = await prisma.setting.findUnique({ where: { key: MODEL_ENDPOINT_KEY } });
  const parsed = storedSchema.safeParse(row?.value ?? {});
  return parsed.success ? parsed.data : {};
}

/** The stored endpoint, key decrypted (and taught to the redactor, so traces mask it). */
export async function loadStoredEndpoint(
  prisma: PrismaClient,
  key: () => Buffer = () => loadSecretKey(),
): Promise<{ baseURL?: string; apiKey?: string; defaultModel?: string }> {
  const s = await readRow(prisma);
  const apiKey = s.apiKey ? decryptSecret(key(), KEY_AAD, s.apiKey) : undefined;
  if (apiKey) secretRedactor().remember([apiKey]);
  return { baseURL: s.baseURL || undefined, apiKey, defaultModel: s.defaultModel || undefined };
}

export async function saveStoredEndpoint(
  prisma: PrismaClient,
  patch: z.infer<typeof modelEndpointBody>,
  key: () => Buffer = () => loadSecretKey(),
): Promise<void> {
  const prev = await readRow(prisma);
  const next: Stored = { ...prev };
  if (patch.baseURL !== undefined) next.baseURL = patch.baseURL || undefined;
  if (patch.defaultModel !== undefined) next.defaultModel = patch.defaultModel || undefined;
  if (patch.apiKey !== undefined)
    next.apiKey = patch.apiKey ? encryptSecret(key(), KEY_AAD, patch.apiKey) : undefined;
  const value = JSON.parse(JSON.stringify(next)) as object;
  await prisma.setting.upsert({
    where: { key: MODEL_ENDPOINT_KEY },
    create: { key: MODEL_ENDPOINT_KEY, value },
    update: { value },
  });
}

/** Where the endpoint in force comes from. */
export type EndpointSource = 'environment' | 'settings' | 'none';

/** The endpoint in force: the environment's when it sets one, else the stored one, else none. */
export function effectiveModelConfig(
  env: Record<string, string | undefined>,
  stored: { baseURL?: string; apiKey?: string; defaultModel?: string },
): { config: ModelConfig | null; source: EndpointSource } {
  const fromEnv = getModelConfig(env);
  if (fromEnv) return { config: fromEnv, source: 'environment' };
  if (!stored.baseURL && !stored.apiKey) return { config: null, source: 'none' };
  return {
    config: {
      baseURL: stored.baseURL,
      // Local servers need no key, but the SDK insists on one.
      apiKey: stored.apiKey ?? 'not-needed',
      defaultModel: stored.defaultModel || env.OPENAI_MODEL?.trim() || DEFAULT_MODEL,
    },
    source: 'settings',
  };
}

/** The engine's endpoint reader: the effective config, the stored part cached briefly. */
export function modelConfigReader(
  db: Db,
  env: Record<string, string | undefined> = process.env,
): () => Promise<ModelConfig | null> {
  let cached: { at: number; stored: Awaited<ReturnType<typeof loadStoredEndpoint>> } | undefined;
  return async () => {
    if (getModelConfig(env)) return getModelConfig(env);
    if (!cached || Date.now() - cached.at >= MODEL_ENDPOINT_CACHE_MS)
      cached = { at: Date.now(), stored: await loadStoredEndpoint(db.prisma).catch(() => ({})) };
    return effectiveModelConfig(env, cached.stored).config;
  };
}
