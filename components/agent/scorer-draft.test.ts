import { describe, expect, it } from 'vitest';
import { backtestRequestSchema, scorerSchema } from '@/lib/promotion/spec';
import { DEFAULT_SCORER_DRAFT, scorerRequest, SCORER_LABEL, type ScorerDraft } from './scorer-draft';

// The launcher's scorer picker offers every kind the API accepts, and what it sends is what the
// API's own schema accepts; its mistakes name the request's JSON pointer, like the API's 400s.

const draft = (over: Partial<ScorerDraft>): ScorerDraft => ({ ...DEFAULT_SCORER_DRAFT, ...over });
const body = (d: ScorerDraft) => {
  const r = scorerRequest(d);
  if (!r.ok) throw new Error(r.error);
  return r.body;
};

describe('scorer picker requests', () => {
  it('offers every scorer kind of the API', () => {
    expect(Object.keys(SCORER_LABEL).sort()).toEqual(
      scorerSchema.options.map((o) => o.shape.kind.value).sort(),
    );
  });

  it('each kind becomes a request the API schema accepts', () => {
    const drafts: ScorerDraft[] = [
      draft({}),
      draft({ kind: 'fields', fields: 'label, address/city' }),
      draft({ kind: 'numeric', tolerance: '0.5', relative: true }),
      draft({ kind: 'code', passScore: '0.5' }),
      draft({ kind: 'llm_judge', criteria: 'Same meaning', judgeModel: 'gpt-x', passScore: '0.7' }),
    ];
    for (const d of drafts) {
      const b = body(d);
      const parsed = backtestRequestSchema.safeParse({ nodeId: 'n', ...b });
      expect(parsed.success, `${d.kind}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
    expect(body(drafts[1]).scorer).toEqual({ kind: 'fields', fields: ['/label', '/address/city'] });
    expect(body(drafts[2]).scorer).toEqual({ kind: 'numeric', tolerance: 0.5, relative: true });
    expect(body(drafts[4])).toEqual({
      scorer: { kind: 'llm_judge', criteria: 'Same meaning', model: 'gpt-x' },
      passScore: 0.7,
    });
    // Exact and numeric scores are 0 or 1: no pass score is sent.
    expect(body(drafts[0])).toEqual({ scorer: { kind: 'exact' } });
  });

  it('mistakes are named by JSON pointer before anything is sent', () => {
    const error = (d: ScorerDraft) => {
      const r = scorerRequest(d);
      return r.ok ? null : r.error;
    };
    expect(error(draft({ kind: 'fields', fields: ' , ' }))).toMatch(/^\/scorer\/fields: /);
    expect(error(draft({ kind: 'numeric', tolerance: '-1' }))).toMatch(/^\/scorer\/tolerance: /);
    expect(error(draft({ kind: 'numeric', tolerance: '' }))).toMatch(/^\/scorer\/tolerance: /);
    expect(error(draft({ kind: 'code', code: 'return (expected' }))).toMatch(
      /^\/scorer\/code: syntax error at character \d+/,
    );
    expect(error(draft({ kind: 'code', code: '  ' }))).toMatch(/^\/scorer\/code: /);
    expect(error(draft({ kind: 'llm_judge', passScore: '2' }))).toMatch(/^\/passScore: /);
  });
});
