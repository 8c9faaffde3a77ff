import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { WorkflowDefinition, WorkflowEdge, WorkflowNode } from '@/lib/workflow/definition';
import { pointer as jsonPointer } from '@/lib/workflow/pointer';
import { ValidationError, type Problem } from '@/lib/workflow/errors';
import { MAX_ID_LENGTH } from '@/lib/workflow/limits';
import { isRec, type Rec } from '@/lib/workflow/record';
import { endpointUri, nestedTaskLists } from '@/lib/workflow/serverless-workflow';
import { joinBranches } from './join-branches';

// CNCF Serverless Workflow DSL 1.0 (YAML or JSON) → Trellis definition. Each top-level task is
// one `sw.task` step (expressions stay jq: `expressionLanguage: "jq"`), so every task has its own
// trace row; nested tasks (do, for, fork, try) run inside their parent's step. Flow directives
// become edges: `then: <later task>` and switch cases are handles, `end`/`exit` go to the end.

const taskList = z.array(
  z
    .record(z.string(), z.record(z.string(), z.unknown()))
    .refine((o) => Object.keys(o).length === 1, 'each entry names one task'),
);
export const swDocumentSchema = z.looseObject({
  document: z.looseObject({
    dsl: z.string().regex(/^1\.\d+\.\d+/, 'only DSL 1.x is supported'),
    namespace: z.string().min(1),
    name: z.string().min(1),
    version: z.string().min(1),
    title: z.string().optional(),
    summary: z.string().optional(),
  }),
  input: z.looseObject({ schema: z.unknown().optional(), from: z.unknown().optional() }).optional(),
  output: z.looseObject({ schema: z.unknown().optional(), as: z.unknown().optional() }).optional(),
  use: z.looseObject({ errors: z.record(z.string(), z.unknown()).optional() }).optional(),
  do: taskList,
});
export type SwDocument = z.infer<typeof swDocumentSchema>;

/** Task kinds the runtime executes; anything else imports but raises a configuration error when run. */
export const SUPPORTED_TASKS = [
  'do',
  'set',
  'switch',
  'for',
  'fork',
  'try',
  'raise',
  'wait',
  'emit',
  'call: http',
  'call: openapi',
] as const;

export interface SwImportOptions {
  /**
   * Resolves the OpenAPI document a `call: openapi` names (`with.document.endpoint`). The CLI
   * reads local files next to the workflow; without a resolver such calls are reported
   * unsupported and raise a configuration error when reached.
   */
  resolveDocument?: (endpoint: string) => unknown;
}

/** Endpoints of every `call: openapi` document inside a task. */
function openApiEndpoints(task: Rec, out: Set<string> = new Set()): Set<string> {
  if (task.call === 'openapi' && isRec(task.with) && isRec(task.with.document)) {
    const uri = endpointUri(task.with.document.endpoint);
    if (typeof uri === 'string') out.add(uri);
  }
  for (const { list } of nestedTaskLists(task))
    for (const e of list) {
      const t = isRec(e) ? Object.values(e)[0] : undefined;
      if (isRec(t)) openApiEndpoints(t, out);
    }
  return out;
}

export interface SwReportEntry {
  task: string;
  pointer: string;
  kind: string;
  status: 'mapped' | 'unsupported';
  trellisId: string;
  reasons: string[];
}

export interface SwImportResult {
  definition: WorkflowDefinition;
  report: { source: 'serverless-workflow'; entries: SwReportEntry[] };
}

const START = 'start';
const SW_START = 'sw_start';
const SW_END = 'sw_end';
const RESULT = 'result';
const RESERVED = new Set([START, SW_START, SW_END, RESULT, 'end']);
const FLOW = new Set(['continue', 'exit', 'end']);
const STEP_X = 240;

function kindOf(task: Rec): string {
  if (task.call !== undefined) return `call: ${String(task.call)}`;
  for (const k of ['for', 'fork', 'try', 'do', 'set', 'switch', 'raise', 'wait', 'emit', 'listen', 'run'])
    if (k in task) return k;
  return 'unknown';
}

/** Unsupported parts nested anywhere inside a task (they raise when reached). */
function unsupportedInside(task: Rec, pointer: string, out: string[]) {
  const k = kindOf(task);
  if (!(SUPPORTED_TASKS as readonly string[]).includes(k))
    out.push(
      `${pointer}: ${k} is not supported (Trellis has no ${k === 'listen' ? 'event broker' : k === 'run' ? 'process runner' : 'client for it'}); running it raises a configuration error`,
    );
  for (const { path, list } of nestedTaskLists(task)) {
    list.forEach((e, i) => {
      if (!isRec(e)) return;
      const [name, t] = Object.entries(e)[0] ?? [];
      if (name && isRec(t)) unsupportedInside(t, `${pointer}/${path}/${i}/${name}`, out);
    });
  }
}

/** Parses YAML or JSON text (or takes an already parsed object) and checks the document's shape. */
export function parseServerlessWorkflow(source: unknown): SwDocument {
  let raw = source;
  if (typeof source === 'string') {
    try {
      raw = parseYaml(source, { maxAliasCount: 100 });
    } catch (err) {
      throw new ValidationError(
        [{ path: '', code: 'invalid_document', message: `not YAML or JSON: ${(err as Error).message}` }],
        'Not a Serverless Workflow document',
      );
    }
  }
  const parsed = swDocumentSchema.safeParse(raw);
  if (!parsed.success)
    throw new ValidationError(
      parsed.error.issues.map((i) => ({
        path: jsonPointer(...i.path.map(String)),
        code: 'invalid_document',
        message: i.message,
      })),
      'Not a Serverless Workflow 1.0 document',
    );
  return parsed.data;
}

