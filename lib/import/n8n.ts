import { isRec } from '@/lib/workflow/record';
import type { WorkflowDefinition, WorkflowEdge, WorkflowNode } from '@/lib/workflow/definition';
import { pointer } from '@/lib/workflow/pointer';
import { ValidationError, type Problem } from '@/lib/workflow/errors';
import { MAX_ID_LENGTH, MAX_RETRY_ATTEMPTS } from '@/lib/workflow/limits';
import { joinBranches } from './join-branches';
import { toJsExpression, type ExpressionContext } from './n8n/expressions';
import { placeholder, type Mapped } from './n8n/mapped';
import { mapNode } from './n8n/nodes';
import { n8nWorkflowSchema, type ImportReport, type ImportReportEntry, type N8nNode } from './n8n/types';

// n8n workflow export → Trellis definition plus an import report. Pure: the caller passes the
// validator (lib/nodes binds the node registry), so whatever this returns validates — a node
// whose translation does not is turned into a placeholder and reported, never dropped silently.

export type { ImportReport, ImportReportEntry } from './n8n/types';

export interface ImportResult {
  definition: WorkflowDefinition;
  report: ImportReport;
}

export interface ImportOptions {
  /** The validator with the node registry bound; placeholders replace nodes it refuses. */
  validate?: (def: unknown) => { valid: boolean; problems: Problem[] };
}

const STICKY = 'n8n-nodes-base.stickyNote';
const PASS_THROUGH = new Set(['n8n-nodes-base.noOp']);
const PASS_ITEMS = new Set([
  'n8n-nodes-base.if',
  'n8n-nodes-base.filter',
  'n8n-nodes-base.switch',
  'n8n-nodes-base.wait',
]);
const LOOP = 'n8n-nodes-base.splitInBatches';
const SPLIT_OUT = 'n8n-nodes-base.splitOut';
const AGGREGATE = 'n8n-nodes-base.aggregate';
const TRIGGERS = new Set(['trigger.manual', 'trigger.webhook', 'trigger.schedule']);
/** How many times placeholders may replace nodes the validator refused before giving up. */
const MAX_REPAIR_ROUNDS = 10;

interface Edge {
  from: string; // n8n node names
  to: string;
  out: number;
}

/** Trellis ids from n8n names: letters, digits and _, unique, short enough. */
function makeIds(names: string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of names) {
    let base = name
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, MAX_ID_LENGTH - 8);
    if (!base || /^[0-9]/.test(base)) base = `n_${base}`;
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
    taken.add(id);
    ids.set(name, id);
  }
  return ids;
}

