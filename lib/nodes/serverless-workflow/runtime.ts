import { jqOne } from '@/lib/sandbox/jq';
import { TrellisError } from '@/lib/workflow/errors';
import { isRec, type Rec } from '@/lib/workflow/record';
import { endpointUri } from '@/lib/workflow/serverless-workflow';

// The Serverless Workflow DSL 1.0 task semantics the `sw.task` node runs: data flow (input.from,
// output.as, export.as into $context), `if`, flow directives, and the tasks do, set, switch, for,
// fork (compete), try/catch (retry), raise, call: http, wait and emit. Runtime expressions are jq
// (`${ … }`), evaluated in the jq sandbox (lib/sandbox/jq.ts). Errors are DSL error objects.

export type Json = unknown;

export const ERROR_TYPE_BASE = 'https://serverlessworkflow.io/spec/1.0.0/errors/';
export type StandardError =
  | 'configuration'
  | 'validation'
  | 'expression'
  | 'authentication'
  | 'authorization'
  | 'timeout'
  | 'communication'
  | 'runtime';

/** The DSL's error object (dsl-reference.md, Error). */
export interface DslError {
  type: string;
  status: number;
  title?: string;
  detail?: string;
  instance?: string;
}

/** A raised DSL error travelling through the interpreter (and out of the step as its details). */
export class WorkflowError extends TrellisError {
  readonly error: DslError;
  constructor(error: DslError) {
    super('node_error', error.title ?? error.detail ?? error.type, { details: { error } });
    this.error = error;
  }
}

export const dslError = (
  kind: StandardError,
  status: number,
  instance: string,
  detail: string,
  title?: string,
) => new WorkflowError({ type: ERROR_TYPE_BASE + kind, status, title: title ?? kind, detail, instance });

/** A flow directive: continue, exit (the enclosing do), end (the workflow), or a task name. */
export type Directive = 'continue' | 'exit' | 'end' | string;

/** What travels between top-level tasks (one Trellis step each). */
export interface Envelope {
  output: Json;
  context: Rec;
  workflow: { input: Json; startedAt: string; name?: string };
}

export interface RuntimeHost {
  fetch(url: string, init: RequestInit & { maxBytes?: number }): Promise<Response>;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  signal: AbortSignal;
  /** `use.errors` of the document, for `raise: { error: <name> }`. */
  errors: Rec;
  secrets: Record<string, string>;
  /** OpenAPI documents resolved at import, by their endpoint as written. */
  documents?: Rec;
  /** Emitted events, recorded on the step (there is no broker to publish to). */
  emitted: Json[];
}

interface Frame {
  context: Rec;
  workflow: Envelope['workflow'];
  vars: Rec;
}

export interface TaskResult {
  output: Json;
  /** Set when a flow directive other than continue applies after this task. */
  then: Directive;
}

const isExpr = (v: unknown): v is string => typeof v === 'string' && /^\s*\$\{[\s\S]*\}\s*$/.test(v);
const exprBody = (s: string) => s.trim().slice(2, -1).trim();

/** Evaluates one runtime expression (a `${ }` string) against `input` with the frame's arguments. */
async function evalExpr(
  expr: string,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
  extra: Rec = {},
) {
  try {
    return await jqOne(
      input,
      exprBody(expr),
      {
        context: frame.context,
        workflow: frame.workflow,
        runtime: { name: 'trellis', version: '1' },
        secrets: host.secrets,
        ...frame.vars,
        ...extra,
      },
      { signal: host.signal },
    );
  } catch (err) {
    if (err instanceof WorkflowError) throw err;
    if (err instanceof TrellisError && (err.code === 'run_cancelled' || err.code === 'node_timeout'))
      throw err;
    throw dslError('expression', 400, pointer, (err as Error).message, 'Expression failed');
  }
}

/** Evaluates every `${ }` inside a JSON value (objects and arrays deeply). */
export async function evalDeep(
  v: Json,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
  extra: Rec = {},
): Promise<Json> {
  if (isExpr(v)) return evalExpr(v, input, frame, host, pointer, extra);
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (let i = 0; i < v.length; i++)
      out.push(await evalDeep(v[i], input, frame, host, `${pointer}/${i}`, extra));
    return out;
  }
  if (isRec(v)) {
    const out: Rec = {};
    for (const [k, x] of Object.entries(v))
      out[k] = await evalDeep(x, input, frame, host, `${pointer}/${k}`, extra);
    return out;
  }
  return v;
}

