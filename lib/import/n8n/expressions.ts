// n8n expressions → Trellis expressions. n8n evaluates `{{ }}` as JavaScript over its own
// globals ($json, $('Node'), $input, $node, $now…); Trellis evaluates the same JavaScript over
// `input`, `steps.<id>.output`, `item`, `index` and `env`. Where a global has the same meaning
// it is rewritten; what has no equivalent is left in place and reported, so the owner sees it
// instead of a run that silently computes something else.

/** How one node's `$json` and `$('Name')` resolve. */
export interface ExpressionContext {
  /** The expression that yields "the JSON of the item this node receives". */
  current: string;
  /** The expression for the JSON output of the n8n node with this name (undefined: unknown). */
  ref(name: string): string | undefined;
  /** Inside a map body: `$itemIndex` becomes `index`. */
  inMap: boolean;
}

export interface Translation {
  text: string;
  /** Things that could not be translated with the same meaning. */
  issues: string[];
}

const Q = `(['"\`])((?:\\\\.|(?!\\1).)*)\\1`; // a quoted node name

/** Wraps "the output of a node" as n8n's list of items, for `.all()` and `$items()`. */
const asItems = (expr: string) => `[].concat(${expr}).map((json) => ({ json }))`;

/** Translates one JavaScript expression written for n8n. */
export function translateExpression(src: string, ctx: ExpressionContext): Translation {
  const issues: string[] = [];
  const ref = (name: string) => {
    const r = ctx.ref(name);
    if (r === undefined) issues.push(`refers to node "${name}", which is not in the workflow`);
    return r ?? 'undefined';
  };
  let s = src;
  // $('Name').item.json / .first().json / .last().json / .itemMatching(i).json
  s = s.replace(
    new RegExp(
      `\\$\\(\\s*${Q}\\s*\\)\\s*\\.\\s*(?:item|first\\(\\s*\\)|last\\(\\s*\\)|itemMatching\\([^)]*\\))\\s*\\.\\s*json`,
      'g',
    ),
    (_m, _q, name: string) => ref(name),
  );
  s = s.replace(new RegExp(`\\$\\(\\s*${Q}\\s*\\)\\s*\\.\\s*all\\(\\s*\\)`, 'g'), (_m, _q, name: string) =>
    asItems(ref(name)),
  );
  s = s.replace(
    new RegExp(`\\$\\(\\s*${Q}\\s*\\)\\s*\\.\\s*isExecuted`, 'g'),
    (_m, _q, name: string) => `(${ref(name)} !== undefined)`,
  );
  // $node["Name"].json and $node.Name.json (the older form)
  s = s.replace(new RegExp(`\\$node\\s*\\[\\s*${Q}\\s*\\]\\s*\\.\\s*json`, 'g'), (_m, _q, name: string) =>
    ref(name),
  );
  s = s.replace(/\$node\.([A-Za-z_$][\w$]*)\.json/g, (_m, name: string) => ref(name));
  s = s.replace(new RegExp(`\\$items\\(\\s*${Q}\\s*\\)`, 'g'), (_m, _q, name: string) => asItems(ref(name)));
  // $input: the items this node receives
  s = s.replace(/\$input\s*\.\s*(?:first\(\s*\)|last\(\s*\)|item)\s*\.\s*json/g, () => ctx.current);
  s = s.replace(/\$input\s*\.\s*all\(\s*\)/g, () => asItems(ctx.current));
  s = s.replace(/\$json\b/g, () => ctx.current);
  s = s.replace(/\$env\s*\./g, 'env.');
  s = s.replace(/\$itemIndex\b/g, ctx.inMap ? 'index' : '0');
  s = s.replace(/\$runIndex\b/g, '0');
  // Luxon's DateTime is not in the sandbox: a bare $now/$today keeps its meaning as a Date;
  // a Luxon method call on it does not, and is reported below.
  if (/\$(?:now|today)\s*\.\s*(?!toISOString\b|getTime\b|valueOf\b)\w/.test(s))
    issues.push('uses Luxon date methods ($now/$today), which Trellis expressions do not have');
  s = s.replace(/\$now\b/g, '(new Date())');
  s = s.replace(/\$today\b/g, '(new Date(new Date().toISOString().slice(0, 10)))');
  // n8n's string/array extension methods (e.g. .toJsonString(), .isEmpty()) are not JavaScript.
  const ext = s.match(
    /\.(toJsonString|isEmpty|isNotEmpty|extractDomain|extractEmail|toSnakeCase|toTitleCase|removeDuplicates|pluck|sum|average|first|last|toDateTime|toBoolean)\(\s*\)/,
  );
  if (ext) issues.push(`uses the n8n extension method .${ext[1]}(), which plain JavaScript does not have`);
  const left = s.match(/\$[A-Za-z_][\w$]*/g);
  if (left) {
    for (const g of new Set(left)) issues.push(`uses ${g}, which has no Trellis equivalent`);
  }
  // `({ body: steps.x.output }).body` is how a webhook's item is read; say it directly.
  s = s.replace(/\(\{ body: (steps\.[\w-]+\.output|steps\[[^\]]+\]\.output) \}\)\.body\b/g, '$1');
  return { text: s, issues };
}

/** A parameter value: n8n marks expressions with a leading `=`. */
export function isExpression(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith('=');
}

/**
 * A parameter value as a Trellis template (what config fields like `url` or `value` take):
 * `={{ a }} and {{ b }}` becomes `{{ a' }} and {{ b' }}`; plain values stay as they are.
 */
export function toTemplate(v: unknown, ctx: ExpressionContext, issues: string[]): unknown {
  if (!isExpression(v)) {
    if (typeof v === 'string' && v.includes('{{'))
      issues.push('a plain text value contains "{{", which Trellis reads as an expression');
    return v;
  }
  return v.slice(1).replace(/\{\{([\s\S]*?)\}\}/g, (_m, inner: string) => {
    const t = translateExpression(inner.trim(), ctx);
    issues.push(...t.issues);
    return `{{ ${t.text} }}`;
  });
}

/**
 * A parameter value as one JavaScript expression (what `condition`, `switch` and `map.items`
 * take): a lone `{{ e }}` gives `e`, text with expressions a template literal, a plain value
 * its JSON.
 */
export function toJsExpression(v: unknown, ctx: ExpressionContext, issues: string[]): string {
  if (!isExpression(v)) return v === undefined ? 'undefined' : JSON.stringify(v);
  const body = v.slice(1);
  const lone = body.trim().match(/^\{\{([\s\S]*?)\}\}$/);
  if (lone && !lone[1].includes('}}')) {
    const t = translateExpression(lone[1].trim(), ctx);
    issues.push(...t.issues);
    return `(${t.text})`;
  }
  let out = '`';
  let last = 0;
  for (const m of body.matchAll(/\{\{([\s\S]*?)\}\}/g)) {
    out += escapeTemplateText(body.slice(last, m.index));
    const t = translateExpression(m[1].trim(), ctx);
    issues.push(...t.issues);
    out += '${' + t.text + '}';
    last = m.index! + m[0].length;
  }
  return out + escapeTemplateText(body.slice(last)) + '`';
}

const escapeTemplateText = (s: string) => s.replace(/[\\`$]/g, (c) => '\\' + c);
