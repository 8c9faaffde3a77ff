import { analyzeFunctionBody } from '@/lib/workflow/expressions';
import type { ScorerSpec } from '@/lib/promotion/spec';

// The backtest launcher's scorer as the form holds it (strings while typed) and the request body
// it becomes, checked the way the API checks it, so most mistakes are named before anything runs:
// every error names its JSON pointer in the request, like the API's 400s do.

export type ScorerKind = ScorerSpec['kind'];

export interface ScorerDraft {
  kind: ScorerKind;
  /** fields: comma-separated paths, with or without the leading slash. */
  fields: string;
  tolerance: string;
  relative: boolean;
  code: string;
  criteria: string;
  judgeModel: string;
  /** A case agrees at this score or above (fields, code, llm_judge score between 0 and 1). */
  passScore: string;
}

export const SCORER_LABEL: Record<ScorerKind, string> = {
  exact: 'Exact JSON equality',
  fields: 'Per field',
  numeric: 'Numbers within a tolerance',
  code: 'Code (function body)',
  llm_judge: 'LLM judge (model calls)',
};

/** Kinds whose score lies between 0 and 1, so a pass score other than 1 means something. */
export const GRADED: readonly ScorerKind[] = ['fields', 'code', 'llm_judge'];

export const DEFAULT_SCORER_CODE =
  '// expected, actual, input → a number from 0 to 1\nreturn JSON.stringify(expected) === JSON.stringify(actual) ? 1 : 0;';

export const DEFAULT_SCORER_DRAFT: ScorerDraft = {
  kind: 'exact',
  fields: '',
  tolerance: '0.01',
  relative: false,
  code: DEFAULT_SCORER_CODE,
  criteria: '',
  judgeModel: '',
  passScore: '1',
};

export type ScorerRequest =
  { ok: true; body: { scorer: ScorerSpec; passScore?: number } } | { ok: false; error: string };

const fail = (pointer: string, message: string): ScorerRequest => ({
  ok: false,
  error: `${pointer}: ${message}`,
});

export function scorerRequest(d: ScorerDraft): ScorerRequest {
  let scorer: ScorerSpec;
  switch (d.kind) {
    case 'exact':
      scorer = { kind: 'exact' };
      break;
    case 'fields': {
      const fields = d.fields
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
        .map((f) => (f.startsWith('/') ? f : `/${f}`));
      if (!fields.length) return fail('/scorer/fields', 'name at least one field, e.g. label');
      scorer = { kind: 'fields', fields };
      break;
    }
    case 'numeric': {
      const tolerance = Number(d.tolerance);
      if (d.tolerance.trim() === '' || !Number.isFinite(tolerance) || tolerance < 0)
        return fail('/scorer/tolerance', 'a number ≥ 0');
      scorer = { kind: 'numeric', tolerance, relative: d.relative };
      break;
    }
    case 'code': {
      if (!d.code.trim()) return fail('/scorer/code', 'write a function body that returns a number');
      const issue = analyzeFunctionBody(d.code).issues[0];
      if (issue) return fail('/scorer/code', `syntax error at character ${issue.offset}: ${issue.message}`);
      scorer = { kind: 'code', code: d.code };
      break;
    }
    case 'llm_judge':
      scorer = {
        kind: 'llm_judge',
        ...(d.criteria.trim() ? { criteria: d.criteria.trim() } : {}),
        ...(d.judgeModel.trim() ? { model: d.judgeModel.trim() } : {}),
      };
      break;
  }
  if (!GRADED.includes(d.kind)) return { ok: true, body: { scorer } };
  const passScore = Number(d.passScore);
  if (d.passScore.trim() === '' || !(passScore >= 0 && passScore <= 1))
    return fail('/passScore', 'a number from 0 to 1');
  return { ok: true, body: { scorer, passScore } };
}