/** Parses, maps and (with a validator) repairs. Throws ValidationError when `raw` is not an n8n export. */
export function importN8n(raw: unknown, opts: ImportOptions = {}): ImportResult {
  const parsed = n8nWorkflowSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((i) => ({
        path: pointer(...i.path.map(String)),
        code: 'invalid_n8n_workflow',
        message: i.message,
      })),
      'Not an n8n workflow export',
    );
  }
  const wf = parsed.data;
  const entries = new Map<string, ImportReportEntry>();
  const report = (
    n: N8nNode,
    status: ImportReportEntry['status'],
    reasons: string[],
    extra: Partial<ImportReportEntry> = {},
  ) => entries.set(n.name, { node: n.name, n8nType: n.type, status, reasons, ...extra });
  const byName = new Map(wf.nodes.map((n) => [n.name, n]));

  // AI sub-nodes hang off their parent through ai_* connections; they fold into it.
  const subNodes = new Map<string, Map<string, N8nNode[]>>();
  const subNodeNames = new Set<string>();
  const edges: Edge[] = [];
  for (const [from, outputs] of Object.entries(wf.connections)) {
    if (!byName.has(from)) continue;
    for (const [kind, lists] of Object.entries(outputs)) {
      lists.forEach((targets, out) => {
        for (const t of targets ?? []) {
          if (!byName.has(t.node)) continue;
          if (kind === 'main') edges.push({ from, to: t.node, out });
          else if (kind.startsWith('ai_')) {
            subNodeNames.add(from);
            const m = subNodes.get(t.node) ?? new Map<string, N8nNode[]>();
            m.set(kind, [...(m.get(kind) ?? []), byName.get(from)!]);
            subNodes.set(t.node, m);
          }
        }
      });
    }
  }

  // NoOp and disabled nodes pass items through in n8n: connect around them.
  let main = wf.nodes.filter((n) => n.type !== STICKY && !subNodeNames.has(n.name));
  for (const n of main.filter((x) => PASS_THROUGH.has(x.type) || x.disabled)) {
    const inc = edges.filter((e) => e.to === n.name);
    const outs = edges.filter((e) => e.from === n.name);
    for (const i of inc) for (const o of outs) edges.push({ from: i.from, to: o.to, out: i.out });
    removeEdges(edges, (e) => e.from === n.name || e.to === n.name);
    report(n, 'dropped', [
      n.disabled
        ? 'was disabled in n8n (passes items through); its neighbours are connected'
        : 'does nothing; its neighbours are connected',
    ]);
  }
  main = main.filter((n) => !entries.has(n.name));
  const ids = makeIds(main.map((n) => n.name));

  // Loops and SplitOut make n8n's per-item runs explicit: the nodes they feed become a map body.
  const bodyOf = new Map<string, Set<string>>(); // map node name → body node names
  const inBody = new Map<string, string>(); // body node name → map node name
  const loopOut = (n: N8nNode) => ((n.typeVersion ?? 1) >= 3 ? 1 : 0);
  for (const n of main.filter((x) => x.type === LOOP || x.type === SPLIT_OUT)) {
    if (inBody.has(n.name)) continue;
    const start =
      n.type === LOOP
        ? edges.filter((e) => e.from === n.name && e.out === loopOut(n))
        : edges.filter((e) => e.from === n.name);
    const body = new Set<string>();
    const queue = start.map((e) => e.to);
    while (queue.length) {
      const x = queue.shift()!;
      if (x === n.name || body.has(x)) continue;
      const node = byName.get(x)!;
      if (n.type === SPLIT_OUT && node.type === AGGREGATE) continue;
      body.add(x);
      for (const e of edges.filter((y) => y.from === x)) queue.push(e.to);
    }
    bodyOf.set(n.name, body);
    for (const b of body) inBody.set(b, n.name);
  }

  const topNames = new Set(main.filter((n) => !inBody.has(n.name)).map((n) => n.name));
  // A loop's "done" output, or whatever followed a SplitOut's body, continues from the map node.
  for (const [loop, body] of bodyOf) {
    for (const e of [...edges]) {
      if (body.has(e.from) && topNames.has(e.to) && e.to !== loop)
        edges.push({ from: loop, to: e.to, out: 0 });
    }
    removeEdges(edges, (x) => body.has(x.from) && x.to === loop);
  }
  const upstream = (name: string) =>
    edges.filter(
      (e) =>
        e.to === name &&
        !(inBody.get(e.from) && inBody.get(e.from) !== inBody.get(name) && e.from !== inBody.get(name)),
    );
  const refOf = (name: string, from: string): string | undefined => {
    const node = byName.get(name);
    if (!node) return undefined;
    if (entries.get(name)?.status === 'dropped') {
      const up = edges.find((e) => e.to === name);
      return up ? refOf(up.from, from) : 'input';
    }
    const id = ids.get(name);
    if (!id) return undefined;
    // IF, Filter, Switch and a timed Wait hand their items on unchanged: read what they received.
    if (
      PASS_ITEMS.has(node.type) &&
      !(node.type === 'n8n-nodes-base.wait' && ['webhook', 'form'].includes(String(node.parameters.resume)))
    ) {
      const ups = upstream(name);
      if (ups.length) return ups[0].from === inBody.get(name) ? 'item' : refOf(ups[0].from, from);
    }
    // A map node seen from inside its own body is the current item.
    if (bodyOf.has(name) && inBody.get(from) === name) return 'item';
    if (node.type === 'n8n-nodes-base.webhook') return `({ body: steps.${id}.output })`;
    if (node.type === 'n8n-nodes-base.manualTrigger' || node.type === 'n8n-nodes-base.executeWorkflowTrigger')
      return 'input';
    // n8n's HTTP Request item is the response body ({ body, headers, statusCode } with "full response").
    if (node.type === 'n8n-nodes-base.httpRequest')
      return fullResponse(node)
        ? `({ body: steps.${id}.output.body, headers: steps.${id}.output.headers, statusCode: steps.${id}.output.status })`
        : `steps.${id}.output.body`;
    return `steps.${id}.output`;
  };
  const exprFor = (name: string): ExpressionContext => {
    const ups = upstream(name);
    const map = inBody.get(name);
    let current = 'input';
    const refs = ups.map((u) => (u.from === map ? 'item' : (refOf(u.from, name) ?? 'input')));
    // Several inputs: only the branch that ran has an output, so take the first that exists.
    if (refs.length === 1) current = refs[0];
    else if (refs.length > 1)
      current = `(${[...new Set(refs)].map((r) => r.replace(/^steps\.(\w+)\./, 'steps.$1?.')).join(' ?? ')})`;
    return { current, ref: (n) => refOf(n, name), inMap: map !== undefined };
  };
  const refTable = Object.fromEntries(main.map((n) => [n.name, ids.get(n.name)!]));

  // Map every remaining node.
  const mapped = new Map<string, Mapped>();
  for (const n of main) {
    const expr = exprFor(n.name);
    let m: Mapped;
    if (n.type === LOOP || n.type === SPLIT_OUT) m = mapLoop(n, expr, ids, bodyOf.get(n.name)!);
    else if (n.type === AGGREGATE) m = mapAggregate(n, expr);
    else m = mapNode({ node: n, expr, subNodes: subNodes.get(n.name) ?? new Map() }, refTable);
    mapped.set(n.name, m);
    for (const f of m.folded ?? [])
      report(f.node, f.status, f.reasons, {
        trellisId: f.status === 'dropped' ? undefined : ids.get(n.name),
      });
  }
  for (const n of main)
    report(n, mapped.get(n.name)!.status, [...mapped.get(n.name)!.reasons], {
      trellisId: ids.get(n.name),
      trellisType: mapped.get(n.name)!.type,
    });
  for (const s of subNodeNames)
    if (!entries.has(s)) report(byName.get(s)!, 'dropped', ['an AI sub-node whose parent was not imported']);

  const toNode = (n: N8nNode): WorkflowNode => {
    const m = mapped.get(n.name)!;
    const node: WorkflowNode = {
      id: ids.get(n.name)!,
      type: m.type,
      name: n.name,
      position: { x: n.position?.[0] ?? 0, y: n.position?.[1] ?? 0 },
      config: m.config,
    };
    if (m.mode) node.mode = m.mode;
    if (m.agent) node.agent = m.agent as WorkflowNode['agent'];
    const notes = [n.notes, m.notes].filter(Boolean).join('\n\n');
    if (notes) node.notes = notes;
    if (n.retryOnFail)
      node.retry = {
        maxAttempts: Math.min(MAX_RETRY_ATTEMPTS, Math.max(1, n.maxTries ?? 3)),
        backoffMs: Math.max(0, n.waitBetweenTries ?? 1000),
        factor: 1,
      };
    if (n.onError === 'continueRegularOutput' || n.continueOnFail) node.onError = 'continue';
    else if (n.onError === 'continueErrorOutput') node.onError = 'branch';
    return node;
  };
  const toEdges = (names: Set<string>, inside: string | undefined): WorkflowEdge[] => {
    const list: WorkflowEdge[] = [];
    const seen = new Set<string>();
    for (const e of edges) {
      if (!names.has(e.from) || !names.has(e.to)) continue;
      const m = mapped.get(e.from)!;
      let handle = m.handle(e.out);
      const src = byName.get(e.from)!;
      if (handle === null && src.onError === 'continueErrorOutput') handle = 'error';
      if (handle === null) {
        const entry = entries.get(e.from)!;
        entry.reasons.push(
          `its output ${e.out} (to "${e.to}") has no Trellis counterpart and was not connected`,
        );
        if (entry.status === 'mapped') entry.status = 'approximated';
        continue;
      }
      const key = `${e.from}|${handle}|${e.to}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const id = `e_${ids.get(e.from)}_${handle}_${ids.get(e.to)}`.slice(0, MAX_ID_LENGTH);
      list.push({
        id,
        source: ids.get(e.from)!,
        target: ids.get(e.to)!,
        ...(handle === 'out' ? {} : { sourceHandle: handle }),
      });
    }
    void inside;
    return list;
  };

  // Map bodies: their nodes and edges move into the map node's config.
  for (const [loop, body] of bodyOf) {
    const m = mapped.get(loop)!;
    const nodes = main.filter((n) => body.has(n.name)).map(toNode);
    let bodyEdges = toEdges(body, loop);
    if (nodes.length === 0)
      nodes.push({ id: 'each', type: 'output', position: { x: 0, y: 0 }, config: { value: '{{ item }}' } });
    const filters = main.filter((n) => body.has(n.name) && n.type === 'n8n-nodes-base.filter');
    if (filters.length) {
      // An item a Filter drops must not count as a result: the dropped branch yields null and
      // the result is read from the last node, so a map's output holds one entry per item.
      const exits = nodes.filter((n) => !bodyEdges.some((e) => e.source === n.id));
      for (const f of filters) {
        const id = `${ids.get(f.name)}_dropped`;
        nodes.push({
          id,
          type: 'output',
          name: `${f.name} (dropped)`,
          position: { x: (f.position?.[0] ?? 0) + 200, y: (f.position?.[1] ?? 0) + 150 },
          config: { value: null },
        });
        bodyEdges.push({ id: `e_${id}`, source: ids.get(f.name)!, target: id, sourceHandle: 'false' });
      }
      const exit = exits[0];
      const src = main.find((n) => ids.get(n.name) === exit.id)!;
      nodes.push({
        id: 'result',
        type: 'output',
        name: 'Result',
        position: { x: exit.position.x + 200, y: exit.position.y },
        config: { value: `{{ ${refOf(src.name, src.name) ?? 'null'} }}` },
      });
      bodyEdges.push(...exits.map((x) => ({ id: `e_${x.id}_result`, source: x.id, target: 'result' })));
    }
    bodyEdges = joinReported(nodes, bodyEdges, byId(main, ids), entries);
    m.config.body = { nodes, edges: bodyEdges };
  }
  let nodes = main.filter((n) => topNames.has(n.name)).map(toNode);
  let defEdges = joinReported(nodes, toEdges(topNames, undefined), byId(main, ids), entries);

  // Every Trellis workflow starts at a trigger; n8n allows starting anywhere.
  if (!nodes.some((n) => TRIGGERS.has(n.type))) {
    const targets = new Set(defEdges.map((e) => e.target));
    const roots = nodes.filter((n) => !targets.has(n.id));
    const id = ids.has('start') || nodes.some((n) => n.id === 'start') ? 'start_trigger' : 'start';
    const minX = Math.min(0, ...nodes.map((n) => n.position.x));
    nodes = [
      {
        id,
        type: 'trigger.manual',
        name: 'Start',
        position: { x: minX - 240, y: roots[0]?.position.y ?? 0 },
        config: {},
      },
      ...nodes,
    ];
    defEdges = [...roots.map((r) => ({ id: `e_${id}_${r.id}`, source: id, target: r.id })), ...defEdges];
    entries.set('(added) Start', {
      node: 'Start',
      n8nType: '(none)',
      status: 'approximated',
      trellisId: id,
      trellisType: 'trigger.manual',
      reasons: ['the n8n workflow had no trigger; a manual trigger feeds its first nodes'],
    });
  }
  // n8n never runs nodes no trigger reaches; Trellis refuses them, so they are reported and left out.
  const reached = reachable(nodes, defEdges);
  for (const n of nodes.filter((x) => !reached.has(x.id))) {
    const src = main.find((x) => ids.get(x.name) === n.id)!;
    report(src, 'dropped', ['not connected to a trigger (n8n never runs it)']);
  }
  nodes = nodes.filter((n) => reached.has(n.id));
  defEdges = defEdges.filter((e) => reached.has(e.source) && reached.has(e.target));

  const notes = wf.nodes
    .filter((n) => n.type === STICKY)
    .map((n, i) => ({
      id: `note_${i + 1}`,
      text: String(n.parameters.content ?? ''),
      position: { x: n.position?.[0] ?? 0, y: n.position?.[1] ?? 0 },
      ...(typeof n.parameters.width === 'number' ? { width: n.parameters.width } : {}),
      ...(typeof n.parameters.height === 'number' ? { height: n.parameters.height } : {}),
    }));
  for (const n of wf.nodes.filter((x) => x.type === STICKY)) report(n, 'mapped', ['sticky note']);

  let definition: WorkflowDefinition = {
    schemaVersion: 1,
    name: (wf.name ?? 'Imported from n8n').slice(0, 200) || 'Imported from n8n',
    nodes,
    edges: defEdges,
    ...(notes.length ? { notes } : {}),
  };
  if (opts.validate) definition = repair(definition, opts.validate, main, ids, entries);
  const order = new Map(wf.nodes.map((n, i) => [n.name, i]));
  const list = [...entries.values()].sort((a, b) => (order.get(a.node) ?? -1) - (order.get(b.node) ?? -1));
  const summary = { mapped: 0, approximated: 0, placeholder: 0, dropped: 0 };
  for (const e of list) summary[e.status]++;
  return { definition, report: { source: 'n8n', entries: list, summary } };
}

const byId = (main: N8nNode[], ids: Map<string, string>) => new Map(main.map((n) => [ids.get(n.name)!, n]));

/** joinBranches, saying in the report which nodes got a merge in front. */
function joinReported(
  nodes: WorkflowNode[],
  edges: WorkflowEdge[],
  sources: Map<string, N8nNode>,
  entries: Map<string, ImportReportEntry>,
): WorkflowEdge[] {
  return joinBranches(nodes, edges, {
    onJoin: (n) => {
      const src = sources.get(n.id);
      const entry = src && entries.get(src.name);
      if (!entry) return;
      entry.reasons.push(
        'several branches lead here: a merge "any" in front passes on whichever ran (n8n would run it once per branch)',
      );
      if (entry.status === 'mapped') entry.status = 'approximated';
    },
  });
}

function fullResponse(n: N8nNode): boolean {
  const o = n.parameters.options;
  return (
    isRec(o) && isRec(o.response) && isRec(o.response.response) && o.response.response.fullResponse === true
  );
}

function removeEdges(edges: Edge[], pred: (e: Edge) => boolean) {
  for (let i = edges.length - 1; i >= 0; i--) if (pred(edges[i])) edges.splice(i, 1);
}

function reachable(nodes: WorkflowNode[], edges: WorkflowEdge[]): Set<string> {
  const seen = new Set(nodes.filter((n) => TRIGGERS.has(n.type)).map((n) => n.id));
  const queue = [...seen];
  while (queue.length) {
    const id = queue.shift()!;
    for (const e of edges) {
      if (e.source !== id || seen.has(e.target)) continue;
      seen.add(e.target);
      queue.push(e.target);
    }
  }
  return seen;
}

function mapLoop(n: N8nNode, expr: ExpressionContext, ids: Map<string, string>, body: Set<string>): Mapped {
  const issues: string[] = [];
  let items: string;
  if (n.type === SPLIT_OUT) {
    const fields = String(n.parameters.fieldToSplitOut ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    if (fields.length > 1) issues.push('only the first of several split fields is used');
    const field = fields[0] ?? '';
    items = `[].concat((${expr.current})?.${
      field
        .split('.')
        .map((p) => `[${JSON.stringify(p)}]`)
        .join('?.') || ''
    } ?? [])`;
  } else {
    items = `[].concat(${expr.current})`;
    const size = Number(n.parameters.batchSize ?? 1);
    if (size !== 1) issues.push(`batch size ${size} is not kept: the body runs once per item`);
  }
  void ids;
  issues.push(
    `n8n runs ${body.size ? 'the following nodes' : 'the next nodes'} once per item; here a map runs its body once per item and outputs the list of results`,
  );
  return {
    type: 'map',
    config: { items, concurrency: 1 },
    status: 'approximated',
    reasons: issues,
    // v3 loops: output 0 is "done" (the map's result), output 1 feeds the body.
    handle: (i) => (i === 0 ? 'out' : null),
  };
}

function mapAggregate(n: N8nNode, expr: ExpressionContext): Mapped {
  const p = n.parameters;
  const issues: string[] = [];
  // Items a map body filtered out have no result; n8n's Aggregate never sees them.
  const list = `[].concat(${expr.current}).filter((x) => x != null)`;
  if (p.aggregate === 'aggregateAllItemData') {
    const field = String(p.destinationFieldName ?? 'data');
    return {
      type: 'transform',
      config: { value: { [field]: `{{ ${list} }}` } },
      status: 'mapped',
      reasons: [],
      handle: (i) => (i === 0 ? 'out' : null),
    };
  }
  const fields =
    isRec(p.fieldsToAggregate) && Array.isArray(p.fieldsToAggregate.fieldToAggregate)
      ? p.fieldsToAggregate.fieldToAggregate.filter(isRec)
      : [];
  const value: Record<string, string> = {};
  for (const f of fields) {
    const name = String(f.fieldToAggregate ?? '');
    if (!name) continue;
    const outName = f.renameField ? String(f.outputFieldName ?? name) : name;
    value[outName] = `{{ ${list}.map((x) => x?.${name
      .split('.')
      .map((s) => `[${JSON.stringify(s)}]`)
      .join('?.')}) }}`;
  }
  if (!fields.length) issues.push('no fields to aggregate were set');
  return {
    type: 'transform',
    config: { value },
    status: issues.length ? 'approximated' : 'mapped',
    reasons: issues,
    handle: (i) => (i === 0 ? 'out' : null),
  };
}

/** Whatever the validator refuses in a node becomes a placeholder, so the import always opens. */
function repair(
  def: WorkflowDefinition,
  validate: NonNullable<ImportOptions['validate']>,
  main: N8nNode[],
  ids: Map<string, string>,
  entries: Map<string, ImportReportEntry>,
): WorkflowDefinition {
  let current = def;
  for (let round = 0; round < MAX_REPAIR_ROUNDS; round++) {
    const { valid, problems } = validate(current);
    if (valid) return current;
    const bad = new Map<number, Problem[]>();
    for (const p of problems) {
      const m = p.path.match(/^\/nodes\/(\d+)(?:\/|$)/);
      if (m) bad.set(Number(m[1]), [...(bad.get(Number(m[1])) ?? []), p]);
    }
    if (bad.size === 0) return current; // a problem no node swap fixes: returned as is, the caller reports it
    const nodes = current.nodes.map((n, i) => {
      if (!bad.has(i)) return n;
      const src = main.find((x) => ids.get(x.name) === n.id);
      const reasons = bad.get(i)!.map((p) => `Trellis refused the translation: ${p.path} ${p.message}`);
      if (src) {
        const prev = entries.get(src.name);
        entries.set(src.name, {
          node: src.name,
          n8nType: src.type,
          status: 'placeholder',
          trellisId: n.id,
          trellisType: 'http.request',
          reasons: [...(prev?.reasons ?? []), ...reasons],
        });
      }
      const ph = placeholder(src ?? { name: n.name ?? n.id, type: n.type, parameters: n.config }, reasons);
      const { mode: _m, agent: _a, ...rest } = n;
      void _m;
      void _a;
      return { ...rest, type: ph.type, config: ph.config, notes: ph.notes };
    });
    const swapped = new Set([...bad.keys()].map((i) => current.nodes[i].id));
    const seen = new Set<string>();
    const edges = current.edges
      .map((e) => (swapped.has(e.source) ? { id: e.id, source: e.source, target: e.target } : e))
      .filter((e) => {
        const k = `${e.source}|${e.sourceHandle ?? 'out'}|${e.target}`;
        return seen.has(k) ? false : (seen.add(k), true);
      });
    current = { ...current, nodes, edges };
  }
  return current;
}

/** For callers that want one JS expression from an n8n value (tests, the editor's preview). */
export { toJsExpression };
