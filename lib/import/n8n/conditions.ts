import { isRec, type Rec } from '@/lib/workflow/record';
import { toJsExpression, type ExpressionContext } from './expressions';

// n8n's IF, Filter and Switch describe tests as data (left value, operator, right value); a
// Trellis `condition` or `switch` case is one JavaScript expression. Each operator becomes the
// expression with the same meaning; an unknown operator is reported and tested as truthiness.

/** Operators of IF/Filter/Switch version 2+ (`{ type, operation }`). */
function v2Operator(op: Rec, l: string, r: string, issues: string[]): string {
  const type = String(op.type ?? 'string');
  const operation = String(op.operation ?? 'equals');
  const str = (x: string) => `String(${x} ?? '')`;
  switch (operation) {
    case 'equals':
      return type === 'dateTime' ? `new Date(${l}).getTime() === new Date(${r}).getTime()` : `${l} === ${r}`;
    case 'notEquals':
      return `${l} !== ${r}`;
    case 'contains':
      return type === 'array' ? `[].concat(${l}).includes(${r})` : `${str(l)}.includes(${r})`;
    case 'notContains':
      return type === 'array' ? `![].concat(${l}).includes(${r})` : `!${str(l)}.includes(${r})`;
    case 'startsWith':
      return `${str(l)}.startsWith(${r})`;
    case 'notStartsWith':
      return `!${str(l)}.startsWith(${r})`;
    case 'endsWith':
      return `${str(l)}.endsWith(${r})`;
    case 'notEndsWith':
      return `!${str(l)}.endsWith(${r})`;
    case 'regex':
      return `new RegExp(${r}).test(${str(l)})`;
    case 'notRegex':
      return `!new RegExp(${r}).test(${str(l)})`;
    case 'gt':
    case 'after':
      return `${l} > ${r}`;
    case 'gte':
    case 'afterOrEquals':
      return `${l} >= ${r}`;
    case 'lt':
    case 'before':
      return `${l} < ${r}`;
    case 'lte':
    case 'beforeOrEquals':
      return `${l} <= ${r}`;
    case 'true':
      return `${l} === true`;
    case 'false':
      return `${l} === false`;
    case 'exists':
      return `(${l} !== undefined && ${l} !== null)`;
    case 'notExists':
      return `(${l} === undefined || ${l} === null)`;
    case 'empty':
      return `(${l} == null || ${l} === '' || (typeof ${l} === 'object' && Object.keys(${l}).length === 0))`;
    case 'notEmpty':
      return `!(${l} == null || ${l} === '' || (typeof ${l} === 'object' && Object.keys(${l}).length === 0))`;
    case 'lengthEquals':
      return `[].concat(${l}).length === ${r}`;
    case 'lengthNotEquals':
      return `[].concat(${l}).length !== ${r}`;
    case 'lengthGt':
      return `[].concat(${l}).length > ${r}`;
    case 'lengthLt':
      return `[].concat(${l}).length < ${r}`;
    default:
      issues.push(`condition operator "${type}.${operation}" is not translated; tested as truthiness`);
      return `Boolean(${l})`;
  }
}

/** `conditions: { conditions: [...], combinator }` (IF 2+, Filter 2+, Switch 3 rules). */
export function v2Conditions(conditions: unknown, ctx: ExpressionContext, issues: string[]): string {
  if (!isRec(conditions) || !Array.isArray(conditions.conditions)) return 'false';
  const parts = conditions.conditions.filter(isRec).map((c) => {
    const l = toJsExpression(c.leftValue, ctx, issues);
    const r = toJsExpression(c.rightValue, ctx, issues);
    return `(${v2Operator(isRec(c.operator) ? c.operator : {}, l, r, issues)})`;
  });
  if (parts.length === 0) return 'true';
  return parts.join(conditions.combinator === 'or' ? ' || ' : ' && ');
}

/** IF version 1: `conditions: { boolean: [...], number: [...], string: [...] }`, `combineOperation`. */
export function v1Conditions(params: Rec, ctx: ExpressionContext, issues: string[]): string {
  const groups = isRec(params.conditions) ? params.conditions : {};
  const parts: string[] = [];
  for (const [type, list] of Object.entries(groups)) {
    if (!Array.isArray(list)) continue;
    for (const c of list.filter(isRec)) parts.push(`(${v1Test(type, c, ctx, issues)})`);
  }
  if (parts.length === 0) return 'true';
  return parts.join(params.combineOperation === 'any' ? ' || ' : ' && ');
}

export function v1Test(
  type: string,
  c: Rec,
  ctx: ExpressionContext,
  issues: string[],
  left?: string,
): string {
  const l = left ?? toJsExpression(c.value1, ctx, issues);
  const r = toJsExpression(c.value2, ctx, issues);
  const str = `String(${l} ?? '')`;
  switch (String(c.operation ?? (type === 'boolean' ? 'equal' : 'equal'))) {
    case 'equal':
    case 'equals':
      return `${l} === ${r}`;
    case 'notEqual':
    case 'notEquals':
      return `${l} !== ${r}`;
    case 'larger':
      return `${l} > ${r}`;
    case 'largerEqual':
      return `${l} >= ${r}`;
    case 'smaller':
      return `${l} < ${r}`;
    case 'smallerEqual':
      return `${l} <= ${r}`;
    case 'contains':
      return `${str}.includes(${r})`;
    case 'notContains':
      return `!${str}.includes(${r})`;
    case 'startsWith':
      return `${str}.startsWith(${r})`;
    case 'notStartsWith':
      return `!${str}.startsWith(${r})`;
    case 'endsWith':
      return `${str}.endsWith(${r})`;
    case 'notEndsWith':
      return `!${str}.endsWith(${r})`;
    case 'regex':
      return `new RegExp(${r}).test(${str})`;
    case 'notRegex':
      return `!new RegExp(${r}).test(${str})`;
    case 'isEmpty':
      return `(${l} == null || ${l} === '')`;
    case 'isNotEmpty':
      return `!(${l} == null || ${l} === '')`;
    default:
      issues.push(
        `condition operation "${type}.${String(c.operation)}" is not translated; tested as truthiness`,
      );
      return `Boolean(${l})`;
  }
}
