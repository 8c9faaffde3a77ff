import { TrellisError } from '@/lib/workflow/errors';
import type { NodeServices } from '@/lib/nodes/define-node';
import type { CostLedger } from '@/lib/agent/ledger';
import { DEFAULT_MODEL, getModelConfig } from '@/lib/agent/model-client';
import { MAX_COMPLETION_TOKENS } from '@/lib/agent/limits';
import { costOf, DEFAULT_PRICES, reserveCostOf } from '@/lib/agent/pricing';
import type { AgentOptions } from './agent-step';

type Chat = NonNullable<NodeServices['chat']>;

/**
 * services.chat for one run: every call of an llm step (or an llm tool) reserves its worst case in
 * the root run's ledger first and settles to the real cost after, priced by the same table as
 * agent steps (Settings), so llm and agent steps share one cap.
 */
export function ledgerChat(chat: Chat, ledger: CostLedger, options: AgentOptions | undefined): Chat {
  return async (args) => {
    const prices = (await options?.prices?.()) ?? DEFAULT_PRICES;
    const configured = typeof options?.model === 'function' ? await options.model() : options?.model;
    const model =
      args.model || (configured ?? (options?.model === undefined ? getModelConfig() : null))?.defaultModel;
    const priced = model || DEFAULT_MODEL;
    const maxTokens = Math.min(args.maxTokens ?? MAX_COMPLETION_TOKENS, MAX_COMPLETION_TOKENS);
    const promptText = `${args.system ?? ''}${args.prompt}${args.jsonSchema ? JSON.stringify(args.jsonSchema) : ''}`;
    const reserveUsd = reserveCostOf(priced, promptText, maxTokens, prices);
    const reservation = ledger.reserve(reserveUsd);
    if (!reservation)
      throw new TrellisError('agent_budget_exceeded', ledger.refusal(reserveUsd), {
        details: { fallbackReason: 'budget' },
      });
    try {
      const res = await chat({ ...args, maxTokens });
      const cost = res.usage
        ? costOf(res.model || priced, res.usage, prices)
        : typeof res.cost === 'number'
          ? res.cost
          : 0;
      ledger.settle(reservation, cost);
      return { ...res, cost };
    } catch (err) {
      ledger.settle(reservation, 0);
      throw err;
    }
  };
}