/** A `do` list as entries: `[{ name: task }, …]`. */
export function entries(list: unknown): [string, Rec][] {
  if (!Array.isArray(list)) return [];
  return list.filter(isRec).map((e) => {
    const [name, task] = Object.entries(e)[0] ?? ['', {}];
    return [name, isRec(task) ? task : {}];
  });
}

/**
 * Runs one task with the DSL's data flow around it. `rawInput` is the previous task's
 * transformed output; the result carries this task's transformed output and its directive.
 */
export async function runTask(
  name: string,
  task: Rec,
  rawInput: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<TaskResult> {
  const input =
    isRec(task.input) && task.input.from !== undefined
      ? await evalDeep(task.input.from, rawInput, frame, host, `${pointer}/input/from`)
      : rawInput;
  if (task.if !== undefined) {
    const ok = await evalDeep(task.if, input, frame, host, `${pointer}/if`, { input });
    // A skipped task hands its input on unchanged.
    if (ok !== true) return { output: rawInput, then: 'continue' };
  }
  const taskFrame: Frame = { ...frame, vars: { ...frame.vars, input, task: { name, reference: pointer } } };
  const raw = await execute(name, task, input, taskFrame, host, pointer);
  frame.context = taskFrame.context;
  const extra = { input, output: raw.output };
  const output =
    isRec(task.output) && task.output.as !== undefined
      ? await evalDeep(task.output.as, raw.output, frame, host, `${pointer}/output/as`, extra)
      : raw.output;
  if (isRec(task.export) && task.export.as !== undefined) {
    const ctx = await evalDeep(task.export.as, output, frame, host, `${pointer}/export/as`, extra);
    if (!isRec(ctx))
      throw dslError('validation', 400, `${pointer}/export/as`, 'export.as must evaluate to an object');
    frame.context = ctx;
  }
  const then = raw.then !== 'continue' ? raw.then : typeof task.then === 'string' ? task.then : 'continue';
  return { output, then };
}

/** Runs a `do` list: tasks in order, honouring flow directives. */
export async function runDo(
  list: unknown,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<TaskResult> {
  const tasks = entries(list);
  let data = input;
  let i = 0;
  while (i < tasks.length) {
    if (host.signal.aborted) throw host.signal.reason;
    const [name, task] = tasks[i];
    const r = await runTask(name, task, data, frame, host, `${pointer}/${i}/${name}`);
    data = r.output;
    if (r.then === 'continue') i++;
    else if (r.then === 'exit') return { output: data, then: 'continue' };
    else if (r.then === 'end') return { output: data, then: 'end' };
    else {
      const j = tasks.findIndex(([n]) => n === r.then);
      if (j < 0)
        throw dslError(
          'configuration',
          400,
          `${pointer}/${i}/${name}/then`,
          `no task named "${r.then}" in this block`,
        );
      i = j;
    }
  }
  return { output: data, then: 'continue' };
}

const DURATION_MS: Record<string, number> = {
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1000,
  milliseconds: 1,
};

/** A DSL duration: `{ seconds: 2 }` or ISO 8601 (`PT2S`). */
export function durationMs(d: unknown): number | null {
  if (isRec(d))
    return Object.entries(DURATION_MS).reduce((s, [k, ms]) => s + (Number(d[k] ?? 0) || 0) * ms, 0);
  if (typeof d !== 'string') return null;
  const m = d.match(
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/,
  );
  if (!m || d === 'P' || d.endsWith('T')) return null;
  const [, days, h, min, s] = m.map((x) => Number(x ?? 0));
  return Math.round(days * 86_400_000 + h * 3_600_000 + min * 60_000 + s * 1000);
}

async function execute(
  name: string,
  task: Rec,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<TaskResult> {
  const same = (output: Json): TaskResult => ({ output, then: 'continue' });
  if ('do' in task && !('for' in task)) return runDo(task.do, input, frame, host, `${pointer}/do`);
  if ('set' in task) return same(await evalDeep(task.set, input, frame, host, `${pointer}/set`));
  if ('switch' in task) {
    const cases = entries(task.switch);
    for (let i = 0; i < cases.length; i++) {
      const [, c] = cases[i];
      const hit =
        c.when === undefined ||
        (await evalDeep(c.when, input, frame, host, `${pointer}/switch/${i}/when`)) === true;
      if (hit) return { output: input, then: typeof c.then === 'string' ? c.then : 'continue' };
    }
    return same(input);
  }
  if ('for' in task) return runFor(task, input, frame, host, pointer);
  if ('fork' in task) return runFork(task, input, frame, host, pointer);
  if ('try' in task) return runTry(task, input, frame, host, pointer);
  if ('raise' in task) throw await raised(task.raise, input, frame, host, pointer);
  if ('wait' in task) {
    const ms = durationMs(await evalDeep(task.wait, input, frame, host, `${pointer}/wait`));
    if (ms === null)
      throw dslError(
        'configuration',
        400,
        `${pointer}/wait`,
        'wait needs a duration such as { seconds: 1 } or PT1S',
      );
    await host.sleep(ms, host.signal);
    return same(input);
  }
  if ('emit' in task) {
    const e = isRec(task.emit) && isRec(task.emit.event) ? task.emit.event.with : undefined;
    host.emitted.push(await evalDeep(e ?? {}, input, frame, host, `${pointer}/emit/event/with`));
    return same(input);
  }
  if (task.call === 'http') return same(await callHttp(task, input, frame, host, pointer));
  if (task.call === 'openapi') return same(await callOpenApi(task, input, frame, host, pointer));
  throw dslError(
    'configuration',
    400,
    pointer,
    `task "${name}" is not supported here (call: ${String(task.call ?? '-')}, listen and run need services Trellis does not have)`,
  );
}

async function runFor(
  task: Rec,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<TaskResult> {
  const spec = isRec(task.for) ? task.for : {};
  const each = String(spec.each ?? 'item');
  const at = String(spec.at ?? 'index');
  const list = await evalDeep(spec.in, input, frame, host, `${pointer}/for/in`);
  if (!Array.isArray(list))
    throw dslError('validation', 400, `${pointer}/for/in`, 'for.in must evaluate to an array');
  let data = input;
  for (let i = 0; i < list.length; i++) {
    const iter: Frame = { ...frame, vars: { ...frame.vars, [each]: list[i], [at]: i } };
    if (
      task.while !== undefined &&
      (await evalDeep(task.while, data, iter, host, `${pointer}/while`)) !== true
    )
      break;
    const r = await runDo(task.do, data, iter, host, `${pointer}/do`);
    frame.context = iter.context;
    data = r.output;
    if (r.then === 'end') return { output: data, then: 'end' };
  }
  return { output: data, then: 'continue' };
}

async function runFork(
  task: Rec,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<TaskResult> {
  const spec = isRec(task.fork) ? task.fork : {};
  const branches = entries(spec.branches);
  // Branches share the step's signal through one of their own, so the fork can stop the losers
  // of a competition (and every branch once one fails) before their next effect.
  const stop = new AbortController();
  const onAbort = () => stop.abort(host.signal.reason);
  if (host.signal.aborted) onAbort();
  else host.signal.addEventListener('abort', onAbort, { once: true });
  const branchHost: RuntimeHost = { ...host, signal: stop.signal };
  const run = (i: number) => {
    const [name, t] = branches[i];
    return runTask(name, t, input, { ...frame }, branchHost, `${pointer}/fork/branches/${i}/${name}`).then(
      (r) => r.output,
    );
  };
  try {
    if (spec.compete === true) {
      if (branches.length === 0) return { output: input, then: 'continue' };
      // The first branch to finish wins; the others are stopped.
      return {
        output: await Promise.any(branches.map((_, i) => run(i))).catch((e: AggregateError) =>
          Promise.reject(e.errors[0]),
        ),
        then: 'continue',
      };
    }
    return { output: await Promise.all(branches.map((_, i) => run(i))), then: 'continue' };
  } finally {
    host.signal.removeEventListener('abort', onAbort);
    if (!stop.signal.aborted) stop.abort(new Error('fork settled'));
  }
}

function matches(err: DslError, filter: unknown): boolean {
  if (!isRec(filter) || !isRec(filter.with)) return true;
  return Object.entries(filter.with).every(([k, v]) => (err as unknown as Rec)[k] === v);
}

async function runTry(
  task: Rec,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<TaskResult> {
  const c = isRec(task.catch) ? task.catch : {};
  const retry = isRec(c.retry) ? c.retry : undefined;
  const limit =
    retry && isRec(retry.limit) && isRec(retry.limit.attempt) ? Number(retry.limit.attempt.count ?? 1) : 0;
  const as = String(c.as ?? 'error');
  for (let attempt = 0; ; attempt++) {
    try {
      return await runDo(task.try, input, frame, host, `${pointer}/try`);
    } catch (err) {
      if (!(err instanceof WorkflowError)) throw err;
      if (!matches(err.error, c.errors)) throw err;
      const errFrame: Frame = { ...frame, vars: { ...frame.vars, [as]: err.error } };
      if (
        c.when !== undefined &&
        (await evalDeep(c.when, input, errFrame, host, `${pointer}/catch/when`)) !== true
      )
        throw err;
      if (
        c.exceptWhen !== undefined &&
        (await evalDeep(c.exceptWhen, input, errFrame, host, `${pointer}/catch/exceptWhen`)) === true
      )
        throw err;
      if (retry && attempt < limit) {
        await host.sleep(retryDelay(retry, attempt), host.signal);
        continue;
      }
      if (c.do === undefined) return { output: input, then: 'continue' };
      const r = await runDo(c.do, input, errFrame, host, `${pointer}/catch/do`);
      frame.context = errFrame.context;
      return r;
    }
  }
}

function retryDelay(retry: Rec, attempt: number): number {
  const base = durationMs(retry.delay) ?? 0;
  const b = isRec(retry.backoff) ? retry.backoff : {};
  if ('exponential' in b) return base * 2 ** attempt;
  if ('linear' in b) return base * (attempt + 1);
  return base;
}

async function raised(
  spec: unknown,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<WorkflowError> {
  const r = isRec(spec) ? spec : {};
  let e: unknown = r.error;
  if (typeof e === 'string' && !isExpr(e)) {
    e = host.errors[e];
    if (!isRec(e))
      return dslError(
        'configuration',
        400,
        `${pointer}/raise/error`,
        `no error named "${String(r.error)}" under use.errors`,
      );
  }
  const ev = (await evalDeep(e, input, frame, host, `${pointer}/raise/error`)) as Rec;
  if (!isRec(ev) || typeof ev.type !== 'string' || typeof ev.status !== 'number')
    return dslError(
      'configuration',
      400,
      `${pointer}/raise/error`,
      'a raised error needs a type (URI) and a status (integer)',
    );
  const out: DslError = {
    type: ev.type,
    status: ev.status,
    instance: typeof ev.instance === 'string' ? ev.instance : pointer,
  };
  if (typeof ev.title === 'string') out.title = ev.title;
  if (typeof ev.detail === 'string') out.detail = ev.detail;
  return new WorkflowError(out);
}

async function callHttp(
  task: Rec,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<Json> {
  const w = (await evalDeep(task.with ?? {}, input, frame, host, `${pointer}/with`)) as Rec;
  return sendHttp(w, input, host, pointer);
}

/**
 * `call: openapi`: the operation named by `operationId` in a document resolved at import time
 * (a local file; see lib/import/serverless-workflow.ts), its parameters placed by their `in`.
 */
async function callOpenApi(
  task: Rec,
  input: Json,
  frame: Frame,
  host: RuntimeHost,
  pointer: string,
): Promise<Json> {
  const w = (await evalDeep(task.with ?? {}, input, frame, host, `${pointer}/with`)) as Rec;
  const endpoint = endpointUri(isRec(w.document) ? w.document.endpoint : undefined);
  const doc = typeof endpoint === 'string' ? host.documents?.[endpoint] : undefined;
  if (!isRec(doc))
    throw dslError(
      'configuration',
      400,
      `${pointer}/with/document`,
      `OpenAPI document ${String(endpoint)} was not resolved at import: only local documents are supported`,
    );
  const servers = Array.isArray(doc.servers) ? doc.servers.filter(isRec) : [];
  const base = typeof servers[0]?.url === 'string' ? (servers[0].url as string) : undefined;
  if (!base || !/^https?:\/\//.test(base))
    throw dslError(
      'configuration',
      400,
      `${pointer}/with/document`,
      'the OpenAPI document needs an absolute servers[0].url',
    );
  const params = isRec(w.parameters) ? w.parameters : {};
  for (const [path, item] of Object.entries(isRec(doc.paths) ? doc.paths : {})) {
    if (!isRec(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!isRec(op) || op.operationId !== w.operationId) continue;
      const declared = [
        ...(Array.isArray(item.parameters) ? item.parameters : []),
        ...(Array.isArray(op.parameters) ? op.parameters : []),
      ].filter(isRec);
      const used = new Set<string>();
      const query: Rec = {};
      const headers: Rec = {};
      let url = path;
      for (const p of declared) {
        const name = String(p.name);
        if (!(name in params)) {
          if (p.required === true)
            throw dslError(
              'validation',
              400,
              `${pointer}/with/parameters`,
              `parameter "${name}" is required`,
            );
          continue;
        }
        used.add(name);
        if (p.in === 'path') url = url.replaceAll(`{${name}}`, encodeURIComponent(String(params[name])));
        else if (p.in === 'query') query[name] = params[name];
        else if (p.in === 'header') headers[name] = params[name];
      }
      const rest = Object.keys(params).filter((k) => !used.has(k));
      const body =
        op.requestBody === undefined
          ? undefined
          : 'body' in params
            ? params.body
            : rest.length
              ? Object.fromEntries(rest.map((k) => [k, params[k]]))
              : undefined;
      return sendHttp(
        {
          method,
          endpoint: base.replace(/\/$/, '') + url,
          query,
          headers,
          ...(body === undefined ? {} : { body }),
          output: w.output,
        },
        input,
        host,
        pointer,
      );
    }
  }
  throw dslError(
    'configuration',
    400,
    `${pointer}/with/operationId`,
    `no operation "${String(w.operationId)}" in ${String(endpoint)}`,
  );
}

async function sendHttp(w: Rec, input: Json, host: RuntimeHost, pointer: string): Promise<Json> {
  const endpoint = endpointUri(w.endpoint);
  if (typeof endpoint !== 'string')
    throw dslError('configuration', 400, `${pointer}/with/endpoint`, 'call: http needs an endpoint');
  const url = new URL(
    endpoint.replace(/\{(\w+)\}/g, (_m, k: string) => encodeURIComponent(String((input as Rec)?.[k] ?? ''))),
  );
  if (isRec(w.query)) for (const [k, v] of Object.entries(w.query)) url.searchParams.set(k, String(v));
  const method = String(w.method ?? 'get').toUpperCase();
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(isRec(w.headers) ? w.headers : {}).map(([k, v]) => [k, String(v)]),
  );
  let body: string | undefined;
  if (w.body !== undefined && method !== 'GET' && method !== 'HEAD') {
    body = typeof w.body === 'string' ? w.body : JSON.stringify(w.body);
    if (typeof w.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await host.fetch(url.toString(), { method, headers, body, signal: host.signal });
  } catch (err) {
    if (err instanceof TrellisError && err.code === 'run_cancelled') throw err;
    throw dslError(
      'communication',
      err instanceof TrellisError && err.code === 'ssrf_blocked' ? 403 : 503,
      pointer,
      (err as Error).message,
    );
  }
  const text = await res.text();
  let content: Json = text;
  if ((res.headers.get('content-type') ?? '').includes('json') || /^\s*[[{"]/.test(text)) {
    try {
      content = JSON.parse(text);
    } catch {
      /* stays text */
    }
  }
  if (res.status >= 400)
    throw dslError(
      'communication',
      res.status,
      pointer,
      `${method} ${url.host}${url.pathname} answered ${res.status}`,
    );
  const mode = String(w.output ?? 'content');
  if (mode === 'response' || mode === 'raw')
    return {
      request: { method, uri: url.toString() },
      statusCode: res.status,
      headers: Object.fromEntries(res.headers),
      content,
    };
  return content;
}

/** The frame a top-level task runs in, from the envelope its upstream step produced. */
export function frameOf(env: Envelope): Frame {
  return { context: env.context, workflow: env.workflow, vars: {} };
}