export function importServerlessWorkflow(source: unknown, opts: SwImportOptions = {}): SwImportResult {
  const doc = parseServerlessWorkflow(source);
  const tasks = doc.do.map((e) => Object.entries(e)[0] as [string, Rec]);
  const ids = new Map<string, string>();
  const taken = new Set(RESERVED);
  for (const [name] of tasks) {
    let base =
      name
        .replace(/[^A-Za-z0-9_-]+/g, '_')
        .replace(/^[^A-Za-z_]+/, '')
        .slice(0, MAX_ID_LENGTH - 8) || 'task';
    if (RESERVED.has(base)) base = `task_${base}`;
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
    taken.add(id);
    ids.set(name, id);
  }
  const problems: Problem[] = [];
  const entries: SwReportEntry[] = [];
  const nodes: WorkflowNode[] = [
    { id: START, type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, config: {} },
    {
      id: SW_START,
      type: 'sw.task',
      name: 'Workflow input',
      expressionLanguage: 'jq',
      position: { x: STEP_X, y: 0 },
      config: {
        kind: 'start',
        next: tasks.length ? ids.get(tasks[0][0])! : 'end',
        targets: {},
        ...(doc.input ? { input: doc.input } : {}),
        ...(doc.use?.errors ? { errors: doc.use.errors } : {}),
        document: doc.document,
      },
    } as WorkflowNode,
  ];
  const edges: WorkflowEdge[] = [{ id: 'e_start', source: START, target: SW_START }];
  const nodeFor = (handle: string) => (handle === 'end' ? SW_END : handle);
  const link = (source: string, handle: string) => {
    const id = `e_${source}_${handle}`.slice(0, MAX_ID_LENGTH);
    if (!edges.some((e) => e.id === id))
      edges.push({ id, source, target: nodeFor(handle), sourceHandle: handle });
  };
  link(SW_START, tasks.length ? ids.get(tasks[0][0])! : 'end');

  tasks.forEach(([name, task], i) => {
    const id = ids.get(name)!;
    const pointer = `/do/${i}/${name}`;
    const next = i + 1 < tasks.length ? ids.get(tasks[i + 1][0])! : 'end';
    const targets: Record<string, string> = {};
    const directives: { value: unknown; path: string }[] = [{ value: task.then, path: `${pointer}/then` }];
    if (Array.isArray(task.switch))
      task.switch.forEach((c, j) => {
        if (!isRec(c)) return;
        const [cname, body] = Object.entries(c)[0] ?? [];
        if (isRec(body)) directives.push({ value: body.then, path: `${pointer}/switch/${j}/${cname}/then` });
      });
    for (const d of directives) {
      if (typeof d.value !== 'string' || FLOW.has(d.value)) continue;
      const j = tasks.findIndex(([n]) => n === d.value);
      if (j < 0)
        problems.push({
          path: d.path,
          code: 'unknown_task',
          message: `no top-level task is named "${d.value}"`,
        });
      else if (j <= i)
        problems.push({
          path: d.path,
          code: 'unsupported_loop',
          message: `"then: ${d.value}" jumps back; Trellis runs graphs without cycles — use a for task`,
        });
      else targets[d.value] = ids.get(d.value)!;
    }
    const reasons: string[] = [];
    unsupportedInside(task, pointer, reasons);
    const documents: Rec = {};
    for (const endpoint of openApiEndpoints(task)) {
      const doc = opts.resolveDocument?.(endpoint);
      if (isRec(doc)) documents[endpoint] = doc;
      else
        reasons.push(
          `${pointer}: the OpenAPI document ${endpoint} is not a local file this import could read; the call raises a configuration error`,
        );
    }
    entries.push({
      task: name,
      pointer,
      kind: kindOf(task),
      status: reasons.length ? 'unsupported' : 'mapped',
      trellisId: id,
      reasons,
    });
    nodes.push({
      id,
      type: 'sw.task',
      name,
      expressionLanguage: 'jq',
      position: { x: STEP_X * (i + 2), y: 0 },
      config: {
        kind: 'task',
        name,
        task,
        pointer,
        next,
        targets,
        ...(Object.keys(documents).length ? { documents } : {}),
      },
    } as WorkflowNode);
    for (const h of new Set([next, ...Object.values(targets), 'end'])) link(id, h);
  });
  if (problems.length) throw new ValidationError(problems, 'This Serverless Workflow cannot be imported');
  const endX = STEP_X * (tasks.length + 2);
  nodes.push(
    {
      id: SW_END,
      type: 'sw.task',
      name: 'Workflow output',
      expressionLanguage: 'jq',
      position: { x: endX, y: 0 },
      config: { kind: 'end', next: 'end', targets: {}, ...(doc.output ? { output: doc.output } : {}) },
    } as WorkflowNode,
    {
      id: RESULT,
      type: 'output',
      name: 'Result',
      position: { x: endX + STEP_X, y: 0 },
      config: { value: `{{ steps.${SW_END}.output }}` },
    },
  );
  edges.push({ id: 'e_sw_end_result', source: SW_END, target: RESULT });
  // A task several others may jump to waits for whichever came, through a merge "any" in front.
  const joined = joinBranches(nodes, edges, { offset: { x: -STEP_X / 2, y: 120 } });
  const title = doc.document.title ?? doc.document.name;
  const definition: WorkflowDefinition = {
    schemaVersion: 1,
    name: String(title).slice(0, 200),
    description: `Serverless Workflow ${doc.document.namespace}/${doc.document.name}@${doc.document.version} (DSL ${doc.document.dsl})`,
    nodes,
    edges: joined,
  };
  return { definition, report: { source: 'serverless-workflow', entries } };
}
