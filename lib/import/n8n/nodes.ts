import { isRec, type Rec } from '@/lib/workflow/record';
import { MAX_DELAY_MS } from '@/lib/workflow/limits';
import { v1Conditions, v1Test, v2Conditions } from './conditions';
import { isExpression, toJsExpression, toTemplate, type ExpressionContext } from './expressions';
import { mapAiNode } from './ai-nodes';
import { locatorValue, out, placeholder, type MapInput, type Mapped } from './mapped';

// One mapper per n8n node type that has a Trellis equivalent. The orchestrator (../n8n.ts) owns
// what changes the graph's shape (NoOp, loops, SplitOut, sticky notes).

function keyValues(list: unknown, ctx: ExpressionContext, issues: string[]): Rec | undefined {
  const params = isRec(list) ? (list.parameters ?? list.parameter) : undefined;
  if (!Array.isArray(params) || params.length === 0) return undefined;
  const o: Rec = {};
  for (const p of params.filter(isRec)) {
    if (typeof p.name !== 'string' || !p.name) continue;
    const v = toTemplate(p.value ?? '', ctx, issues);
    o[p.name] =
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
  }
  return Object.keys(o).length ? o : undefined;
}

function jsonParam(v: unknown, ctx: ExpressionContext, issues: string[]): unknown {
  if (isExpression(v)) return toTemplate(v, ctx, issues);
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    issues.push('a JSON parameter does not parse; kept as text');
    return v;
  }
}

function httpRequest({ node, expr }: MapInput): Mapped {
  const p = node.parameters;
  const issues: string[] = [];
  const v = node.typeVersion ?? 1;
  const method = String(v >= 3 ? (p.method ?? 'GET') : (p.requestMethod ?? 'GET')).toUpperCase();
  const config: Rec = { method, url: toTemplate(p.url ?? '', expr, issues) };
  if (v >= 3) {
    if (p.sendQuery) config.query = keyValues(p.queryParameters, expr, issues);
    if (p.sendHeaders) config.headers = keyValues(p.headerParameters, expr, issues);
    if (p.sendBody) {
      if (p.specifyBody === 'json') config.body = jsonParam(p.jsonBody, expr, issues);
      else if (p.contentType === 'raw') config.body = toTemplate(p.body ?? '', expr, issues);
      else {
        config.body = keyValues(p.bodyParameters, expr, issues) ?? {};
        if (p.contentType && p.contentType !== 'json')
          issues.push(`body content type "${String(p.contentType)}" is sent as JSON`);
      }
    }
  } else {
    config.query = keyValues(p.queryParametersUi, expr, issues);
    config.headers = keyValues(p.headerParametersUi, expr, issues);
    if (p.jsonParameters && p.bodyParametersJson !== undefined)
      config.body = jsonParam(p.bodyParametersJson, expr, issues);
    else if (method !== 'GET') config.body = keyValues(p.bodyParametersUi, expr, issues);
  }
  for (const k of ['query', 'headers', 'body']) if (config[k] === undefined) delete config[k];
  const options = isRec(p.options) ? p.options : {};
  const fmt = isRec(options.response) && isRec(options.response.response) ? options.response.response : {};
  if (fmt.responseFormat === 'text' || p.responseFormat === 'string') config.responseType = 'text';
  if (p.authentication && p.authentication !== 'none')
    issues.push(
      `credentials (${String(p.nodeCredentialType ?? p.genericAuthType ?? p.authentication)}) are not carried over: store the key as a secret and add a header such as {{ secrets.API_KEY }}`,
    );
  if (node.credentials && !p.authentication) issues.push('credentials are not carried over');
  return {
    type: 'http.request',
    config,
    status: issues.length ? 'approximated' : 'mapped',
    reasons: issues,
    handle: out,
  };
}

