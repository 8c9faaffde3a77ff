// Default USD prices per million tokens. Settings may pass an edited table; unknown models cost 0
// (self-hosted endpoints such as Ollama are free to call, and guessing would invent spend).
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}
export type PriceTable = Record<string, ModelPrice>;

export const DEFAULT_PRICES: PriceTable = {
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  'gpt-4.1-nano': { inputPerMTok: 0.1, outputPerMTok: 0.4 },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
};

export function costOf(
  model: string,
  usage: { promptTokens: number; completionTokens: number },
  prices: PriceTable = DEFAULT_PRICES,
): number {
  const p = prices[model];
  if (!p) return 0;
  return (usage.promptTokens * p.inputPerMTok + usage.completionTokens * p.outputPerMTok) / 1_000_000;
}
