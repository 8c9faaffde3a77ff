import { z } from 'zod';
import { agentSettingsSchema } from '@/lib/workflow/definition';
import { analyzeFunctionBody } from '@/lib/workflow/expressions';

// The public shapes of a backtest (issue 16 §1, §7): what a caller asks for and what one case
// records. One zod source for the API's validation, the OpenAPI document and the CLI.

/** Cases one backtest may replay (the last N recorded runs of the step). */
export const MAX_BACKTEST_CASES = 1000;
export const DEFAULT_BACKTEST_CASES = 100;
/** Cases replayed at once. */
export const MAX_BACKTEST_CONCURRENCY = 16;
export const DEFAULT_BACKTEST_CONCURRENCY = 4;
/** Model spend one backtest may reach, in USD; past it the backtest stops as `budget_exceeded`. */
export const DEFAULT_BACKTEST_BUDGET_USD = 5;
export const MAX_BACKTEST_BUDGET_USD = 1000;
/** Size of a `code` scorer's function body. */
export const MAX_SCORER_CODE_CHARS = 20_000;
/** Fields one `fields` scorer may name. */
export const MAX_SCORER_FIELDS = 100;
/** Cases one page of `GET …/backtests/:bid/cases` returns at most. */
export const MAX_CASES_PAGE = 200;
export const DEFAULT_CASES_PAGE = 50;

const jsonPointer = z
  .string()
  .regex(/^(\/([^~/]|~[01])*)+$/, 'a JSON pointer such as /label or /address/city');

export const scorerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('exact') }).strict(),
  z
    .object({
      kind: z.literal('fields'),
      /** JSON pointers into the output; the score is the share of them that are equal. */
      fields: z.array(jsonPointer).min(1).max(MAX_SCORER_FIELDS),
    })
    .strict(),
  z
    .object({
      kind: z.literal('numeric'),
      /** Numbers agree when |expected − actual| ≤ tolerance (× |expected| when relative). */
      tolerance: z.number().min(0),
      relative: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      kind: z.literal('code'),
      /** A function body over `expected`, `actual`, `input` returning a number 0..1 (sandboxed). */
      code: z
        .string()
        .min(1)
        .max(MAX_SCORER_CODE_CHARS)
        // Parsed when the backtest is asked for, so a typo is a 400 at /scorer/code, not 1,000 failed cases.
        .superRefine((code, ctx) => {
          for (const issue of analyzeFunctionBody(code).issues)
            ctx.addIssue({
              code: 'custom',
              message: `syntax error at character ${issue.offset}: ${issue.message}`,
            });
        }),
    })
    .strict(),
  z
    .object({
      kind: z.literal('llm_judge'),
      criteria: z.string().max(4000).optional(),
      model: z.string().min(1).optional(),
    })
    .strict(),
]);
export type ScorerSpec = z.infer<typeof scorerSchema>;

const agentShape = agentSettingsSchema.shape;
/**
 * Agent settings laid over the node's own; only what is given changes (no defaults here, or an
 * override of the model alone would reset the instructions and tools).
 */
export const agentOverrideSchema = z
  .object({
    instructions: agentShape.instructions.unwrap().optional(),
    tools: agentShape.tools.unwrap().optional(),
    maxSteps: agentShape.maxSteps.unwrap().optional(),
    maxTokens: agentShape.maxTokens.unwrap().optional(),
    timeoutMs: agentShape.timeoutMs.unwrap().optional(),
    model: agentShape.model,
    allowHosts: agentShape.allowHosts,
  })
  .strict();

export const TOOL_POLICIES = ['refuse', 'read_only'] as const;
export type ToolPolicy = (typeof TOOL_POLICIES)[number];

export const runFilterSchema = z
  .object({
    /** The last N runs that recorded the step (newest first). */
    limit: z.number().int().min(1).max(MAX_BACKTEST_CASES).default(DEFAULT_BACKTEST_CASES),
    /** Only runs of these workflow versions. */
    versions: z.array(z.number().int().min(1)).min(1).max(1000).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** Run statuses to include (the step itself always succeeded: its output is the label). */
    status: z
      .array(z.enum(['succeeded', 'failed', 'cancelled']))
      .min(1)
      .optional(),
  })
  .strict();
export type RunFilter = z.infer<typeof runFilterSchema>;

export const backtestRequestSchema = z
  .object({
    nodeId: z.string().min(1).max(200),
    /** Workflow version whose node (agent settings) is replayed; default the latest. */
    version: z.number().int().min(1).optional(),
    /** Agent settings laid over the node's own (another instruction or model to compare). */
    agent: agentOverrideSchema.optional(),
    runs: runFilterSchema.default({ limit: DEFAULT_BACKTEST_CASES }),
    scorer: scorerSchema.default({ kind: 'exact' }),
    /** A case agrees when its score reaches this. */
    passScore: z.number().min(0).max(1).default(1),
    /** Tool calls without a recording: refused (`refuse`), or read-only tools really run (`read_only`). */
    tools: z.enum(TOOL_POLICIES).default('refuse'),
    concurrency: z.number().int().min(1).max(MAX_BACKTEST_CONCURRENCY).default(DEFAULT_BACKTEST_CONCURRENCY),
    budgetUsd: z.number().positive().max(MAX_BACKTEST_BUDGET_USD).default(DEFAULT_BACKTEST_BUDGET_USD),
  })
  .strict()
  .refine((r) => !r.runs.from || !r.runs.to || r.runs.from <= r.runs.to, {
    message: 'from must not be after to',
    path: ['runs', 'to'],
  });
export type BacktestRequest = z.infer<typeof backtestRequestSchema>;
export type BacktestRequestInput = z.input<typeof backtestRequestSchema>;

export const BACKTEST_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'budget_exceeded',
] as const;
export type BacktestStatus = (typeof BACKTEST_STATUSES)[number];
export const FINAL_BACKTEST_STATUSES: readonly BacktestStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'budget_exceeded',
];

/** How one replayed case ended: the agent answered, fell back (with a reason), or could not run. */
export type CaseOutcome = 'ok' | 'fallback' | 'error';

/** One replayed case as stored (BacktestCase). */
export interface BacktestCaseResult {
  seq: number;
  /** The recorded run and step the case came from. */
  runId: string;
  stepId: string;
  runVersion: number | null;
  input: unknown;
  /** The deterministic output recorded in the same run: the free label. */
  expected: unknown;
  actual: unknown;
  outcome: CaseOutcome;
  score: number;
  agreed: boolean;
  fallbackReason: string | null;
  /** JSON pointers where expected and actual differ (empty when equal or no answer). */
  diffPaths: string[];
  /** Failure type key: `diff:<paths>`, `fallback:<reason>`, `error:<code>`; null when agreed. */
  failureType: string | null;
  tokens: number;
  cost: number;
  /** Wall time of the case (agent loop and scoring). */
  latencyMs: number;
  /** Time spent waiting for the model (sum of its responses' latency). */
  modelMs: number;
  /** Deterministic step's recorded duration, for the latency comparison. */
  deterministicMs: number | null;
  /** Deterministic step's recorded cost, when its row was its own (workflow mode). */
  deterministicCost: number | null;
  /** Model calls (agent turns that asked the model). */
  turns: number;
  /** Tool calls refused because nothing was recorded for them. */
  refusedCalls: number;
  error: { code: string; message: string } | null;
}
