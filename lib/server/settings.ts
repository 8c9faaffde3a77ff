import { z } from 'zod';
import { createOpenAI, getModelConfig, toModelError } from '@/lib/agent/model-client';
import {
  DEFAULT_PRICES,
  DEFAULT_UNKNOWN_MODEL_PRICE,
  UNKNOWN_MODEL_KEY,
  isPriced,
  unknownModelsSeen,
} from '@/lib/agent/pricing';
import { runCostCapFromEnv } from '@/lib/engine/agent-step';
import {
  effectiveModelConfig,
  loadStoredEndpoint,
  modelConfigReader,
  modelEndpointBody,
  saveStoredEndpoint,
} from './model-endpoint';
import { loadPriceTable, priceTableSchema, resetPriceTable, savePriceTable } from './model-prices';
import { json, parseWith, readJson } from './route';
import { getRuntime } from './runtime';

// Settings the UI edits (model price table) and shows (model endpoint status). Secrets and API
// tokens have their own routes (security). The model key is never returned, only whether one is set.

/** Endpoint status from the environment: never the key itself, nor credentials inside the URL. */
export function modelStatus(env: Record<string, string | undefined> = process.env) {
  const config = getModelConfig(env);
  let baseURL: string | null = null;
  if (config?.baseURL) {
    try {
      const u = new URL(config.baseURL);
      u.username = '';
      u.password = '';
      baseURL = u.toString();
    } catch {
      baseURL = '(invalid URL)';
    }
  }
  return {
    configured: config !== null,
    baseURL,
    apiKeySet: !!env.OPENAI_API_KEY?.trim(),
    defaultModel: config?.defaultModel ?? null,
  };
}

/** What Settings shows of the endpoint: where the one in force comes from and what is stored. */
async function endpointView(prisma: Parameters<typeof loadStoredEndpoint>[0]) {
  type Stored = Awaited<ReturnType<typeof loadStoredEndpoint>>;
  const stored = await loadStoredEndpoint(prisma).catch((): Stored => ({}));
  const { source } = effectiveModelConfig(process.env, stored);
  const saved = {
    baseURL: stored.baseURL ?? null,
    apiKeySet: !!stored.apiKey,
    defaultModel: stored.defaultModel ?? null,
  };
  const inForce = source === 'settings' ? { ...saved, configured: true } : modelStatus();
  return { ...inForce, source, stored: saved, environmentWins: source === 'environment' };
}

export async function getSettings() {
  const { db } = await getRuntime();
  const { prices, isDefault } = await loadPriceTable(db.prisma);
  const model = await endpointView(db.prisma);
  // Models charged at the unknown-model price: the default model when the table misses it, and
  // ids this process has seen answered (per process: a worker's own are not listed here).
  const unknown = new Set(unknownModelsSeen().filter((m) => !isPriced(m, prices)));
  if (model.defaultModel && !isPriced(model.defaultModel, prices)) unknown.add(model.defaultModel);
  return json({
    model,
    prices,
    pricesAreDefault: isDefault,
    defaultPrices: DEFAULT_PRICES,
    runCostCapUsd: runCostCapFromEnv(),
    unknownModels: [...unknown].sort(),
    unknownModelPrice: prices[UNKNOWN_MODEL_KEY] ?? DEFAULT_UNKNOWN_MODEL_PRICE,
  });
}

export async function getModelPrices() {
  const { db } = await getRuntime();
  return json(await loadPriceTable(db.prisma));
}

export const putPricesBody = z.object({ prices: priceTableSchema });

export async function putModelPrices({ req }: { req: Request }) {
  const body = parseWith(putPricesBody, await readJson(req));
  const { db } = await getRuntime();
  await savePriceTable(db.prisma, body.prices);
  return json(await loadPriceTable(db.prisma));
}

export async function deleteModelPrices() {
  const { db } = await getRuntime();
  await resetPriceTable(db.prisma);
  return json(await loadPriceTable(db.prisma));
}

/** PUT /api/settings/model: the endpoint, key and default model saved in Settings. */
export async function putModelEndpoint({ req }: { req: Request }) {
  const body = parseWith(modelEndpointBody, await readJson(req));
  const { db } = await getRuntime();
  await saveStoredEndpoint(db.prisma, body);
  return json({ model: await endpointView(db.prisma) });
}

/** How long "test connection" waits for the endpoint. */
export const MODEL_TEST_TIMEOUT_MS = 10_000;

/** POST /api/settings/model/test: list the models of the endpoint in force (no tokens spent). */
export async function testModelEndpoint() {
  const { db } = await getRuntime();
  const config = await modelConfigReader(db)();
  if (!config) return json({ ok: false, error: 'No model endpoint is configured.' });
  const t0 = Date.now();
  try {
    const page = await createOpenAI(config).models.list({ timeout: MODEL_TEST_TIMEOUT_MS });
    const models = page.data.map((m) => m.id).slice(0, 50);
    return json({ ok: true, latencyMs: Date.now() - t0, models });
  } catch (err) {
    const e = toModelError(err);
    return json({ ok: false, latencyMs: Date.now() - t0, error: e instanceof Error ? e.message : String(e) });
  }
}