/** Set / Edit Fields: assignments become a `transform` template (or one object expression when other fields are kept). */
function setFields({ node, expr }: MapInput): Mapped {
  const p = node.parameters;
  const issues: string[] = [];
  const v = node.typeVersion ?? 1;
  if (p.mode === 'raw') {
    const value = jsonParam(p.jsonOutput ?? '{}', expr, issues);
    return {
      type: 'transform',
      config: { value },
      status: issues.length ? 'approximated' : 'mapped',
      reasons: issues,
      handle: out,
    };
  }
  const fields: { name: string; value: unknown; type?: string }[] = [];
  if (v >= 3 && isRec(p.assignments) && Array.isArray(p.assignments.assignments)) {
    for (const a of p.assignments.assignments.filter(isRec))
      fields.push({
        name: String(a.name ?? ''),
        value: a.value,
        type: typeof a.type === 'string' ? a.type : undefined,
      });
  } else if (v >= 3 && isRec(p.fields) && Array.isArray(p.fields.values)) {
    for (const a of p.fields.values.filter(isRec)) {
      const type = String(a.type ?? 'stringValue');
      fields.push({
        name: String(a.name ?? ''),
        value: a[type] ?? a.stringValue,
        type: type.replace(/Value$/, ''),
      });
    }
  } else if (isRec(p.values)) {
    for (const [type, list] of Object.entries(p.values))
      if (Array.isArray(list))
        for (const a of list.filter(isRec)) fields.push({ name: String(a.name ?? ''), value: a.value, type });
  }
  const keepOthers =
    v >= 3
      ? p.includeOtherFields === true ||
        (p.include !== undefined && p.include !== 'none' && p.includeOtherFields !== false)
      : p.keepOnlySet !== true;
  if (v >= 3 && p.includeOtherFields === true && p.include && p.include !== 'all')
    issues.push(`"include: ${String(p.include)}" keeps all other fields`);
  const dotted = !(isRec(p.options) && p.options.dotNotation === false);
  const typed = (f: { value: unknown; type?: string }) => {
    if (isExpression(f.value)) return f.value;
    if (
      (f.type === 'number' || f.type === 'numberValue') &&
      typeof f.value === 'string' &&
      f.value.trim() !== ''
    )
      return Number(f.value);
    if (f.type === 'boolean' && typeof f.value === 'string') return f.value === 'true';
    if ((f.type === 'object' || f.type === 'array') && typeof f.value === 'string') {
      try {
        return JSON.parse(f.value);
      } catch {
        return f.value;
      }
    }
    return f.value;
  };
  if (!keepOthers) {
    const value: Rec = {};
    for (const f of fields.filter((x) => x.name))
      setPath(value, dotted ? f.name.split('.') : [f.name], toTemplate(typed(f), expr, issues));
    return {
      type: 'transform',
      config: { value },
      status: issues.length ? 'approximated' : 'mapped',
      reasons: issues,
      handle: out,
    };
  }
  // Keeping the incoming fields needs a spread, so the whole value is one expression.
  const value: Rec = {};
  for (const f of fields.filter((x) => x.name)) {
    const t = typed(f);
    setPath(value, dotted ? f.name.split('.') : [f.name], {
      __js: isExpression(t) ? toJsExpression(t, expr, issues) : JSON.stringify(t),
    });
  }
  const obj = (o: Rec): string =>
    `{ ${Object.entries(o)
      .map(([k, x]) => `${JSON.stringify(k)}: ${isRec(x) && '__js' in x ? String(x.__js) : obj(x as Rec)}`)
      .join(', ')} }`;
  const body = obj(value);
  return {
    type: 'transform',
    config: { value: `{{ ({ ...${expr.current}, ${body.slice(2, -2)} }) }}` },
    status: issues.length ? 'approximated' : 'mapped',
    reasons: issues,
    handle: out,
  };
}

function setPath(target: Rec, path: string[], value: unknown) {
  let o = target;
  for (const k of path.slice(0, -1)) {
    if (!isRec(o[k])) o[k] = {};
    o = o[k] as Rec;
  }
  o[path[path.length - 1]] = value;
}

