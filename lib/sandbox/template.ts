// Finding `{{ expr }}` in template strings. The end of an expression is the first `}}` outside
// string literals and braces, so `{{ {a: {b: 1}} }}` and `{{ '}}' }}` work.

export interface TemplatePart {
  /** Literal text, or an expression (trimmed source). */
  text?: string;
  expr?: string;
}

export function splitTemplate(s: string): TemplatePart[] | undefined {
  if (!s.includes('{{')) return undefined;
  const parts: TemplatePart[] = [];
  let i = 0;
  let literal = '';
  while (i < s.length) {
    const open = s.indexOf('{{', i);
    if (open < 0) break;
    const close = findClose(s, open + 2);
    if (close < 0) break;
    literal += s.slice(i, open);
    if (literal) parts.push({ text: literal });
    literal = '';
    parts.push({ expr: s.slice(open + 2, close).trim() });
    i = close + 2;
  }
  literal += s.slice(i);
  if (literal) parts.push({ text: literal });
  return parts.some((p) => p.expr !== undefined) ? parts : undefined;
}

function findClose(s: string, from: number): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0 && s[i + 1] === '}') return i;
      if (depth > 0) depth--;
    }
  }
  return -1;
}

/** How an interpolated value reads inside a longer string: objects as JSON, nothing for null/undefined. */
export function stringForm(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
