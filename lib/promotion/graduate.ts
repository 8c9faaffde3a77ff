import { z } from 'zod';
import type { NodeServices } from '@/lib/nodes/define-node';
import { getNode } from '@/lib/nodes/registry';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { parseModelJson } from '@/lib/workflow/json-schema-check';
import {
  applyChain,
  chainCandidate,
  deriveChain,
  type ChainCase,
  type ChainPlan,
  type ChainReason,
} from './chain';
import { BacktestBudget, runBacktest, type BacktestCase, type Candidate } from './runner';
import type { BacktestCaseResult } from './spec';
import { stepCandidate } from './step-candidate';
import { bindStepInput } from './step-input';

// Graduation back to deterministic (issue 16 §5): from a step's recorded cases (input → output)
// the model writes a `code` or `transform` config meant to reproduce the mapping; the config is
// validated with the node's own schema and backtested against the same history with the runner
// and the exact scorer. Only a candidate that meets GRADUATION_MIN_AGREEMENT is proposed; nothing
// here saves anything (the owner accepts through lib/server/graduation.ts).

/** Share of recorded cases the proposed step must reproduce exactly before it is offered. */
export const GRADUATION_MIN_AGREEMENT = 0.95;
/** Fewer recorded cases than this prove nothing: the model is not asked. */
export const GRADUATION_MIN_CASES = 5;
/** Recorded cases shown to the model (the backtest still runs over every case). */
export const GRADUATION_PROMPT_CASES = 40;
/** Characters of one case's input or output shown to the model; longer ones are left out. */
export const GRADUATION_MAX_CASE_CHARS = 2_000;
/** Failing cases returned as examples per failure type. */
export const GRADUATION_FAILURE_EXAMPLES = 3;
/** Completion tokens the model may use for its proposal. */
export const GRADUATION_MAX_TOKENS = 2_000;

export const GRADUATION_NODE_TYPES = ['code', 'transform'] as const;
export type GraduationNodeType = (typeof GRADUATION_NODE_TYPES)[number];

/** What the model must answer (also sent as its JSON Schema). */
export const graduationAnswerSchema = z.object({
  nodeType: z.enum(GRADUATION_NODE_TYPES),
  config: z.record(z.string(), z.unknown()),
});

const ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    nodeType: { enum: [...GRADUATION_NODE_TYPES] },
    config: { type: 'object' },
  },
  required: ['nodeType', 'config'],
};

export const GRADUATION_SYSTEM = `You turn a workflow step that calls a model into a deterministic step.
You get recorded cases: the step's input and the output it produced. Write ONE step that reproduces
every output from its input exactly, without any model or network call:
- nodeType "code": config { "code": "<JavaScript function body; \`input\` is in scope; return the output>" }
- nodeType "transform": config { "value": <JSON template; strings may hold {{ expressions over input }}> }
Prefer the simplest rule (keywords, thresholds, field copies). Answer only the JSON object.`;

export type NoProposalReason =
  'too_few_cases' | 'invalid_answer' | 'invalid_config' | 'below_threshold' | ChainReason;

/** A chain proposal: the plan (what accept takes back), and the nodes it becomes, for display. */
export interface ChainProposal extends ChainPlan {
  /** The tool names in order, as the recorded runs show them. */
  sequence: string[];
  /** Share of the cases that show that sequence. */
  sameSequence: number;
  /** The call nodes in order, then the final transform (the step's id). */
  nodes: WorkflowNode[];
}

export interface GraduationFailure {
  /** The runner's failure type: `diff:<paths>`, `error:<code>`. */
  type: string;
  count: number;
  examples: { runId: string; input: unknown; expected: unknown; actual: unknown }[];
}