/**
 * Code / Function: the n8n script runs unchanged inside a shim that gives it n8n's globals
 * ($input, $json, items, $('Name')) over Trellis's scope and unwraps `[{ json }]` results.
 */
function codeNode({ node, expr }: MapInput, refs: Record<string, string>): Mapped {
  const p = node.parameters;
  const issues: string[] = [];
  if (p.language && p.language !== 'javaScript')
    return placeholder(node, [
      `${String(p.language)} code is not supported; only JavaScript runs in the sandbox`,
    ]);
  const perItem = p.mode === 'runOnceForEachItem' || node.type === 'n8n-nodes-base.functionItem';
  const src = String(p.jsCode ?? p.functionCode ?? p.functionItemCode ?? 'return items;');
  if (/\$(?:now|today)\s*\.\s*\w/.test(src))
    issues.push('uses Luxon date methods ($now/$today), which the sandbox does not have');
  if (/\bawait\b|\$http|this\.helpers|require\(/.test(src))
    issues.push('uses await, this.helpers or require(), which the sandbox does not offer');
  const names = JSON.stringify(refs);
  const shim = [
    `const __in = ${expr.current};`,
    `const items = (Array.isArray(__in) ? __in : [__in]).map((json) => ({ json }));`,
    `const $input = { all: () => items, first: () => items[0], last: () => items[items.length - 1], item: items[0] };`,
    `const __ids = ${names};`,
    `const $ = (name) => { const o = __ids[name] === undefined ? undefined : steps[__ids[name]]?.output; const its = [].concat(o).map((json) => ({ json })); return { item: its[0], first: () => its[0], last: () => its[its.length - 1], all: () => its, isExecuted: o !== undefined }; };`,
    perItem
      ? `const __out = items.map((item) => { const $json = item.json; return (() => {\n${src}\n})(); });`
      : `const $json = items[0]?.json;\nconst __out = (() => {\n${src}\n})();`,
    `const __list = (Array.isArray(__out) ? __out : [__out]).map((x) => (x && typeof x === 'object' && 'json' in x ? x.json : x));`,
    `return __list.length === 1 ? __list[0] : __list;`,
  ].join('\n');
  issues.push('n8n items are unwrapped: a single item becomes its JSON, several become a list');
  return { type: 'code', config: { code: shim }, status: 'approximated', reasons: issues, handle: out };
}

function ifNode({ node, expr }: MapInput): Mapped {
  const issues: string[] = [];
  const expression =
    (node.typeVersion ?? 1) >= 2
      ? v2Conditions(node.parameters.conditions, expr, issues)
      : v1Conditions(node.parameters, expr, issues);
  return {
    type: 'condition',
    config: { expression },
    status: issues.length ? 'approximated' : 'mapped',
    reasons: issues,
    handle: (i) => (i === 0 ? 'true' : i === 1 ? 'false' : null),
  };
}

function filterNode(input: MapInput): Mapped {
  const m = ifNode(input);
  return { ...m, handle: (i) => (i === 0 ? 'true' : i === 1 ? 'false' : null) };
}

function switchNode({ node, expr }: MapInput): Mapped {
  const p = node.parameters;
  const issues: string[] = [];
  const v = node.typeVersion ?? 1;
  const cases: { id: string; expression: string }[] = [];
  const handles = new Map<number, string>();
  let fallback: number | undefined;
  if (p.mode === 'expression') {
    const n = Number(p.numberOutputs ?? 4);
    const e = toJsExpression(p.output, expr, issues);
    for (let i = 0; i < n; i++) {
      cases.push({ id: `output_${i}`, expression: `${e} === ${i}` });
      handles.set(i, `output_${i}`);
    }
  } else if (v >= 3) {
    const rules = isRec(p.rules) && Array.isArray(p.rules.values) ? p.rules.values.filter(isRec) : [];
    rules.forEach((r, i) => {
      const id = caseId(r.outputKey ?? r.renameOutput ?? '', i, cases);
      cases.push({ id, expression: v2Conditions(r.conditions, expr, issues) });
      handles.set(i, id);
    });
    const fb = isRec(p.options) ? p.options.fallbackOutput : undefined;
    if (fb === 'extra') fallback = rules.length;
    else if (typeof fb === 'number') {
      fallback = fb;
      issues.push(`the fallback goes to output ${fb}; in Trellis it is the separate "default" handle`);
    }
  } else {
    const rules = isRec(p.rules) && Array.isArray(p.rules.rules) ? p.rules.rules.filter(isRec) : [];
    const type = String(p.dataType ?? 'number');
    const left = toJsExpression(p.value1, expr, issues);
    const byOutput = new Map<number, string[]>();
    for (const r of rules) {
      const o = Number(r.output ?? 0);
      byOutput.set(o, [
        ...(byOutput.get(o) ?? []),
        `(${v1Test(type, { ...r, value1: undefined }, expr, issues, left)})`,
      ]);
    }
    for (const [o, tests] of [...byOutput].sort((a, b) => a[0] - b[0])) {
      cases.push({ id: `output_${o}`, expression: tests.join(' || ') });
      handles.set(o, `output_${o}`);
    }
    if (typeof p.fallbackOutput === 'number' && p.fallbackOutput >= 0) fallback = p.fallbackOutput;
  }
  if (cases.length === 0) cases.push({ id: 'output_0', expression: 'true' });
  return {
    type: 'switch',
    config: { cases },
    status: issues.length ? 'approximated' : 'mapped',
    reasons: issues,
    // n8n sends an item down every matching rule only with "allMatchingOutputs"; the first match is its default too.
    handle: (i) =>
      i === fallback && !handles.has(i) ? 'default' : (handles.get(i) ?? (i === fallback ? 'default' : null)),
  };
}

function caseId(raw: unknown, i: number, taken: { id: string }[]): string {
  let id = String(raw)
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^[^A-Za-z_]+/, '');
  if (!id || id === 'default' || id === 'error') id = `output_${i}`;
  while (taken.some((c) => c.id === id)) id = `${id}_${i}`;
  return id.slice(0, 100);
}

