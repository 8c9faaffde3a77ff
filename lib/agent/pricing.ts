// USD prices per million tokens, one table for llm steps and agent steps. Settings may pass an
// edited table. Providers answer with dated or prefixed ids (gpt-4.1-mini-2025-04-14,
// openai/gpt-4.1-mini), so lookups normalise the id; a model still unknown is priced by the table's
// "*" entry (else DEFAULT_UNKNOWN_MODEL_PRICE) and remembered so Settings can flag it. Never 0 by
// accident: a free self-hosted endpoint is priced 0 by saying so ("*": 0/0 or its own entry).
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}
export type PriceTable = Record<string, ModelPrice>;

/** Price-table key that prices every model not listed. */
export const UNKNOWN_MODEL_KEY = '*';
/** Price of a model the table does not know (and no "*" entry): as dear as the dearest default. */
export const DEFAULT_UNKNOWN_MODEL_PRICE: ModelPrice = { inputPerMTok: 2.5, outputPerMTok: 10 };
/** Distinct unknown model ids remembered for Settings (bounded: ids come from remote servers). */
export const MAX_UNKNOWN_MODELS_TRACKED = 100;

export const DEFAULT_PRICES: PriceTable = {
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  'gpt-4.1-nano': { inputPerMTok: 0.1, outputPerMTok: 0.4 },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
};

const DATE_SUFFIX = /-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$/;

/** Candidate table keys for a model id, most specific first. */
export function modelIdCandidates(model: string): string[] {
  const out: string[] = [];
  const add = (s: string) => {
    if (s && !out.includes(s)) out.push(s);
  };
  const id = model.trim();
  const lower = id.toLowerCase();
  for (const base of [id, lower]) {
    add(base);
    const unprefixed = base.includes('/') ? base.slice(base.lastIndexOf('/') + 1) : base;
    add(unprefixed);
    // "gpt-4.1-mini-2025-04-14", "claude-3-5-sonnet-20241022", "gpt-4-0613"; ":latest" tags too.
    for (const b of [base, unprefixed]) {
      const untagged = b.replace(/:[\w.-]+$/, '');
      add(untagged);
      add(untagged.replace(DATE_SUFFIX, ''));
    }
  }
  return out;
}

const unknownSeen = new Set<string>();

/** Unknown model ids priced by the default since start-up (Settings flags them). */
export function unknownModelsSeen(): string[] {
  return [...unknownSeen].sort();
}

/** Whether the table prices this id (after normalising), without remembering it as unknown. */
export function isPriced(model: string, prices: PriceTable = DEFAULT_PRICES): boolean {
  return modelIdCandidates(model).some(
    (k) => k !== UNKNOWN_MODEL_KEY && Object.prototype.hasOwnProperty.call(prices, k),
  );
}

export function priceOf(
  model: string,
  prices: PriceTable = DEFAULT_PRICES,
): { price: ModelPrice; key: string | null } {
  for (const k of modelIdCandidates(model)) {
    const p = Object.prototype.hasOwnProperty.call(prices, k) ? prices[k] : undefined;
    if (p && k !== UNKNOWN_MODEL_KEY) return { price: p, key: k };
  }
  if (unknownSeen.size < MAX_UNKNOWN_MODELS_TRACKED) unknownSeen.add(model.slice(0, 200));
  return { price: prices[UNKNOWN_MODEL_KEY] ?? DEFAULT_UNKNOWN_MODEL_PRICE, key: null };
}

export function costOf(
  model: string,
  usage: { promptTokens: number; completionTokens: number },
  prices: PriceTable = DEFAULT_PRICES,
): number {
  const { price } = priceOf(model, prices);
  return (usage.promptTokens * price.inputPerMTok + usage.completionTokens * price.outputPerMTok) / 1_000_000;
}

/** Rough prompt token count for a reservation: ~4 characters a token, rounded up, never below 1. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The most a call can cost: its prompt estimate plus every completion token it may produce. */
export function reserveCostOf(
  model: string,
  promptText: string,
  maxCompletionTokens: number,
  prices: PriceTable = DEFAULT_PRICES,
): number {
  return costOf(
    model,
    { promptTokens: estimateTokens(promptText), completionTokens: maxCompletionTokens },
    prices,
  );
}
