import { describe, expect, it } from 'vitest';
import {
  analyzeExpression,
  analyzeFunctionBody,
  analyzeTemplate,
  findTemplateSegments,
  stepRefs,
} from './expressions';
import { MAX_EXPRESSION_LENGTH } from './limits';
import { parseExpressionAt } from 'acorn';

describe('findTemplateSegments', () => {
  it('finds segments with offsets', () => {
    const s = 'Hi {{ input.name }}, you owe {{ steps.a.output.total }}';
    const { segments, issue } = findTemplateSegments(s);
    expect(issue).toBeUndefined();
    expect(segments.map((x) => x.body.trim())).toEqual(['input.name', 'steps.a.output.total']);
    expect(s.slice(segments[0].start, segments[0].end)).toBe('{{ input.name }}');
    expect(s.slice(segments[1].bodyStart, segments[1].bodyStart + 6)).toBe(' steps');
  });

  it('is not fooled by braces and quotes inside the expression', () => {
    const { segments } = findTemplateSegments("{{ {a: {b: 1}} }} and {{ '}}' + x }}");
    expect(segments.map((x) => x.body.trim())).toEqual(['{a: {b: 1}}', "'}}' + x"]);
  });

  it('reports an unterminated segment at its start', () => {
    const { issue } = findTemplateSegments('ok {{ input.x ');
    expect(issue).toEqual({ offset: 3, message: expect.stringContaining('unterminated') });
  });
});

describe('analyzeExpression', () => {
  it('accepts valid JavaScript expressions and returns step references', () => {
    const src = "steps.fetch.output.status === 200 && steps['other'].output?.ok";
    const a = analyzeExpression(src);
    expect(a.issues).toEqual([]);
    expect(a.refs).toEqual([
      { id: 'fetch', offset: 0 },
      { id: 'other', offset: src.lastIndexOf('steps') },
    ]);
  });

  it('locates syntax errors by character offset', () => {
    const a = analyzeExpression('input.a +', 10);
    expect(a.issues).toHaveLength(1);
    expect(a.issues[0].offset).toBe(19);
  });

  it('rejects statements and trailing text, allows a trailing comment', () => {
    expect(analyzeExpression('a; b').issues[0]).toMatchObject({ offset: 1 });
    expect(analyzeExpression('a), (b').issues[0].message).toMatch(/single expression/);
    expect(analyzeExpression('a + 1 // why').issues).toEqual([]);
    expect(analyzeExpression('   ').issues[0].message).toMatch(/empty/);
  });

  it('skips dynamic step keys that cannot be checked statically', () => {
    expect(analyzeExpression('steps[name].output').refs).toEqual([]);
  });

  it(`refuses expressions longer than MAX_EXPRESSION_LENGTH (${MAX_EXPRESSION_LENGTH})`, () => {
    expect(analyzeExpression('1+'.repeat(MAX_EXPRESSION_LENGTH) + '1').issues[0].message).toMatch(
      /longer than/,
    );
    expect(analyzeExpression('1'.repeat(MAX_EXPRESSION_LENGTH)).issues).toEqual([]);
  });
});

describe('analyzeTemplate', () => {
  it('offsets errors inside the whole string', () => {
    const s = 'Hello {{ input.name + }}!';
    const a = analyzeTemplate(s);
    expect(a.issues).toHaveLength(1);
    expect(s.slice(a.issues[0].offset, a.issues[0].offset + 2)).toBe('}}');
  });

  it('collects references from every segment', () => {
    expect(analyzeTemplate('{{ steps.a.output }}-{{ steps.b.output }}').refs.map((r) => r.id)).toEqual([
      'a',
      'b',
    ]);
  });
});

describe('analyzeFunctionBody', () => {
  it('allows return and await at the top level', () => {
    expect(analyzeFunctionBody('const x = await Promise.resolve(steps.a.output);\nreturn x;')).toMatchObject({
      issues: [],
      refs: [{ id: 'a' }],
    });
  });

  it('reports the offset of a syntax error', () => {
    expect(analyzeFunctionBody('return item +;').issues[0].offset).toBe(13);
  });
});

describe('stepRefs', () => {
  it('finds references nested in calls, arrows and template literals', () => {
    const src = '[1].map((x) => `${steps.a.output}` + f(steps.b.output))';
    expect(stepRefs(parseExpressionAt(src, 0, { ecmaVersion: 'latest' })).map((r) => r.id)).toEqual([
      'a',
      'b',
    ]);
  });
});