function mergeNode({ node }: MapInput): Mapped {
  const mode = String(node.parameters.mode ?? 'append');
  const reasons =
    mode === 'chooseBranch'
      ? ['"choose branch" waits for both inputs and outputs one; here the output is keyed by source node']
      : [`n8n merge mode "${mode}" combines items; Trellis "all" outputs { <sourceNodeId>: output }`];
  return { type: 'merge', config: { mode: 'all' }, status: 'approximated', reasons, handle: out };
}

const UNIT_MS: Record<string, number> = {
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
};

function waitNode({ node, expr }: MapInput): Mapped {
  const p = node.parameters;
  const resume = String(p.resume ?? 'timeInterval');
  if (resume === 'webhook' || resume === 'form') {
    return {
      type: 'approval',
      config: { message: `Continue "${node.name}" (was an n8n Wait for a ${resume} call)` },
      status: 'approximated',
      reasons: [`waiting for a ${resume} call becomes an approval a person (or the API) decides`],
      handle: (i) => (i === 0 ? 'approved' : null),
    };
  }
  if (resume === 'timeInterval') {
    const amount = Number(p.amount ?? 1);
    const unit = String(p.unit ?? ((node.typeVersion ?? 1) >= 1.1 ? 'seconds' : 'hours'));
    if (!Number.isFinite(amount) || isExpression(p.amount))
      return {
        type: 'delay',
        config: { ms: 1000 },
        status: 'approximated',
        reasons: ['the wait amount is an expression; set to 1 s'],
        handle: out,
      };
    const ms = Math.min(MAX_DELAY_MS, Math.round(amount * (UNIT_MS[unit] ?? 1000)));
    return { type: 'delay', config: { ms }, status: 'mapped', reasons: [], handle: out };
  }
  const issues = [`"${resume}" waits until a date; the delay is set to 1 s — set the wait by hand`];
  void expr;
  return { type: 'delay', config: { ms: 1000 }, status: 'approximated', reasons: issues, handle: out };
}

