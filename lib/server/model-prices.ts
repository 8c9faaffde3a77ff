import { z } from 'zod';
import { isReservedKey } from '@/lib/workflow/limits';
import type { Db } from '@/lib/db/client';
import type { PrismaClient } from '@/lib/db/generated/client';
import { DEFAULT_PRICES, type PriceTable } from '@/lib/agent/pricing';
import type { AgentOptions } from '@/lib/engine/agent-step';

// The model price table (Setting "model_prices") and the engine's agent options built from it.
// Separate from settings.ts (the route handlers) so runtime.ts can import it without a cycle:
//   createEngine({ ..., agent: agentOptions(db) })

export const MODEL_PRICES_KEY = 'model_prices';
/** Models in the price table: enough for any real catalogue, small enough to read per agent step. */
export const MAX_PRICE_ENTRIES = 500;
/** Edited prices are read per agent step; a short cache keeps that off the database's back. */
export const PRICE_CACHE_MS = 2_000;

const priceSchema = z.object({
  inputPerMTok: z.number().min(0).max(100_000),
  outputPerMTok: z.number().min(0).max(100_000),
});
// zod's record skips a `__proto__` key (it never reaches the key schema), so the raw keys are
// checked before the record is parsed.
const noReservedKeys = z.custom<unknown>(
  (v) => !(v && typeof v === 'object' && Object.keys(v).some(isReservedKey)),
  'a model cannot be named __proto__, constructor or prototype',
);
export const priceTableSchema = noReservedKeys.pipe(
  z
    .record(z.string().trim().min(1).max(200), priceSchema)
    .refine((t) => Object.keys(t).length <= MAX_PRICE_ENTRIES, {
      message: `at most ${MAX_PRICE_ENTRIES} models`,
    }),
);

/** The user's table when saved, else the built-in one. */
export async function loadPriceTable(
  prisma: PrismaClient,
): Promise<{ prices: PriceTable; isDefault: boolean }> {
  const row = await prisma.setting.findUnique({ where: { key: MODEL_PRICES_KEY } });
  if (!row) return { prices: { ...DEFAULT_PRICES }, isDefault: true };
  const parsed = priceTableSchema.safeParse(row.value);
  // A row written by hand that no longer parses must not stop agent steps: use the defaults.
  return parsed.success
    ? { prices: parsed.data, isDefault: false }
    : { prices: { ...DEFAULT_PRICES }, isDefault: true };
}

export async function savePriceTable(prisma: PrismaClient, prices: PriceTable): Promise<void> {
  await prisma.setting.upsert({
    where: { key: MODEL_PRICES_KEY },
    create: { key: MODEL_PRICES_KEY, value: prices as object },
    update: { value: prices as object },
  });
}

export async function resetPriceTable(prisma: PrismaClient): Promise<void> {
  await prisma.setting.deleteMany({ where: { key: MODEL_PRICES_KEY } });
}

/** What the engine needs for agent steps: pass to createEngine({ agent: agentOptions(db) }). */
export function agentOptions(db: Db): AgentOptions {
  let cached: { at: number; prices: PriceTable } | undefined;
  return {
    prices: async () => {
      if (cached && Date.now() - cached.at < PRICE_CACHE_MS) return cached.prices;
      const { prices } = await loadPriceTable(db.prisma);
      cached = { at: Date.now(), prices };
      return prices;
    },
  };
}
