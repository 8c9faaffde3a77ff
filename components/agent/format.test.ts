import { describe, expect, it } from 'vitest';
import { agentSummaryOf, currentModeLabel, ms, percent, signedMs, usd } from './format';

describe('promotion panel formatting', () => {
  it('rates, deltas and money', () => {
    expect(percent(0.9234)).toBe('92.3%');
    expect(percent(null)).toBe('—');
    expect(signedMs(1234)).toBe('+1.23 s');
    expect(signedMs(-40)).toBe('−40 ms');
    expect(ms(12.4)).toBe('12 ms');
    expect(usd(0.00041)).toBe('$0.00041');
    expect(usd(0.5, true)).toBe('+$0.5000');
    expect(usd(0, true)).toBe('±$0');
  });
  it('mode labels and the summary note', () => {
    expect(currentModeLabel({ mode: 'agent', shadow: true })).toMatch(/^Shadow/);
    expect(currentModeLabel({ mode: 'workflow', shadow: false })).toMatch(/^Workflow/);
    const summary = { mode: 'agent', outcome: 'ok', agentMs: 5, agentTokens: 1, agentCost: 0, modelCalls: 1 };
    expect(
      agentSummaryOf([
        { kind: 'request', payload: {} },
        { kind: 'note', payload: { summary } },
      ]),
    ).toEqual(summary);
    expect(agentSummaryOf([{ kind: 'note', payload: { fallback: 'timeout' } }])).toBeNull();
    expect(agentSummaryOf([])).toBeNull();
  });
});