function executeWorkflow({ node, expr }: MapInput): Mapped {
  const p = node.parameters;
  const issues: string[] = [];
  if (p.source && p.source !== 'database')
    return placeholder(node, [
      `a sub-workflow given by ${String(p.source)} cannot be imported; import it on its own first`,
    ]);
  const id = String(locatorValue(p.workflowId) ?? '').trim() || 'unknown';
  issues.push(`runs the n8n workflow "${id}": import that workflow too and set its Trellis id here`);
  const mapping =
    isRec(p.workflowInputs) && isRec(p.workflowInputs.value) ? p.workflowInputs.value : undefined;
  const input = mapping ? toTemplate(mapping, expr, issues) : `{{ ${expr.current} }}`;
  const template = mapping
    ? Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k, toTemplate(v, expr, issues)]))
    : input;
  return {
    type: 'subworkflow',
    config: { workflowId: id, input: template },
    status: 'approximated',
    reasons: issues,
    handle: out,
  };
}

function respondToWebhook({ node, expr }: MapInput): Mapped {
  const p = node.parameters;
  const issues: string[] = [];
  const mode = String(p.respondWith ?? 'firstIncomingItem');
  let value: unknown;
  if (mode === 'json') value = jsonParam(p.responseBody ?? '{}', expr, issues);
  else if (mode === 'text') value = toTemplate(p.responseBody ?? '', expr, issues);
  else if (mode === 'noData') value = null;
  else if (mode === 'allIncomingItems') value = `{{ [].concat(${expr.current}) }}`;
  else value = `{{ ${expr.current} }}`;
  if (isRec(p.options) && (p.options.responseCode || p.options.responseHeaders))
    issues.push('a custom response code or headers are not carried over');
  return {
    type: 'output',
    config: { value },
    status: issues.length ? 'approximated' : 'mapped',
    reasons: issues,
    handle: out,
  };
}

function scheduleTrigger({ node }: MapInput): Mapped {
  const p = node.parameters;
  const issues: string[] = [];
  let cron = '0 * * * *';
  const intervals = isRec(p.rule) && Array.isArray(p.rule.interval) ? p.rule.interval.filter(isRec) : [];
  const first = intervals[0] ?? { field: 'days' };
  if (intervals.length > 1) issues.push('only the first of several schedule rules is kept');
  const m = Number(first.triggerAtMinute ?? 0);
  const h = Number(first.triggerAtHour ?? 0);
  switch (first.field) {
    case 'cronExpression':
      cron = String(first.expression ?? cron);
      break;
    case 'seconds':
      cron = '* * * * *';
      issues.push('a seconds interval becomes every minute');
      break;
    case 'minutes':
      cron = `*/${Number(first.minutesInterval ?? 5)} * * * *`;
      break;
    case 'hours':
      cron = `${m} */${Number(first.hoursInterval ?? 1)} * * *`;
      break;
    case 'weeks': {
      const days =
        Array.isArray(first.triggerAtDay) && first.triggerAtDay.length ? first.triggerAtDay.join(',') : '0';
      cron = `${m} ${h} * * ${days}`;
      if (Number(first.weeksInterval ?? 1) !== 1) issues.push('"every N weeks" runs every week');
      break;
    }
    case 'months':
      cron = `${m} ${h} ${Number(first.triggerAtDayOfMonth ?? 1)} */${Number(first.monthsInterval ?? 1)} *`;
      break;
    default:
      cron = `${m} ${h} */${Number(first.daysInterval ?? 1)} * *`;
  }
  return {
    type: 'trigger.schedule',
    config: { cron },
    status: issues.length ? 'approximated' : 'mapped',
    reasons: issues,
    handle: out,
  };
}

