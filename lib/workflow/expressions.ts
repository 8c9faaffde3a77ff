import { parse, type Node as AcornNode } from 'acorn';
import { MAX_EXPRESSION_LENGTH } from './limits';

// Static view of expressions (DESIGN.md §2): where `{{ }}` segments sit inside strings, whether
// each body parses as one JavaScript expression, and which `steps.<id>` it reads. Evaluation is
// lib/sandbox's job; this module only parses, so validation and the editor can point at the
// exact character that is wrong without running anything.

export interface TemplateSegment {
  /** Offset of `{{` in the string. */
  start: number;
  /** Offset just past `}}`. */
  end: number;
  /** Offset of the first character of the body (just past `{{`). */
  bodyStart: number;
  body: string;
}

export interface ExpressionIssue {
  /** Character offset inside the analysed string. */
  offset: number;
  message: string;
}

export interface StepRef {
  id: string;
  /** Character offset of `steps` inside the analysed string. */
  offset: number;
}

export interface Analysis {
  issues: ExpressionIssue[];
  refs: StepRef[];
}

const ACORN_OPTIONS = { ecmaVersion: 'latest', sourceType: 'script' } as const;

export function hasTemplate(s: string): boolean {
  return s.includes('{{');
}

/**
 * Find `{{ … }}` segments. The scan is brace- and quote-aware so `{{ {a: {b: 1}} }}` and
 * `{{ '}}' }}` end at the right `}}`; an unterminated `{{` is reported, not guessed at.
 */
export function findTemplateSegments(s: string): { segments: TemplateSegment[]; issue?: ExpressionIssue } {
  const segments: TemplateSegment[] = [];
  let from = 0;
  for (;;) {
    const start = s.indexOf('{{', from);
    if (start < 0) return { segments };
    let j = start + 2;
    let depth = 0;
    let quote = '';
    let close = -1;
    while (j < s.length) {
      const c = s[j];
      if (quote) {
        if (c === '\\') j++;
        else if (c === quote) quote = '';
      } else if (c === "'" || c === '"' || c === '`') quote = c;
      else if (c === '{') depth++;
      else if (c === '}') {
        if (depth === 0 && s[j + 1] === '}') {
          close = j;
          break;
        }
        if (depth > 0) depth--;
      }
      j++;
    }
    if (close < 0) return { segments, issue: { offset: start, message: 'unterminated {{ (missing }})' } };
    segments.push({ start, end: close + 2, bodyStart: start + 2, body: s.slice(start + 2, close) });
    from = close + 2;
  }
}

function syntaxIssue(err: unknown, base: number, fallbackOffset: number): ExpressionIssue {
  const e = err as { pos?: number; message?: string };
  const message = String(e?.message ?? err).replace(/\s*\(\d+:\d+\)$/, '');
  return { offset: base + (typeof e?.pos === 'number' ? e.pos : fallbackOffset), message };
}

/** Parse one whole-value expression. Offsets in the result are shifted by `base`. */
export function analyzeExpression(src: string, base = 0): Analysis {
  if (src.length > MAX_EXPRESSION_LENGTH) {
    return {
      issues: [{ offset: base, message: `expression longer than ${MAX_EXPRESSION_LENGTH} characters` }],
      refs: [],
    };
  }
  if (src.trim() === '') return { issues: [{ offset: base, message: 'empty expression' }], refs: [] };
  // Parsed the way lib/sandbox wraps it, `(expr\n)`, so a trailing `// comment` is fine and
  // `a), (b` is not mistaken for one expression.
  const wrapped = `(${src}\n)`;
  let program: AcornNode;
  try {
    program = parse(wrapped, { ...ACORN_OPTIONS, preserveParens: true });
  } catch (err) {
    const issue = syntaxIssue(err, 0, 1);
    return {
      issues: [
        { offset: base + Math.min(Math.max(issue.offset - 1, 0), src.length), message: issue.message },
      ],
      refs: [],
    };
  }
  const body = (program as unknown as { body: { type: string; expression?: AcornNode }[] }).body;
  const only = body.length === 1 && body[0].type === 'ExpressionStatement' ? body[0].expression : undefined;
  if (!only || only.type !== 'ParenthesizedExpression' || only.start !== 0 || only.end !== wrapped.length) {
    return { issues: [{ offset: base, message: 'expected a single expression' }], refs: [] };
  }
  return { issues: [], refs: stepRefs(program, base - 1) };
}

/** Parse a `code` node body: statements, `return` and `await` allowed at top level. */
export function analyzeFunctionBody(src: string, base = 0): Analysis {
  if (src.length > MAX_EXPRESSION_LENGTH) {
    return {
      issues: [{ offset: base, message: `code longer than ${MAX_EXPRESSION_LENGTH} characters` }],
      refs: [],
    };
  }
  try {
    const ast = parse(src, {
      ...ACORN_OPTIONS,
      allowReturnOutsideFunction: true,
      allowAwaitOutsideFunction: true,
    });
    return { issues: [], refs: stepRefs(ast, base) };
  } catch (err) {
    return { issues: [syntaxIssue(err, base, 0)], refs: [] };
  }
}

/** Check every `{{ }}` body of a template string. */
export function analyzeTemplate(s: string): Analysis {
  const { segments, issue } = findTemplateSegments(s);
  const issues: ExpressionIssue[] = [];
  const refs: StepRef[] = [];
  for (const seg of segments) {
    const a = analyzeExpression(seg.body, seg.bodyStart);
    issues.push(...a.issues);
    refs.push(...a.refs);
  }
  if (issue) issues.push(issue);
  return { issues, refs };
}

/**
 * `steps.<id>` and `steps['<id>']` member reads, found by walking the AST. Dynamic keys
 * (`steps[name]`) cannot be checked statically and are skipped.
 */
export function stepRefs(ast: AcornNode, base = 0): StepRef[] {
  const refs: StepRef[] = [];
  const stack: unknown[] = [ast];
  while (stack.length) {
    const n = stack.pop() as Record<string, unknown> | null;
    if (!n || typeof n !== 'object') continue;
    if (Array.isArray(n)) {
      for (const c of n) stack.push(c);
      continue;
    }
    if (n.type === 'MemberExpression') {
      const obj = n.object as { type: string; name?: string; start: number };
      const prop = n.property as { type: string; name?: string; value?: unknown };
      if (obj.type === 'Identifier' && obj.name === 'steps') {
        if (!n.computed && prop.type === 'Identifier')
          refs.push({ id: prop.name!, offset: base + obj.start });
        else if (n.computed && prop.type === 'Literal' && typeof prop.value === 'string') {
          refs.push({ id: prop.value, offset: base + obj.start });
        }
      }
    }
    for (const key in n) {
      if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
      const v = n[key];
      if (v && typeof v === 'object') stack.push(v);
    }
  }
  return refs.sort((a, b) => a.offset - b.offset);
}
