import { isRec } from './record';
import type { z } from 'zod';
import { DEFAULT_HANDLE, DEFAULT_INPUT_HANDLE, definitionSchema } from './definition';
import type { Problem } from './errors';
import {
  analyzeExpression,
  analyzeFunctionBody,
  analyzeTemplate,
  findTemplateSegments,
  hasTemplate,
  type Analysis,
} from './expressions';
import { buildGraph, findCycles, outputHandles, reachableFrom, upstreamIndex, type Graph } from './graph';
import { checkJsonLimits } from './json-limits';
import { DEFAULT_MAX_STEPS_PER_RUN, MAX_EDGES, MAX_MAP_NESTING, MAX_NODES, MAX_PROBLEMS } from './limits';
import type { NodeCatalog, NodeTypeSpec } from './node-type';
import { pointer } from './pointer';

// validate() reports every problem of a definition at once and never throws, whatever JSON it
// is given. Order of work: bounded limit walk first (nothing recursive touches hostile input
// before it), then the zod shape, then graph rules on a lenient view of the raw value, so a
// shape error in one node does not hide a cycle elsewhere.

export const PROBLEM_CODES = [
  'not_object',
  'schema_version',
  'too_large',
  'too_deep',
  'string_too_long',
  'too_many_nodes',
  'too_many_edges',
  'too_many_problems',
  'invalid_shape',
  'unknown_node_type',
  'invalid_config',
  'duplicate_node_id',
  'duplicate_edge_id',
  'dangling_edge',
  'unknown_handle',
  'target_has_no_input',
  'cycle',
  'unreachable',
  'no_trigger',
  'multiple_manual_triggers',
  'trigger_in_body',
  'expression_syntax',
  'unknown_step_reference',
  'step_not_upstream',
  'unknown_agent_tool',
  'agent_not_supported',
  'run_too_large',
  'unsupported_expression_language',
  'secret_in_prompt',
  'http_tool_without_hosts',
  'stage_not_supported',
  'internal_error',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

/**
 * Problems of shape or size. Saving keeps work in progress (as n8n and Windmill do): a definition
 * with graph or config problems may be saved, but not one with these. Running requires none at all.
 */
export const STRUCTURAL_PROBLEMS: ReadonlySet<ProblemCode> = new Set<ProblemCode>([
  'not_object',
  'schema_version',
  'too_large',
  'too_deep',
  'string_too_long',
  'too_many_nodes',
  'too_many_edges',
  'invalid_shape',
  'internal_error',
]);

export interface ValidationResult {
  valid: boolean;
  problems: Problem[];
}

export const MANUAL_TRIGGER_TYPE = 'trigger.manual';

class Collector {
  readonly problems: Problem[] = [];
  private truncated = false;
  add(path: string, code: ProblemCode, message: string, severity?: 'warning'): void {
    if (this.problems.length >= MAX_PROBLEMS) {
      if (!this.truncated) {
        this.truncated = true;
        this.problems.push({
          path: '',
          code: 'too_many_problems',
          message: `more than ${MAX_PROBLEMS} problems; the rest are not listed`,
        });
      }
      return;
    }
    this.problems.push(severity ? { path, code, message, severity } : { path, code, message });
  }
}

export function validate(definition: unknown, catalog: NodeCatalog): ValidationResult {
  const out = new Collector();
  try {
    run(definition, catalog, out);
  } catch (err) {
    // A validator bug must still answer with a problem, not a 500 or a crashed CLI.
    out.add(
      '',
      'internal_error',
      `validation failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return { valid: !out.problems.some((p) => p.severity !== 'warning'), problems: out.problems };
}

function run(def: unknown, catalog: NodeCatalog, out: Collector): void {
  if (!isRec(def)) {
    out.add('', 'not_object', 'a workflow definition must be a JSON object');
    return;
  }
  const limits = checkJsonLimits(def);
  for (const p of limits.problems) out.add(p.path, p.code as ProblemCode, p.message);
  if (limits.fatal) return;

  const versionOk = def.schemaVersion === 1;
  if (!versionOk) {
    out.add(
      '/schemaVersion',
      'schema_version',
      `schemaVersion must be 1, got ${JSON.stringify(def.schemaVersion) ?? 'nothing'}`,
    );
  }
  const shape = definitionSchema.safeParse(def);
  if (!shape.success) {
    for (const issue of shape.error.issues) {
      if (issue.path[0] === 'schemaVersion') continue;
      out.add(pointer(...(issue.path as (string | number)[])), 'invalid_shape', issue.message);
    }
  }
  if (Array.isArray(def.nodes) && def.nodes.length > MAX_NODES) {
    out.add('/nodes', 'too_many_nodes', `${def.nodes.length} nodes; the limit is ${MAX_NODES}`);
  }
  if (Array.isArray(def.edges) && def.edges.length > MAX_EDGES) {
    out.add('/edges', 'too_many_edges', `${def.edges.length} edges; the limit is ${MAX_EDGES}`);
  }
  validateGraph(out, catalog, def.nodes, def.edges, '', {
    top: true,
    depth: 0,
    outerIds: new Set(),
    outerUpstream: new Set(),
  });
  checkStepBudget(out, def);
}

/** The items of a map whose `items` is a literal JSON array: the only sizes known before a run. */
function literalItemCount(config: unknown): number | null {
  const items = isRec(config) ? config.items : undefined;
  if (typeof items !== 'string' || !items.trim().startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(items);
    return Array.isArray(v) ? v.length : null;
  } catch {
    return null;
  }
}

/**
 * At least how many steps one run records: one per node, and per map whose items are a literal
 * array, its body's count per item (nested maps multiply). Unknown sizes count as zero items,
 * so this is a lower bound; the engine enforces the cap on the real count.
 */
export function minimumStepCount(nodes: unknown, depth = 0): number {
  if (!Array.isArray(nodes) || depth > MAX_MAP_NESTING) return 0;
  let total = 0;
  for (const n of nodes) {
    total += 1;
    if (!isRec(n) || !isRec(n.config)) continue;
    const body = n.config.body;
    const count = literalItemCount(n.config);
    if (count && isRec(body) && Array.isArray(body.nodes))
      total += count * minimumStepCount(body.nodes, depth + 1);
    if (total > Number.MAX_SAFE_INTEGER / 2) return total;
  }
  return total;
}

function checkStepBudget(out: Collector, def: Record<string, unknown>): void {
  const set = isRec(def.limits) ? def.limits.maxSteps : undefined;
  const cap = typeof set === 'number' && Number.isInteger(set) && set > 0 ? set : DEFAULT_MAX_STEPS_PER_RUN;
  const count = minimumStepCount(def.nodes);
  if (count > cap) {
    out.add(
      isRec(def.limits) && 'maxSteps' in def.limits ? '/limits/maxSteps' : '/nodes',
      'run_too_large',
      `a run records at least ${count} steps (maps with literal items); the limit is ${cap}`,
    );
  }
}

interface NodeView {
  path: string;
  id: string;
  type: string;
  raw: Record<string, unknown>;
  spec?: NodeTypeSpec;
  /** Config as written (an object), or undefined when it is not one. */
  config?: Record<string, unknown>;
  /** Output handles, or null when they cannot be known (unknown type, broken config). */
  handles: Set<string> | null;
  /** Pointers already reported as invalid_config, so an empty expression is not reported twice. */
  badPaths: Set<string>;
}

interface EdgeView {
  path: string;
  id: string;
  source: string;
  target: string;
  sourceHandle?: string;
}

interface Level {
  top: boolean;
  depth: number;
  /** Node ids of enclosing graphs (for "exists but not upstream" vs "does not exist"). */
  outerIds: Set<string>;
  /** Enclosing nodes upstream of the map node that owns this body. */
  outerUpstream: Set<string>;
}

function validateGraph(
  out: Collector,
  catalog: NodeCatalog,
  nodesRaw: unknown,
  edgesRaw: unknown,
  base: string,
  level: Level,
): void {
  if (!Array.isArray(nodesRaw)) return;
  const nodes: NodeView[] = [];
  const byId = new Map<string, NodeView>();
  nodesRaw.forEach((raw, i) => {
    if (!isRec(raw) || typeof raw.id !== 'string') return;
    const path = `${base}/nodes/${i}`;
    const view = inspectNode(out, catalog, raw, path);
    if (byId.has(raw.id)) {
      out.add(`${path}/id`, 'duplicate_node_id', `node id "${raw.id}" is used more than once`);
      return;
    }
    byId.set(raw.id, view);
    nodes.push(view);
  });

  const edges: EdgeView[] = [];
  const edgeIds = new Set<string>();
  if (Array.isArray(edgesRaw)) {
    edgesRaw.forEach((raw, i) => {
      if (!isRec(raw)) return;
      const path = `${base}/edges/${i}`;
      if (typeof raw.id === 'string') {
        if (edgeIds.has(raw.id))
          out.add(`${path}/id`, 'duplicate_edge_id', `edge id "${raw.id}" is used more than once`);
        edgeIds.add(raw.id);
      }
      const edge = inspectEdge(out, raw, path, byId);
      if (edge) edges.push(edge);
    });
  }

  const graph = buildGraph(nodes, edges);
  const edgeBetween = new Map<string, EdgeView>();
  for (const e of edges)
    if (!edgeBetween.has(`${e.source}\u0000${e.target}`)) edgeBetween.set(`${e.source}\u0000${e.target}`, e);
  for (const cycle of findCycles(graph)) {
    const at =
      cycle.length === 1
        ? edgeBetween.get(`${cycle[0]}\u0000${cycle[0]}`)
        : firstEdgeInside(graph, cycle, edgeBetween);
    out.add(
      at?.path ?? byId.get(cycle[0])!.path,
      'cycle',
      `nodes ${cycle.join(' → ')} form a cycle; repeat work with a map node instead of a back edge`,
    );
  }

  if (level.top) checkTriggers(out, nodes, graph, base);
  else {
    for (const n of nodes) {
      if (n.spec?.isTrigger)
        out.add(
          `${n.path}/type`,
          'trigger_in_body',
          'a map body cannot contain a trigger; it starts at its nodes with no incoming edge',
        );
    }
  }

  const upstream = upstreamIndex(graph);
  for (const n of nodes) {
    if (!n.spec || !n.config) continue;
    const checkRef = (id: string, where: string, offset: number): void => {
      const at = `(at character ${offset})`;
      if (byId.has(id)) {
        if (!upstream.isUpstream(id, n.id)) {
          out.add(
            where,
            'step_not_upstream',
            `steps.${id} is not upstream of node "${n.id}", so it has no output yet ${at}`,
          );
        }
      } else if (level.outerIds.has(id)) {
        if (!level.outerUpstream.has(id)) {
          out.add(
            where,
            'step_not_upstream',
            `steps.${id} is not upstream of the map that holds node "${n.id}" ${at}`,
          );
        }
      } else
        out.add(where, 'unknown_step_reference', `steps.${id} refers to a node that does not exist ${at}`);
    };
    const language = n.raw.expressionLanguage ?? 'js';
    if (language !== 'js' && !(n.spec.expressionLanguages ?? ['js']).includes(language as 'jq')) {
      out.add(
        `${n.path}/expressionLanguage`,
        'unsupported_expression_language',
        `node type "${n.type}" reads ${String(language)} expressions only when it says so; it reads ${(n.spec.expressionLanguages ?? ['js']).join(', ')}`,
      );
    } else if (language === 'js') checkExpressions(out, n, checkRef);

    const bodyField = n.spec.bodyField;
    const body = bodyField ? n.config[bodyField] : undefined;
    if (bodyField && isRec(body) && Array.isArray(body.nodes)) {
      const bodyPath = `${n.path}/config/${bodyField}`;
      if (level.depth + 1 > MAX_MAP_NESTING) {
        out.add(bodyPath, 'too_deep', `map bodies nest deeper than ${MAX_MAP_NESTING} levels`);
        continue;
      }
      if (body.nodes.length > MAX_NODES)
        out.add(
          `${bodyPath}/nodes`,
          'too_many_nodes',
          `${body.nodes.length} nodes; the limit is ${MAX_NODES}`,
        );
      const outerIds = new Set(level.outerIds);
      for (const id of byId.keys()) outerIds.add(id);
      const outerUpstream = new Set(level.outerUpstream);
      for (const id of upstream.upstream(n.id)) outerUpstream.add(id);
      validateGraph(out, catalog, body.nodes, body.edges, bodyPath, {
        top: false,
        depth: level.depth + 1,
        outerIds,
        outerUpstream,
      });
    }
  }
}

function firstEdgeInside(
  graph: Graph,
  cycle: string[],
  edgeBetween: Map<string, EdgeView>,
): EdgeView | undefined {
  const inside = new Set(cycle);
  for (const id of cycle) {
    for (const e of graph.outgoing.get(id)!)
      if (inside.has(e.target)) return edgeBetween.get(`${e.source}\u0000${e.target}`);
  }
  return undefined;
}

function inspectNode(
  out: Collector,
  catalog: NodeCatalog,
  raw: Record<string, unknown>,
  path: string,
): NodeView {
  const id = raw.id as string;
  const type = typeof raw.type === 'string' ? raw.type : '';
  const view: NodeView = { path, id, type, raw, handles: null, badPaths: new Set() };
  if (typeof raw.type !== 'string') return view;
  const spec = catalog.get(type);
  if (!spec) {
    out.add(`${path}/type`, 'unknown_node_type', `unknown node type "${type}"`);
    return view;
  }
  view.spec = spec;
  const config = raw.config === undefined ? {} : raw.config;
  if (isRec(config)) {
    view.config = config;
    const parsed = spec.config.safeParse(config);
    if (!parsed.success) {
      for (const issue of (parsed.error as z.ZodError).issues) {
        const where = `${path}/config${pointer(...(issue.path as (string | number)[]))}`;
        view.badPaths.add(where);
        out.add(where, 'invalid_config', configIssueMessage(issue));
      }
    }
    try {
      const handles = spec.outputs((parsed.success ? parsed.data : config) as Record<string, unknown>);
      view.handles = new Set(outputHandles(raw, Array.isArray(handles) ? handles : []));
    } catch {
      view.handles = null;
    }
  }

  if (raw.mode === 'agent' && !spec.agentCapable) {
    out.add(`${path}/mode`, 'agent_not_supported', `node type "${type}" cannot run in agent mode`);
  }
  const agent = raw.agent;
  if (spec.runsOnce && raw.mode === 'agent' && isRec(agent)) {
    // A definition written before these stages were refused (or by hand) may still carry them. The
    // engine runs such a step as at the workflow stage (its agent heals only at `agent`), so the
    // canvas says so rather than refusing to run it.
    for (const key of ['shadow', 'canaryPercent'] as const)
      if (key === 'shadow' ? agent.shadow === true : agent.canaryPercent !== undefined)
        out.add(
          `${path}/agent/${key}`,
          'stage_not_supported',
          `a "${type}" step acts on the outside once per run, so it has no ${key === 'shadow' ? 'shadow' : 'canary'} stage: it runs as it would at the workflow stage; move it to agent or workflow`,
          'warning',
        );
  }
  checkSecretsInPrompt(out, raw, path);
  if (isRec(agent) && Array.isArray(agent.tools) && agent.tools.includes('http')) {
    // The agent's http tool may only call allow-listed hosts (an http.request step also its own
    // URL's host): with none, every call it makes is refused, so say so on the canvas.
    const listed = (v: unknown) => Array.isArray(v) && v.length > 0;
    const config = isRec(raw.config) ? raw.config : {};
    if (type !== 'http.request' && !listed(agent.allowHosts) && !listed(config.allowHosts))
      out.add(
        `${path}/agent/allowHosts`,
        'http_tool_without_hosts',
        'the agent has the HTTP tool but no allowed hosts: every call it makes will be refused; list hosts in agent.allowHosts',
        'warning',
      );
  }
  if (isRec(agent) && Array.isArray(agent.tools)) {
    agent.tools.forEach((tool, t) => {
      if (typeof tool !== 'string') return;
      if (tool === 'self' || tool === 'http' || /^workflow:[^\s]+$/.test(tool)) return;
      out.add(
        `${path}/agent/tools/${t}`,
        'unknown_agent_tool',
        `unknown agent tool "${tool}"; use "self", "http" or "workflow:<id>"`,
      );
    });
  }
  return view;
}

function inspectEdge(
  out: Collector,
  raw: Record<string, unknown>,
  path: string,
  byId: Map<string, NodeView>,
): EdgeView | null {
  const source = typeof raw.source === 'string' ? byId.get(raw.source) : undefined;
  const target = typeof raw.target === 'string' ? byId.get(raw.target) : undefined;
  if (typeof raw.source === 'string' && !source) {
    out.add(`${path}/source`, 'dangling_edge', `edge source "${raw.source}" is not a node`);
  }
  if (typeof raw.target === 'string' && !target) {
    out.add(`${path}/target`, 'dangling_edge', `edge target "${raw.target}" is not a node`);
  }
  if (!source || !target) return null;
  const handle = typeof raw.sourceHandle === 'string' ? raw.sourceHandle : DEFAULT_HANDLE;
  if (source.handles && !source.handles.has(handle)) {
    const has = [...source.handles];
    out.add(
      typeof raw.sourceHandle === 'string' ? `${path}/sourceHandle` : `${path}/source`,
      'unknown_handle',
      `node "${source.id}" has no output "${handle}"` +
        (has.length ? ` (it has ${has.map((h) => `"${h}"`).join(', ')})` : ' (it has no outputs)'),
    );
  }
  if (target.spec && !target.spec.hasInput) {
    out.add(`${path}/target`, 'target_has_no_input', `node "${target.id}" (${target.type}) takes no input`);
    // Kept out of the graph: it would also show up as a cycle or make the trigger "reachable".
    return null;
  } else if (typeof raw.targetHandle === 'string' && raw.targetHandle !== DEFAULT_INPUT_HANDLE) {
    out.add(
      `${path}/targetHandle`,
      'unknown_handle',
      `node "${target.id}" has no input "${raw.targetHandle}" (it has "in")`,
    );
  }
  return {
    path,
    id: typeof raw.id === 'string' ? raw.id : '',
    source: source.id,
    target: target.id,
    sourceHandle: typeof raw.sourceHandle === 'string' ? raw.sourceHandle : undefined,
  };
}

function checkTriggers(out: Collector, nodes: NodeView[], graph: Graph, base: string): void {
  const triggers = nodes.filter((n) => n.spec?.isTrigger);
  if (triggers.length === 0) {
    // Unknown types might be triggers; only claim "no trigger" when every type is known.
    if (nodes.every((n) => n.spec))
      out.add(`${base}/nodes`, 'no_trigger', 'the workflow has no trigger node');
    return;
  }
  const manual = triggers.filter((n) => n.type === MANUAL_TRIGGER_TYPE);
  for (const extra of manual.slice(1)) {
    out.add(
      `${extra.path}/type`,
      'multiple_manual_triggers',
      `only one ${MANUAL_TRIGGER_TYPE} node is allowed; "${manual[0].id}" is the first`,
    );
  }
  const reached = reachableFrom(
    graph,
    triggers.map((t) => t.id),
  );
  for (const n of nodes) {
    if (!reached.has(n.id)) out.add(n.path, 'unreachable', `node "${n.id}" cannot be reached from a trigger`);
  }
}

/** Resolve `cases[].expression`-style field paths to the values and pointer segments they name. */
export function resolveField(
  config: unknown,
  field: string,
): { value: unknown; segments: (string | number)[] }[] {
  let current: { value: unknown; segments: (string | number)[] }[] = [{ value: config, segments: [] }];
  for (const part of field.split('.')) {
    const each = part.endsWith('[]');
    const key = each ? part.slice(0, -2) : part;
    const next: typeof current = [];
    for (const c of current) {
      if (!isRec(c.value) || !(key in c.value)) continue;
      const v = c.value[key];
      if (!each) next.push({ value: v, segments: [...c.segments, key] });
      else if (Array.isArray(v))
        v.forEach((item, i) => next.push({ value: item, segments: [...c.segments, key, i] }));
    }
    current = next;
  }
  return current;
}

function checkExpressions(
  out: Collector,
  n: NodeView,
  checkRef: (id: string, where: string, offset: number) => void,
): void {
  const spec = n.spec!;
  const config = n.config!;
  const report = (segments: (string | number)[], a: Analysis, what: string): void => {
    const where = `${n.path}/config${pointer(...segments)}`;
    if (n.badPaths.has(where)) return;
    for (const issue of a.issues)
      out.add(
        where,
        'expression_syntax',
        `${what} syntax error at character ${issue.offset}: ${issue.message}`,
      );
    for (const ref of a.refs) checkRef(ref.id, where, ref.offset);
  };
  const skip = new Set<string>();
  for (const field of spec.expressionFields ?? []) {
    skip.add(field.split(/[.[]/)[0]);
    for (const { value, segments } of resolveField(config, field)) {
      if (typeof value === 'string') report(segments, analyzeExpression(value), 'expression');
    }
  }
  for (const field of spec.codeFields ?? []) {
    skip.add(field.split(/[.[]/)[0]);
    for (const { value, segments } of resolveField(config, field)) {
      if (typeof value === 'string') report(segments, analyzeFunctionBody(value), 'code');
    }
  }
  if (spec.bodyField) skip.add(spec.bodyField);
  // Every other string in the config is a template: check its {{ }} segments. The walk is
  // bounded by the limit check that ran first.
  const stack: { value: unknown; segments: (string | number)[] }[] = [];
  for (const key of Object.keys(config))
    if (!skip.has(key)) stack.push({ value: config[key], segments: [key] });
  // Expression fields nested in arrays (switch cases) share their top key with template-free
  // siblings (case ids), so nothing else under a skipped key is scanned.
  while (stack.length) {
    const { value, segments } = stack.pop()!;
    if (typeof value === 'string') {
      if (hasTemplate(value)) report(segments, analyzeTemplate(value), 'template');
    } else if (Array.isArray(value))
      value.forEach((v, i) => stack.push({ value: v, segments: [...segments, i] }));
    else if (isRec(value))
      for (const k of Object.keys(value)) stack.push({ value: value[k], segments: [...segments, k] });
  }
}

/** A {{ }} segment of a prompt that reads secrets (secrets.X, secrets['X'], the whole object). */
export function readsSecrets(template: string): boolean {
  if (!hasTemplate(template)) return false;
  // `secrets` as a name, not a property (input.secrets is the step's own data).
  return findTemplateSegments(template).segments.some((seg) => /(^|[^.\w$])secrets\b/.test(seg.body));
}

/**
 * A prompt template that reads secrets sends them to the model provider. That is an error unless
 * the node says allowSecretsInPrompt: true, and stays a warning on the canvas when it does.
 */
function checkSecretsInPrompt(out: Collector, raw: Record<string, unknown>, path: string): void {
  const config = isRec(raw.config) ? raw.config : {};
  const agent = isRec(raw.agent) ? raw.agent : {};
  const allowed = config.allowSecretsInPrompt === true || agent.allowSecretsInPrompt === true;
  const fields: [string, unknown][] = [];
  if (raw.type === 'llm') fields.push(['config/prompt', config.prompt], ['config/system', config.system]);
  if (raw.mode === 'agent') fields.push(['agent/instructions', agent.instructions]);
  for (const [field, value] of fields) {
    if (typeof value !== 'string' || !readsSecrets(value)) continue;
    if (allowed) {
      out.add(
        `${path}/${field}`,
        'secret_in_prompt',
        'this prompt sends secrets to the model provider (allowed by allowSecretsInPrompt)',
        'warning',
      );
    } else {
      out.add(
        `${path}/${field}`,
        'secret_in_prompt',
        'a prompt must not read secrets.*: the value would be sent to the model provider; set allowSecretsInPrompt: true on the node to allow it',
      );
    }
  }
}

/**
 * A config problem in the words the editor shows beside the field: an empty required value reads
 * "Required" rather than zod's "Too small: expected string to have >=1 characters".
 */
export function configIssueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1)
    return 'Required';
  // zod leaves the input out of an issue; a missing field says so in its message.
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'Required';
  return issue.message;
}