function legacyCron({ node }: MapInput): Mapped {
  const items =
    isRec(node.parameters.triggerTimes) && Array.isArray(node.parameters.triggerTimes.item)
      ? node.parameters.triggerTimes.item.filter(isRec)
      : [];
  const t = items[0] ?? { mode: 'everyDay' };
  const h = Number(t.hour ?? 0);
  const m = Number(t.minute ?? 0);
  const cron =
    t.mode === 'custom'
      ? String(t.cronExpression ?? '0 * * * *')
      : t.mode === 'everyMinute'
        ? '* * * * *'
        : t.mode === 'everyHour'
          ? `${m} * * * *`
          : t.mode === 'everyWeek'
            ? `${m} ${h} * * ${Number(t.weekday ?? 1)}`
            : `${m} ${h} * * *`;
  return {
    type: 'trigger.schedule',
    config: { cron },
    status: items.length > 1 ? 'approximated' : 'mapped',
    reasons: items.length > 1 ? ['only the first trigger time is kept'] : [],
    handle: out,
  };
}

function webhookTrigger({ node }: MapInput): Mapped {
  const p = node.parameters;
  const reasons = [
    `Trellis webhooks are POST /api/hooks/<workflowId> with the workflow's secret; the n8n path "${String(p.path ?? '')}"${p.httpMethod ? ` and method ${String(p.httpMethod)}` : ''} are not kept`,
    'the trigger outputs the request body; n8n expressions reading $json.body were rewritten to it, headers and query are not available',
  ];
  return { type: 'trigger.webhook', config: {}, status: 'approximated', reasons, handle: out };
}

type Mapper = (input: MapInput, refs: Record<string, string>) => Mapped;

const MAPPERS: Record<string, Mapper> = {
  'n8n-nodes-base.manualTrigger': () => ({
    type: 'trigger.manual',
    config: {},
    status: 'mapped',
    reasons: [],
    handle: out,
  }),
  'n8n-nodes-base.executeWorkflowTrigger': () => ({
    type: 'trigger.manual',
    config: {},
    status: 'approximated',
    reasons: [
      '"When called by another workflow" becomes a manual trigger: the caller\'s input is the run input',
    ],
    handle: out,
  }),
  'n8n-nodes-base.webhook': webhookTrigger,
  'n8n-nodes-base.scheduleTrigger': scheduleTrigger,
  'n8n-nodes-base.cron': legacyCron,
  'n8n-nodes-base.httpRequest': httpRequest,
  'n8n-nodes-base.set': setFields,
  'n8n-nodes-base.code': codeNode,
  'n8n-nodes-base.function': codeNode,
  'n8n-nodes-base.functionItem': codeNode,
  'n8n-nodes-base.if': ifNode,
  'n8n-nodes-base.filter': filterNode,
  'n8n-nodes-base.switch': switchNode,
  'n8n-nodes-base.merge': mergeNode,
  'n8n-nodes-base.wait': waitNode,
  'n8n-nodes-base.executeWorkflow': executeWorkflow,
  'n8n-nodes-base.respondToWebhook': respondToWebhook,
  '@n8n/n8n-nodes-langchain.agent': (i) => mapAiNode(i, 'agent'),
  '@n8n/n8n-nodes-langchain.chainLlm': (i) => mapAiNode(i, 'chain'),
  '@n8n/n8n-nodes-langchain.openAi': (i) => mapAiNode(i, 'openai'),
};

export function mapNode(input: MapInput, refs: Record<string, string>): Mapped {
  const mapper = MAPPERS[input.node.type];
  if (!mapper) return placeholder(input.node, [`n8n node type ${input.node.type} has no Trellis equivalent`]);
  return mapper(input, refs);
}

export const MAPPED_TYPES = Object.keys(MAPPERS);