export interface Graduation {
  proposed: boolean;
  /** `step`: one code/transform step the model wrote; `chain`: the agent's fixed tool sequence as nodes. */
  kind: 'step' | 'chain';
  /** Why there is no proposal (null when there is one). */
  reason: NoProposalReason | null;
  message: string | null;
  nodeType: GraduationNodeType | null;
  config: Record<string, unknown> | null;
  /** The chain (kind `chain`, also when it fell below the threshold), else null. */
  chain: ChainProposal | null;
  /** Share of cases the candidate reproduced (0 when nothing was backtested). */
  agreement: number;
  threshold: number;
  cases: number;
  agreed: number;
  failures: GraduationFailure[];
  /** Spend of the model call that wrote the candidate. */
  tokens: number;
  costUsd: number;
}

export interface ProposeArgs {
  cases: BacktestCase[];
  chat: NonNullable<NodeServices['chat']>;
  model?: string;
  sandbox: Pick<NodeServices, 'evaluate' | 'render' | 'runCode'>;
  /** The step being graduated: its id and position carry over to the candidate. */
  node: WorkflowNode;
  /** The step's one upstream node (chain.ts singleSource); null: several or none, no proposal. */
  source: string | null;
  /**
   * The step's agent-mode runs and the definition they are graduated in: when they show tool
   * calls, the proposal is a chain (no model call); else a step the model writes.
   */
  chain?: { cases: ChainCase[]; definition: WorkflowDefinition };
  signal: AbortSignal;
  concurrency?: number;
  /** Where the proposal is: the model call, then each backtested case. */
  onProgress?: (p: { phase: 'model' | 'backtest'; done: number }) => void;
}

const clip = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'null';
  return s.length <= GRADUATION_MAX_CASE_CHARS ? v : undefined;
};

/** The user message: the cases as JSON, newest first, the ones too large to show left out. */
export function graduationPrompt(cases: BacktestCase[]): string {
  const shown = [];
  for (const c of cases) {
    if (shown.length >= GRADUATION_PROMPT_CASES) break;
    const input = clip(c.input);
    const output = clip(c.expected);
    if (input !== undefined && output !== undefined) shown.push({ input, output });
  }
  return JSON.stringify({ cases: shown });
}

const none = (reason: NoProposalReason, message: string, rest: Partial<Graduation> = {}): Graduation => ({
  proposed: false,
  kind: 'step',
  reason,
  message,
  nodeType: null,
  config: null,
  chain: null,
  agreement: 0,
  threshold: GRADUATION_MIN_AGREEMENT,
  cases: 0,
  agreed: 0,
  failures: [],
  tokens: 0,
  costUsd: 0,
  ...rest,
});

/** Validate a candidate config with its node's own schema; issues as JSON pointers under /config. */
export function checkCandidate(
  nodeType: GraduationNodeType,
  config: unknown,
):
  { ok: true; config: Record<string, unknown> } | { ok: false; issues: { path: string; message: string }[] } {
  const parsed = getNode(nodeType)!.config.safeParse(config);
  if (parsed.success) return { ok: true, config: parsed.data as Record<string, unknown> };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({
      path: `/config${i.path.map((p) => `/${String(p)}`).join('')}`,
      message: i.message,
    })),
  };
}

type Evidence = { agreement: number; agreed: number; cases: number; failures: GraduationFailure[] };

/** Backtest a deterministic candidate over the cases with the exact scorer; failures grouped by type. */
async function backtestWith(
  args: Pick<CandidateBacktest, 'signal' | 'concurrency' | 'onCase'> & {
    cases: BacktestCase[];
    candidate: Candidate;
  },
): Promise<Evidence> {
  const results: BacktestCaseResult[] = [];
  await runBacktest({
    cases: args.cases,
    candidate: args.candidate,
    scorer: { kind: 'exact' },
    passScore: 1,
    deps: {},
    concurrency: args.concurrency ?? 4,
    // A deterministic candidate spends nothing; the budget only satisfies the runner.
    budget: new BacktestBudget(0.000001),
    signal: args.signal,
    onCase: (r) => {
      results.push(r);
      args.onCase?.(results.length);
    },
  });
  // A cancelled backtest is no evidence: the job ends cancelled, not with a partial agreement.
  args.signal.throwIfAborted();
  results.sort((a, b) => a.seq - b.seq);
  const agreed = results.filter((r) => r.agreed).length;
  const byType = new Map<string, GraduationFailure>();
  for (const r of results) {
    if (!r.failureType) continue;
    const f = byType.get(r.failureType) ?? { type: r.failureType, count: 0, examples: [] };
    f.count++;
    if (f.examples.length < GRADUATION_FAILURE_EXAMPLES)
      f.examples.push({
        runId: r.runId,
        input: r.input,
        expected: r.expected,
        actual: r.error ? { error: r.error } : r.actual,
      });
    byType.set(r.failureType, f);
  }
  return {
    agreement: results.length ? agreed / results.length : 0,
    agreed,
    cases: results.length,
    failures: [...byType.values()].sort((a, b) => b.count - a.count),
  };
}

