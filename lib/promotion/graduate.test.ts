import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxServices } from '@/lib/sandbox';
import { startScriptedModel, type ScriptedModel } from '@/lib/agent/testing/scripted-model';
import type { WorkflowNode } from '@/lib/workflow/definition';
import {
  checkCandidate,
  GRADUATION_FAILURE_EXAMPLES,
  GRADUATION_MAX_TOKENS,
  GRADUATION_MIN_AGREEMENT,
  GRADUATION_MIN_CASES,
  GRADUATION_PROMPT_CASES,
  graduationPrompt,
  proposeGraduation,
} from './graduate';
import type { BacktestCase } from './runner';

// Graduation on the true path: the real openai SDK asks the scripted model (scenario `graduate`,
// which infers a keyword rule from the cases it is shown), the answer is checked with the code
// node's schema and backtested in the real sandbox over every case.

let sm: ScriptedModel;
beforeAll(async () => {
  sm = await startScriptedModel();
});
afterAll(async () => {
  await sm?.mock.close();
});

const node = { id: 'label', type: 'llm', position: { x: 0, y: 0 }, config: { prompt: 'x' } } as WorkflowNode;
const sandbox = createSandboxServices();
const signal = new AbortController().signal;

const mk = (rows: { text: string; label: string }[]): BacktestCase[] =>
  rows.map((r, seq) => ({
    seq,
    runId: `run-${seq}`,
    stepId: `step-${seq}`,
    runVersion: 1,
    input: { text: r.text },
    expected: { label: r.label },
    deterministicMs: 1,
    deterministicCost: 0,
    recorded: [],
  }));

/** What an llm classifier recorded: always the keyword rule billing / bug / other. */
function keywordHistory(n: number) {
  const rows: { text: string; label: string }[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) rows.push({ text: `question ${i} about my invoice`, label: 'billing' });
    else if (i % 3 === 1) rows.push({ text: `the app crashes on start (${i})`, label: 'bug' });
    else rows.push({ text: `hello ${i}, other things`, label: 'other' });
  }
  return mk(rows);
}

/** The step's one upstream step: a saved step reads its input as this step's output. */
const SOURCE = 'fetch';
const propose = (cases: BacktestCase[], model = 'scenario:graduate', source: string | null = SOURCE) =>
  proposeGraduation({ cases, chat: sm.chat, model, sandbox, node, signal, source });

describe('proposeGraduation', () => {
  it('an agent that always equals a keyword rule: a code step reproducing 100%, checked over every case', async () => {
    // More cases than the prompt shows: the backtest covers the unseen ones too.
    const cases = keywordHistory(GRADUATION_PROMPT_CASES + 20);
    const before = sm.mock.requests.length;
    const g = await propose(cases);
    expect(sm.mock.requests.length - before).toBe(1);
    expect(g).toMatchObject({
      proposed: true,
      reason: null,
      nodeType: 'code',
      agreement: 1,
      cases: cases.length,
      agreed: cases.length,
      failures: [],
    });
    expect(g.config?.code).toMatch(/\\bcrashes\\b/);
    // One request, its completion capped by the named limit.
    expect((sm.mock.requests.at(-1)!.body as { max_tokens?: number }).max_tokens).toBe(GRADUATION_MAX_TOKENS);
    expect(g.tokens).toBeGreaterThan(0);
  });

  it('the proposal reads the step input where a saved step finds it, not the run input', async () => {
    const cases = keywordHistory(12);
    const g = await propose(cases);
    expect(g.proposed).toBe(true);
    // As saved and run after `fetch`: `input` is the run's input, the step's input is fetch's output.
    for (const c of cases) {
      const scope = {
        input: { text: 'the run input, an invoice question' },
        steps: { [SOURCE]: { output: c.input } },
        env: {},
        secrets: {},
      };
      expect(await sandbox.runCode(String(g.config!.code), scope, signal)).toEqual(c.expected);
    }
    // Several upstream steps (or none): no one place to read the input from, so no model call.
    const before = sm.mock.requests.length;
    expect(await propose(cases, 'scenario:graduate', null)).toMatchObject({
      proposed: false,
      reason: 'not_single_input',
    });
    expect(sm.mock.requests.length).toBe(before);
  });

  it('a mapping no keyword rule fits: no proposal, the reason, the agreement and the failing class', async () => {
    // The label follows the parity of the number, which no word reveals.
    const cases = mk(
      Array.from({ length: 20 }, (_, i) => ({ text: `ticket ${i}`, label: i % 2 ? 'bug' : 'other' })),
    );
    const g = await propose(cases);
    expect(g.proposed).toBe(false);
    expect(g.reason).toBe('below_threshold');
    expect(g.agreement).toBe(0.5);
    expect(g.agreement).toBeLessThan(GRADUATION_MIN_AGREEMENT);
    expect(g.message).toMatch(/10 of 20 cases \(50%\), below 95%/);
    expect(g.failures).toEqual([expect.objectContaining({ type: 'diff:/label', count: 10 })]);
    expect(g.failures[0].examples).toHaveLength(GRADUATION_FAILURE_EXAMPLES);
    // The candidate is shown, so the owner can see what was tried.
    expect(g.nodeType).toBe('code');
  });

  it('one wrong case in twenty is below the threshold; the threshold is the named constant', async () => {
    const cases = keywordHistory(20);
    // A recorded output the rule cannot explain (the model once said "bug" for an invoice).
    cases[0] = { ...cases[0], expected: { label: 'bug' } };
    const g = await propose(cases);
    expect(g.agreement).toBe(19 / 20);
    expect(19 / 20 >= GRADUATION_MIN_AGREEMENT).toBe(g.proposed);
    expect(g.failures[0]).toMatchObject({ type: 'diff:/label', count: 1 });
  });

  it(`fewer than ${GRADUATION_MIN_CASES} cases: no proposal and no model call`, async () => {
    const before = sm.mock.requests.length;
    const g = await propose(keywordHistory(GRADUATION_MIN_CASES - 1));
    expect(g).toMatchObject({ proposed: false, reason: 'too_few_cases' });
    expect(sm.mock.requests.length).toBe(before);
  });

  it('an answer that is not { nodeType, config } is no proposal (invalid_answer), not a crash', async () => {
    const g = await propose(keywordHistory(10), 'scenario:always-invalid');
    expect(g).toMatchObject({ proposed: false, reason: 'invalid_answer', config: null });
  });

  it("a config its node's schema rejects is named by JSON pointer", () => {
    expect(checkCandidate('code', { code: 5 })).toEqual({
      ok: false,
      issues: [{ path: '/config/code', message: expect.any(String) }],
    });
    expect(checkCandidate('transform', { value: { a: 1 } })).toEqual({
      ok: true,
      config: { value: { a: 1 } },
    });
  });

  it(`the prompt shows at most ${GRADUATION_PROMPT_CASES} cases and leaves out oversized ones`, () => {
    const cases = keywordHistory(GRADUATION_PROMPT_CASES + 5);
    cases[0] = { ...cases[0], input: { text: 'x'.repeat(5_000) } };
    const shown = (JSON.parse(graduationPrompt(cases)) as { cases: unknown[] }).cases;
    expect(shown).toHaveLength(GRADUATION_PROMPT_CASES);
    expect(JSON.stringify(shown)).not.toContain('xxxxx');
  });
});
