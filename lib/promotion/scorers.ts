import { TrellisError } from '@/lib/workflow/errors';
import type { ExpressionServices } from '@/lib/workflow/expression-scope';
import { parseModelJson } from '@/lib/workflow/json-schema-check';
import { sameValue } from '@/lib/workflow/same-value';
import { valueAt } from './diff';
import type { ScorerSpec } from './spec';

// Scoring one case: the agent's answer against the deterministic output recorded in the same run
// (the free label). Every scorer returns a number 0..1; the backtest's passScore decides agreement.

/** What scorers may call: the sandbox (code) and a model (llm_judge), both injected by the host. */
export interface ScorerDeps {
  runCode?: ExpressionServices['runCode'];
  /** One model call for the judge; its spend is added to the case. */
  judge?: (args: {
    system: string;
    prompt: string;
    model?: string;
    signal: AbortSignal;
  }) => Promise<{ text: string; tokens?: number; cost?: number }>;
}

export interface Score {
  score: number;
  tokens?: number;
  cost?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** Equal, with numbers within tolerance (absolute, or relative to the expected value). */
export function numericEqual(
  expected: unknown,
  actual: unknown,
  tolerance: number,
  relative: boolean,
): boolean {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const bound = relative ? tolerance * Math.abs(expected) : tolerance;
    return Math.abs(expected - actual) <= bound;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return (
      expected.length === actual.length &&
      expected.every((e, i) => numericEqual(e, actual[i], tolerance, relative))
    );
  }
  if (isObject(expected) && isObject(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const k of keys) if (!numericEqual(expected[k], actual[k], tolerance, relative)) return false;
    return true;
  }
  return sameValue(expected, actual);
}

/** A score from a code scorer or judge: a finite number in 0..1, else the scorer is broken. */
function checkScore(v: unknown, who: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1)
    throw new TrellisError(
      'unprocessable',
      `${who} must return a number from 0 to 1, got ${JSON.stringify(v)}`,
    );
  return v;
}

export async function score(
  spec: ScorerSpec,
  expected: unknown,
  actual: unknown,
  input: unknown,
  deps: ScorerDeps,
  signal: AbortSignal,
): Promise<Score> {
  switch (spec.kind) {
    case 'exact':
      return { score: sameValue(expected, actual) ? 1 : 0 };
    case 'fields': {
      const hits = spec.fields.filter((f) => sameValue(valueAt(expected, f), valueAt(actual, f))).length;
      return { score: hits / spec.fields.length };
    }
    case 'numeric':
      return { score: numericEqual(expected, actual, spec.tolerance, spec.relative) ? 1 : 0 };
    case 'code': {
      if (!deps.runCode) throw new TrellisError('unprocessable', 'The code scorer needs the sandbox');
      // The body sees its three arguments by name; the sandbox scope carries them as `input`.
      const body = `return await (async function (expected, actual, input) {\n${spec.code}\n})(input.expected, input.actual, input.input);`;
      const v = await deps.runCode(
        body,
        { input: { expected, actual, input }, steps: {}, env: {}, secrets: {} },
        signal,
      );
      return { score: checkScore(v, 'The code scorer') };
    }
    case 'llm_judge': {
      if (!deps.judge) throw new TrellisError('no_model_configured', 'The llm_judge scorer needs a model');
      const res = await deps.judge({
        system:
          'You compare an answer with the expected answer of a workflow step. Reply with JSON only: {"score": <number from 0 to 1>, "reason": "<short>"}.' +
          (spec.criteria ? `\n\nCriteria: ${spec.criteria}` : ''),
        prompt: `Step input:\n${JSON.stringify(input ?? null)}\n\nExpected:\n${JSON.stringify(expected ?? null)}\n\nAnswer:\n${JSON.stringify(actual ?? null)}`,
        ...(spec.model ? { model: spec.model } : {}),
        signal,
      });
      const parsed = parseModelJson(res.text);
      const v = parsed.ok && isObject(parsed.value) ? parsed.value.score : undefined;
      return { score: checkScore(v, 'The judge'), tokens: res.tokens, cost: res.cost };
    }
  }
}