/** What a graduation backtest replays with: the step, the sandbox, cancellation, progress. */
interface CandidateBacktest {
  node: WorkflowNode;
  sandbox: ProposeArgs['sandbox'];
  signal: AbortSignal;
  concurrency?: number;
  /** Cases backtested so far, after each one. */
  onCase?: (done: number) => void;
}

/**
 * Backtest a deterministic candidate step over the cases (sandbox only, exact scorer), in the
 * scope it would have once saved after `source` (its config bound with step-input.ts).
 */
export async function backtestCandidate(
  args: CandidateBacktest & {
    cases: BacktestCase[];
    nodeType: GraduationNodeType;
    config: Record<string, unknown>;
    source: string;
  },
): Promise<Evidence> {
  const node: WorkflowNode = {
    id: args.node.id,
    type: args.nodeType,
    position: args.node.position,
    config: args.config,
  };
  return backtestWith({
    ...args,
    candidate: stepCandidate({
      def: getNode(args.nodeType)!,
      node,
      sandbox: args.sandbox,
      source: args.source,
    }),
  });
}

/**
 * Backtest a chain over the step's agent-mode cases: every tool call answered from the trace
 * (same tool, same arguments) or refused not_recorded, the final output scored exactly against
 * the agent's recorded answer.
 */
export function backtestChain(
  args: CandidateBacktest & { cases: ChainCase[]; plan: ChainPlan },
): Promise<Evidence> {
  return backtestWith({
    ...args,
    candidate: chainCandidate({ plan: args.plan, node: args.node, render: args.sandbox.render }),
  });
}

/** The chain's nodes as the accepted version would hold them (for display and the check). */
export function chainProposal(
  definition: WorkflowDefinition,
  nodeId: string,
  plan: ChainPlan,
  detected: { sequence: string[]; sameSequence: number },
): ChainProposal {
  const applied = applyChain(definition, nodeId, plan);
  return {
    ...plan,
    ...detected,
    nodes: [...plan.calls.map((c) => c.id), nodeId].map((id) => applied.nodes.find((n) => n.id === id)!),
  };
}

/** Propose the agent's fixed sequence of tool calls as a chain of deterministic nodes. */
async function proposeChain(
  args: ProposeArgs & { chain: NonNullable<ProposeArgs['chain']> },
): Promise<Graduation> {
  const { cases, definition } = args.chain;
  const chainNone = (reason: NoProposalReason, message: string, rest: Partial<Graduation> = {}) =>
    none(reason, message, { kind: 'chain', cases: cases.length, ...rest });
  if (cases.length < GRADUATION_MIN_CASES)
    return chainNone(
      'too_few_cases',
      `${cases.length} recorded agent run(s); graduation needs at least ${GRADUATION_MIN_CASES}`,
    );
  const derived = deriveChain({ cases, node: args.node, definition });
  if (!derived.ok) return chainNone(derived.reason, derived.message);
  const chain = chainProposal(definition, args.node.id, derived.value, derived);
  args.onProgress?.({ phase: 'backtest', done: 0 });
  const bt = await backtestChain({
    cases,
    plan: derived.value,
    node: args.node,
    sandbox: args.sandbox,
    signal: args.signal,
    ...(args.concurrency ? { concurrency: args.concurrency } : {}),
    onCase: (done) => args.onProgress?.({ phase: 'backtest', done }),
  });
  const result = { ...bt, kind: 'chain' as const, chain };
  if (bt.agreement < GRADUATION_MIN_AGREEMENT)
    return chainNone(
      'below_threshold',
      `The chain (${derived.sequence.join(' → ')}) reproduces ${bt.agreed} of ${bt.cases} cases (${pct(bt.agreement)}), below ${pct(GRADUATION_MIN_AGREEMENT)}`,
      result,
    );
  return {
    proposed: true,
    reason: null,
    message: null,
    nodeType: null,
    config: null,
    threshold: GRADUATION_MIN_AGREEMENT,
    tokens: 0,
    costUsd: 0,
    ...result,
  };
}

/** Ask the model for a deterministic step, validate and backtest it; propose it only above the threshold. */
export async function proposeGraduation(args: ProposeArgs): Promise<Graduation> {
  if (args.chain?.cases.some((c) => c.calls.length > 0)) return proposeChain({ ...args, chain: args.chain });
  if (args.cases.length < GRADUATION_MIN_CASES)
    return none(
      'too_few_cases',
      `${args.cases.length} recorded case(s); graduation needs at least ${GRADUATION_MIN_CASES}`,
      { cases: args.cases.length },
    );
  const { source } = args;
  if (source === null)
    return none(
      'not_single_input',
      `Step ${args.node.id} does not have exactly one upstream step, so its input has no one place a saved step could read it from`,
      { cases: args.cases.length },
    );
  args.onProgress?.({ phase: 'model', done: 0 });
  const res = await args.chat({
    ...(args.model ? { model: args.model } : {}),
    system: GRADUATION_SYSTEM,
    prompt: graduationPrompt(args.cases),
    temperature: 0,
    jsonSchema: ANSWER_JSON_SCHEMA,
    maxTokens: GRADUATION_MAX_TOKENS,
    signal: args.signal,
  });
  const spend = { tokens: res.tokens ?? 0, costUsd: res.cost ?? 0, cases: args.cases.length };
  const json = parseModelJson(res.text);
  const answer = json.ok ? graduationAnswerSchema.safeParse(json.value) : null;
  if (!answer?.success)
    return none(
      'invalid_answer',
      `The model did not answer { nodeType, config }: ${res.text.slice(0, 200)}`,
      spend,
    );
  const { nodeType } = answer.data;
  const checked = checkCandidate(nodeType, answer.data.config);
  if (!checked.ok)
    return none(
      'invalid_config',
      `The proposed ${nodeType} config is invalid: ${checked.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      { ...spend, nodeType, config: answer.data.config },
    );
  // The model read `input` as the step's input; a saved step reads it as the run's (step-input.ts).
  const config = bindStepInput(nodeType, checked.config, source);
  args.onProgress?.({ phase: 'backtest', done: 0 });
  const bt = await backtestCandidate({
    cases: args.cases,
    nodeType,
    config,
    source,
    node: args.node,
    sandbox: args.sandbox,
    signal: args.signal,
    ...(args.concurrency ? { concurrency: args.concurrency } : {}),
    onCase: (done) => args.onProgress?.({ phase: 'backtest', done }),
  });
  const result = { ...spend, ...bt, nodeType, config };
  if (bt.agreement < GRADUATION_MIN_AGREEMENT)
    return none(
      'below_threshold',
      `The proposed ${nodeType} step reproduces ${bt.agreed} of ${bt.cases} cases (${pct(bt.agreement)}), below ${pct(GRADUATION_MIN_AGREEMENT)}`,
      result,
    );
  return {
    proposed: true,
    kind: 'step',
    reason: null,
    message: null,
    chain: null,
    threshold: GRADUATION_MIN_AGREEMENT,
    ...result,
  };
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
