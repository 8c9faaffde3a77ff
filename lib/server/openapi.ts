import { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import { definitionSchema } from '@/lib/workflow/definition';
import { ERROR_CODES } from '@/lib/workflow/errors';
import { SESSION_COOKIE } from '@/lib/auth/authenticate';
import { secretBody } from '@/lib/server/secrets';
import { credentials, setupBody, tokenBody } from './auth';
import { WEBHOOK_SECRET_HEADER } from './hooks';
import { actionBody, reportQuery } from './promotion';
import { casesQuery, compareQuery, listQuery as backtestListQuery } from './backtests';
import { backtestRequestSchema, BACKTEST_STATUSES } from '@/lib/promotion/spec';
import { eventsQuery, killBody, rolloutBody, rolloutQuery } from './rollout-api';
import { acceptGraduationBody, graduationBody } from './graduation';
import { GRADUATION_PHASES, GRADUATION_STATUSES } from '@/lib/promotion/graduation-store';
import { approvalBody, listQuery, rerunBody, runQuery, startBody, stepsQuery } from './runs';
import { putPricesBody } from './settings';
import { VERSION } from './version';
import { createBody, patchBody, saveBody } from './workflows';
import { modelEndpointBody } from './model-endpoint';
import { acceptBody } from './browser-steps';

// The OpenAPI 3.1 document of the whole HTTP API (GET /api/openapi.json, docs/openapi.json).
// Request bodies and query strings are the zod schemas the handlers parse with (imported from
// them, so the document cannot drift from what is enforced); responses are described here with
// zod. Every route file under app/api must have its methods here: openapi.test.ts enumerates them.

// ---- shared shapes --------------------------------------------------------------------------

const errorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z
        .unknown()
        .optional()
        .meta({ description: 'validation_error: `{ problems: [{ path (JSON pointer), code, message }] }`' }),
    }),
  })
  .meta({ id: 'Error', description: 'Every error answer (4xx/5xx) has this shape.' });

const problem = z
  .object({ path: z.string(), code: z.string(), message: z.string(), nodeId: z.string().optional() })
  .loose()
  .meta({ id: 'Problem' });
const validation = z
  .object({ valid: z.boolean(), problems: z.array(problem) })
  .meta({ id: 'ValidationResult' });

const isoDate = z.string().meta({ format: 'date-time' });
const runStatus = z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled']);
const serializedError = z
  .object({ code: z.string(), message: z.string(), details: z.unknown().optional() })
  .loose()
  .meta({ id: 'SerializedError' });

const runSummary = z
  .object({
    id: z.string(),
    workflowId: z.string().nullable(),
    workflowVersionId: z.string().nullable(),
    version: z.number().int().nullable(),
    status: runStatus,
    trigger: z.string(),
    parentRunId: z.string().nullable(),
    parentStepId: z.string().nullable(),
    createdAt: isoDate,
    startedAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
    durationMs: z.number().nullable(),
    stepCount: z.number().int(),
    tokens: z.number().int(),
    cost: z.number(),
    workflow: z.object({ name: z.string() }).nullable(),
    workflowVersion: z
      .object({ note: z.string().nullable() })
      .nullable()
      .describe('The version note: why the system wrote it (automatic rollback, kill switch, stage change)'),
  })
  .loose()
  .meta({ id: 'RunSummary' });

const run = runSummary
  .extend({ input: z.unknown(), output: z.unknown(), error: serializedError.nullable() })
  .meta({ id: 'Run' });

const stepSummary = z
  .object({
    id: z.string(),
    runId: z.string(),
    nodeId: z.string(),
    nodeType: z.string(),
    parentNodeId: z.string().nullable(),
    itemIndex: z.number().int().nullable(),
    attempt: z.number().int(),
    mode: z.enum(['workflow', 'agent', 'fallback', 'shadow']),
    status: z.enum(['running', 'succeeded', 'failed', 'skipped', 'waiting', 'cancelled']),
    handle: z.string().nullable(),
    fallbackReason: z.string().nullable(),
    startedAt: isoDate,
    finishedAt: isoDate.nullable(),
    durationMs: z.number().nullable(),
    tokens: z.number().int(),
    cost: z.number(),
  })
  .loose()
  .meta({ id: 'StepSummary' });

const step = stepSummary
  .extend({
    input: z.unknown(),
    output: z.unknown(),
    error: serializedError.nullable(),
    shadowOutput: z.unknown().optional(),
  })
  .meta({ id: 'Step' });

const agentTurn = z
  .object({
    seq: z.number().int(),
    kind: z.enum(['request', 'response', 'tool_call', 'tool_result', 'validation_error', 'note']),
    payload: z.unknown(),
    tokens: z.number().int().optional(),
    latencyMs: z.number().optional(),
    cost: z.number().optional(),
  })
  .loose()
  .meta({ id: 'AgentTurn' });

const runView = z
  .object({ run, steps: z.array(stepSummary), stepsCursor: z.string().nullable().optional() })
  .meta({ id: 'RunView' });

const workflowSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    latestVersion: z.number().int(),
    enabled: z.boolean(),
    description: z.string().nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
    lastRun: z.object({ id: z.string(), status: runStatus, createdAt: isoDate }).nullable(),
  })
  .loose()
  .meta({ id: 'WorkflowSummary' });

const webhookInfo = z
  .object({ url: z.string(), header: z.literal(WEBHOOK_SECRET_HEADER), secret: z.string() })
  .meta({ id: 'WebhookInfo' });

const definition = definitionSchema.meta({ id: 'WorkflowDefinition' });

const workflow = z
  .object({
    id: z.string(),
    versionId: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    version: z.number().int(),
    definition,
    createdAt: isoDate,
    updatedAt: isoDate,
    versionCreatedAt: isoDate,
    webhook: webhookInfo.optional().meta({ description: 'Present when the workflow has a webhook trigger' }),
  })
  .loose()
  .meta({ id: 'Workflow' });

const savedWorkflow = z
  .object({ id: z.string(), version: z.number().int(), problems: z.array(problem) })
  .loose()
  .meta({ id: 'SavedWorkflow' });

const ok = z.object({ ok: z.boolean() }).meta({ id: 'Ok' });
const runAccepted = z.object({ runId: z.string() }).meta({ id: 'RunAccepted' });
const anyJson = z.unknown();
const setupState = z.object({ setupRequired: z.boolean(), setupTokenRequired: z.boolean() });
const user = z.object({ user: z.object({ id: z.string(), email: z.string() }) }).loose();
const apiToken = z.object({ id: z.string(), name: z.string(), createdAt: isoDate }).loose();

// Definition bodies are parsed as unknown by the routes (validate() then names every problem by
// JSON pointer); the document shows what a valid one looks like.
const workflowBody = (s: typeof saveBody | typeof createBody) => s.extend({ definition });

// ---- operations -------------------------------------------------------------------------------

type Auth = 'session' | 'public' | 'webhook';

const jsonContent = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

interface Op {
  summary: string;
  tag: string;
  auth?: Auth;
  path?: z.ZodObject;
  query?: z.ZodObject;
  header?: z.ZodObject;
  body?: z.ZodType;
  /** Status → schema (JSON) or a description of a non-JSON answer. */
  responses: Record<number, z.ZodType | { description: string; mediaType: string }>;
  description?: string;
}

const id = z.object({ id: z.string() });
const backtestPath = z.object({ id: z.string(), bid: z.string() });
const backtest = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    nodeId: z.string(),
    version: z.number().int(),
    status: z.enum(BACKTEST_STATUSES),
    request: z.object({}).loose(),
    progress: z.object({ total: z.number().int(), done: z.number().int() }),
    agreed: z.number().int(),
    tokens: z.number().int(),
    costUsd: z.number(),
    cancelRequested: z.boolean(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    createdAt: isoDate,
    startedAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
  })
  .meta({ id: 'Backtest' });
const graduationPath = z.object({ id: z.string(), nodeId: z.string(), gid: z.string() });
const graduation = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    nodeId: z.string(),
    version: z.number().int(),
    status: z.enum(GRADUATION_STATUSES),
    phase: z.enum(GRADUATION_PHASES),
    request: z.object({}).loose(),
    progress: z.object({ total: z.number().int(), done: z.number().int() }),
    /** The Graduation (docs/api.md#graduation); null until the job succeeded. */
    proposal: z.object({}).loose().nullable(),
    cancelRequested: z.boolean(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    createdAt: isoDate,
    startedAt: isoDate.nullable(),
    finishedAt: isoDate.nullable(),
  })
  .meta({ id: 'GraduationProposal' });
const backtestReport = z
  .object({
    cases: z.number().int(),
    agreed: z.number().int(),
    agreement: z.number().nullable(),
    failureTypes: z.array(
      z
        .object({
          key: z.string(),
          kind: z.enum(['diff', 'fallback', 'error']),
          count: z.number().int(),
          cases: z.array(z.object({ seq: z.number().int(), runId: z.string(), stepId: z.string() })),
        })
        .loose(),
    ),
  })
  .loose()
  .meta({ id: 'BacktestReport', description: 'docs/api.md#backtests lists every field.' });
const backtestCase = z
  .object({
    seq: z.number().int(),
    runId: z.string(),
    stepId: z.string(),
    input: z.unknown(),
    expected: z.unknown(),
    actual: z.unknown(),
    outcome: z.enum(['ok', 'fallback', 'error']),
    score: z.number(),
    agreed: z.boolean(),
    fallbackReason: z.string().nullable(),
    diffPaths: z.array(z.string()),
    failureType: z.string().nullable(),
  })
  .loose()
  .meta({ id: 'BacktestCase' });

const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted: the run continues; follow it by its id',
  '409': 'Conflict',
  '401': 'Not authenticated',
};

function operation(op: Op): ZodOpenApiOperationObject {
  const auth = op.auth ?? 'session';
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    responses[status] =
      'mediaType' in r
        ? r.mediaType === 'none'
          ? { description: r.description }
          : { description: r.description, content: { [r.mediaType]: { schema: z.string() } } }
        : { description: STATUS_TEXT[status] ?? status, ...jsonContent(r as z.ZodType) };
  }
  if (op.body || op.query || op.path)
    responses['400'] = { description: 'Invalid input', ...jsonContent(errorBody) };
  if (auth !== 'public') responses['401'] = { description: 'Not authenticated', ...jsonContent(errorBody) };
  responses.default = { description: 'Any other error', ...jsonContent(errorBody) };
  return {
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security:
      auth === 'public'
        ? []
        : auth === 'webhook'
          ? [{ webhookSecret: [] }, { bearer: [] }]
          : [{ bearer: [] }, { cookie: [] }],
    ...(op.path || op.query || op.header
      ? {
          requestParams: {
            ...(op.path ? { path: op.path } : {}),
            ...(op.query ? { query: op.query } : {}),
            ...(op.header ? { header: op.header } : {}),
          },
        }
      : {}),
    ...(op.body ? { requestBody: { required: true, ...jsonContent(op.body) } } : {}),
    responses: responses as ZodOpenApiOperationObject['responses'],
  };
}

/** Every operation of the API by path and method: what the route files export. */
export const API_OPERATIONS: Record<
  string,
  Partial<Record<'get' | 'post' | 'put' | 'patch' | 'delete', Op>>
> = {
  '/api/health': {
    get: {
      summary: 'Liveness, database kind, queue and telemetry export counters',
      tag: 'System',
      auth: 'public',
      responses: {
        200: z
          .object({
            ok: z.boolean(),
            db: z.enum(['embedded', 'postgres']),
            version: z.string(),
            telemetry: z.object({
              enabled: z.boolean(),
              exported: z.number().int(),
              dropped: z.number().int(),
              failed: z.number().int(),
            }),
          })
          .loose(),
      },
    },
  },
  '/api/openapi.json': {
    get: {
      summary: 'This document',
      tag: 'System',
      auth: 'public',
      responses: { 200: z.record(z.string(), z.unknown()) },
    },
  },
  '/api/docs': {
    get: {
      summary: 'This document as a readable HTML reference (self-contained, no CDN)',
      tag: 'System',
      auth: 'public',
      responses: { 200: { description: 'An HTML page', mediaType: 'text/html' } },
    },
  },
  '/api/auth/setup': {
    get: {
      summary: 'Whether the first user still has to be created',
      tag: 'Auth',
      auth: 'public',
      responses: { 200: setupState },
    },
    post: {
      summary: 'Create the first (owner) user; sets the session cookie',
      tag: 'Auth',
      auth: 'public',
      body: setupBody,
      responses: { 201: user },
    },
  },
  '/api/auth/login': {
    post: {
      summary: 'Log in; sets the session cookie',
      tag: 'Auth',
      auth: 'public',
      body: credentials,
      responses: { 200: user },
    },
  },
  '/api/auth/logout': {
    post: { summary: 'Log out (clears the cookie)', tag: 'Auth', auth: 'public', responses: { 200: ok } },
  },
  '/api/auth/me': {
    get: {
      summary: 'The signed-in user, if any',
      tag: 'Auth',
      auth: 'public',
      description: 'Signed out: 401 with the error and the setup state (setupRequired, setupTokenRequired).',
      responses: {
        200: z
          .object({
            authenticated: z.literal(true),
            kind: z.string(),
            user: z.object({ email: z.string() }).nullable(),
          })
          .loose(),
        401: errorBody.extend(setupState.shape),
      },
    },
  },
  '/api/tokens': {
    get: {
      summary: 'API tokens (never their values)',
      tag: 'Auth',
      responses: { 200: z.object({ tokens: z.array(apiToken) }) },
    },
    post: {
      summary: 'Create an API token; the value is shown once',
      tag: 'Auth',
      body: tokenBody,
      responses: { 201: apiToken.extend({ token: z.string() }) },
    },
  },
  '/api/tokens/{id}': {
    delete: { summary: 'Revoke an API token', tag: 'Auth', path: id, responses: { 200: ok } },
  },
  '/api/workflows': {
    get: {
      summary: 'Saved workflows, most recently changed first',
      tag: 'Workflows',
      responses: { 200: z.object({ workflows: z.array(workflowSummary) }) },
    },
    post: {
      summary: 'Create a workflow (version 1)',
      tag: 'Workflows',
      body: workflowBody(createBody),
      responses: { 201: savedWorkflow },
    },
  },
  '/api/workflows/{id}': {
    get: {
      summary: 'A workflow with its latest definition',
      description: 'The ETag header is the latest version (`"3"`): send it back as If-Match when saving.',
      tag: 'Workflows',
      path: id,
      responses: { 200: workflow },
    },
    put: {
      summary: 'Save a new version',
      tag: 'Workflows',
      path: id,
      header: z.object({
        'if-match': z
          .string()
          .optional()
          .meta({ description: 'The ETag from GET (e.g. `"3"`): the same as `baseVersion` in the body' }),
      }),
      body: workflowBody(saveBody),
      description:
        'With `baseVersion` (or If-Match) the save writes only while that is still the latest version, else answers 409 `version_conflict` with `details.currentVersion` and its `note`, writing nothing. Without either, the save always writes (last write wins). The answer carries the new ETag.',
      responses: { 200: savedWorkflow, 409: errorBody },
    },
    patch: {
      summary: 'Enable or disable a workflow (disabling cancels its queued runs)',
      tag: 'Workflows',
      path: id,
      body: patchBody,
      responses: {
        200: z.object({ id: z.string(), enabled: z.boolean(), cancelledRuns: z.number().int() }),
      },
    },
    delete: {
      summary: 'Delete a workflow',
      tag: 'Workflows',
      path: id,
      responses: { 204: { description: 'Deleted (no body)', mediaType: 'none' } },
    },
  },
  '/api/workflows/{id}/nodes/{nodeId}/browser-actions': {
    post: {
      summary:
        "Accept a browser step's recorded (or healed) actions as its new deterministic actions: a new version",
      tag: 'Workflows',
      path: z.object({ id: z.string(), nodeId: z.string() }),
      body: acceptBody,
      responses: {
        200: z.object({
          id: z.string(),
          version: z.number().int(),
          healed: z.boolean(),
          actions: z.number().int(),
        }),
      },
    },
  },
  '/api/workflows/{id}/versions': {
    get: {
      summary: 'Versions of a workflow',
      tag: 'Workflows',
      path: id,
      responses: {
        200: z.object({
          versions: z.array(
            z.object({ id: z.string(), version: z.number().int(), createdAt: isoDate }).loose(),
          ),
        }),
      },
    },
  },
  '/api/workflows/{id}/versions/{n}': {
    get: {
      summary: 'One version of a workflow',
      tag: 'Workflows',
      path: z.object({ id: z.string(), n: z.string().regex(/^\d+$/) }),
      responses: { 200: z.object({ version: z.number().int(), definition }).loose() },
    },
  },
  '/api/workflows/{id}/runs': {
    post: {
      summary: 'Start a run',
      description:
        "A W3C `traceparent` header is continued by the run's OpenTelemetry spans. With `wait: true` the finished run is returned (200) if it ends within 60 s, else 202.",
      tag: 'Runs',
      path: id,
      body: startBody,
      responses: { 200: runView, 202: runAccepted },
    },
  },
  '/api/workflows/{id}/promotion': {
    get: {
      summary: 'Agent promotion report per agent-capable step',
      tag: 'Workflows',
      path: id,
      query: reportQuery,
      responses: { 200: z.object({}).loose() },
    },
    post: {
      summary: 'Promote, demote or shadow a step (saves a new version)',
      tag: 'Workflows',
      path: id,
      body: actionBody,
      responses: { 200: z.object({}).loose() },
    },
  },
  '/api/workflows/{id}/backtests': {
    get: {
      summary: 'Backtests of this workflow, newest first',
      tag: 'Backtests',
      path: id,
      query: backtestListQuery,
      responses: { 200: z.object({ backtests: z.array(backtest) }) },
    },
    post: {
      summary: "Replay a step's agent mode over its recorded runs (queued; poll GET …/backtests/{bid})",
      tag: 'Backtests',
      path: id,
      body: backtestRequestSchema,
      responses: { 202: z.object({ backtest }) },
    },
  },
  '/api/workflows/{id}/backtests/{bid}': {
    get: {
      summary: 'A backtest with its progress and report (agreement, latency, cost, failure types)',
      tag: 'Backtests',
      path: backtestPath,
      responses: { 200: z.object({ backtest, report: backtestReport }) },
    },
  },
  '/api/workflows/{id}/backtests/{bid}/cases': {
    get: {
      summary: 'Cases of a backtest in order, cursor-paginated; filter by failureType or agreed',
      tag: 'Backtests',
      path: backtestPath,
      query: casesQuery,
      responses: { 200: z.object({ items: z.array(backtestCase), nextCursor: z.string().nullable() }) },
    },
  },
  '/api/workflows/{id}/backtests/{bid}/cancel': {
    post: {
      summary: 'Cancel a queued or running backtest (409 once it ended)',
      tag: 'Backtests',
      path: backtestPath,
      responses: { 200: z.object({ backtest }) },
    },
  },
  '/api/workflows/{id}/backtests/compare': {
    get: {
      summary: 'Two backtests of this workflow side by side (cases matched by recorded step)',
      tag: 'Backtests',
      path: id,
      query: compareQuery,
      responses: {
        200: z.object({
          a: z.object({ backtest, report: backtestReport }),
          b: z.object({ backtest, report: backtestReport }),
          comparison: z.object({}).loose(),
        }),
      },
    },
  },
  '/api/workflows/{id}/rollout': {
    get: {
      summary: 'Rollout stage, gates and their live verdict per agent-capable step',
      tag: 'Workflows',
      path: id,
      query: rolloutQuery,
      responses: { 200: z.object({}).loose() },
    },
    put: {
      summary: "Change a step's rollout stage, gates or auto-advance (saves a new version)",
      description:
        'Moving to canary or agent while the gates do not pass is 409 (details.reason gates_not_passing) unless `confirm: true`.',
      tag: 'Workflows',
      path: id,
      body: rolloutBody,
      responses: { 200: z.object({}).loose() },
    },
  },
  '/api/workflows/{id}/rollout/kill': {
    post: {
      summary: 'Kill switch: every agent step of the workflow back to workflow mode, in one version',
      tag: 'Workflows',
      path: id,
      body: killBody,
      responses: { 200: z.object({}).loose() },
    },
  },
  '/api/workflows/{id}/rollout/events': {
    get: {
      summary: 'Rollout activity log (stage changes, gate edits, rollbacks, kill switches), newest first',
      tag: 'Workflows',
      path: id,
      query: eventsQuery,
      responses: { 200: z.object({}).loose() },
    },
  },
  '/api/workflows/{id}/nodes/{nodeId}/graduation': {
    post: {
      summary:
        'Queue a graduation proposal: the model writes a deterministic (code/transform) step from the recorded cases, then it is backtested over them (poll GET …/graduation/{gid}); saves nothing',
      description:
        'The step is checked at once (400 /version, 404 unknown node, 422 not agent-capable or branching); the model call and the backtest run as a queued job, cancellable. When it succeeded, `proposal.proposed` is true only if the candidate reproduces at least `threshold` of the cases exactly; otherwise `proposal.reason` says why (too_few_cases, invalid_answer, invalid_config, below_threshold) with the agreement and failures.',
      tag: 'Workflows',
      path: z.object({ id: z.string(), nodeId: z.string() }),
      body: graduationBody,
      responses: { 202: z.object({ graduation }) },
    },
  },
  '/api/workflows/{id}/nodes/{nodeId}/graduation/{gid}': {
    get: {
      summary:
        'A graduation proposal: status, phase (model, backtest), progress and, once it ended, the proposal',
      tag: 'Workflows',
      path: graduationPath,
      responses: { 200: z.object({ graduation }) },
    },
  },
  '/api/workflows/{id}/nodes/{nodeId}/graduation/{gid}/cancel': {
    post: {
      summary: 'Cancel a queued or running graduation proposal (409 once it ended)',
      tag: 'Workflows',
      path: graduationPath,
      responses: { 200: z.object({ graduation }) },
    },
  },
  '/api/workflows/{id}/nodes/{nodeId}/graduation/accept': {
    post: {
      summary:
        'Save a graduation: the step becomes the given code/transform step, or the proposed chain of tool nodes + transform, in workflow mode (a new version and a rollout event)',
      description:
        "A step: `nodeType` and `config`, checked with its node schema (400 with /config pointers). A chain: `chain` as the proposal has it (`source`, `calls`, `output`), checked against the base version (400 with /chain pointers: source, unknown tool, taken id, node configs). Either is backtested again; below the threshold it is 409 (details.reason below_threshold) unless `confirm: true`. With `baseVersion` (the proposal's `version`) or If-Match, a version written since is 409 version_conflict and nothing is written.",
      tag: 'Workflows',
      path: z.object({ id: z.string(), nodeId: z.string() }),
      body: acceptGraduationBody,
      responses: { 200: z.object({}).loose() },
    },
  },
  '/api/workflows/{id}/webhook/rotate': {
    post: {
      summary: 'Rotate the webhook secret',
      tag: 'Webhooks',
      path: id,
      responses: { 200: webhookInfo },
    },
  },
  '/api/hooks/{workflowId}': {
    post: {
      summary: 'Trigger a workflow by webhook',
      description: `Authenticated by the workflow's own secret in the \`${WEBHOOK_SECRET_HEADER}\` header (or as a Bearer token), never by an API token. The JSON body is the run input. A W3C \`traceparent\` header is continued.`,
      tag: 'Webhooks',
      auth: 'webhook',
      path: z.object({ workflowId: z.string() }),
      body: anyJson,
      responses: {
        200: z.object({ runId: z.string(), status: z.literal('succeeded'), output: z.unknown() }),
        202: runAccepted,
      },
    },
  },
  '/api/hooks/{workflowId}/{nodeId}': {
    post: {
      summary: 'Trigger one webhook trigger node of a workflow',
      description: `As POST /api/hooks/{workflowId}, for a workflow with several \`trigger.webhook\` nodes: only the named trigger fires. Same secret (\`${WEBHOOK_SECRET_HEADER}\`).`,
      tag: 'Webhooks',
      auth: 'webhook',
      path: z.object({ workflowId: z.string(), nodeId: z.string() }),
      body: anyJson,
      responses: {
        200: z.object({ runId: z.string(), status: z.literal('succeeded'), output: z.unknown() }),
        202: runAccepted,
      },
    },
  },
  '/api/runs': {
    get: {
      summary: 'Runs, newest first (keyset pagination)',
      tag: 'Runs',
      query: listQuery,
      responses: { 200: z.object({ runs: z.array(runSummary), nextCursor: z.string().nullable() }) },
    },
  },
  '/api/runs/{id}': {
    get: {
      summary: 'A run and its steps (the trace)',
      tag: 'Runs',
      path: id,
      query: runQuery,
      responses: { 200: runView },
    },
  },
  '/api/runs/{id}/steps': {
    get: {
      summary: 'Steps of a run, paginated',
      tag: 'Runs',
      path: id,
      query: stepsQuery,
      responses: {
        200: z.object({ steps: z.array(stepSummary), nextCursor: z.string().nullable() }).loose(),
      },
    },
  },
  '/api/runs/{id}/steps/{stepId}': {
    get: {
      summary: "One step's payloads and agent turns",
      tag: 'Runs',
      path: z.object({ id: z.string(), stepId: z.string() }),
      responses: {
        200: z.object({
          step,
          agentTurns: z.array(agentTurn),
          artifacts: z.array(
            z
              .object({
                id: z.string(),
                stepId: z.string(),
                kind: z.string(),
                mime: z.string(),
                size: z.number(),
              })
              .loose(),
          ),
        }),
      },
    },
  },
  '/api/runs/{id}/artifacts/{artifactId}': {
    get: {
      summary: "A step's stored file (a browser screenshot), as its own media type",
      tag: 'Runs',
      path: z.object({ id: z.string(), artifactId: z.string() }),
      responses: { 200: { description: 'The artifact bytes', mediaType: 'image/jpeg' } },
    },
  },
  '/api/runs/{id}/events': {
    get: {
      summary: 'Live run events (Server-Sent Events: snapshot, step, run)',
      tag: 'Runs',
      path: id,
      responses: { 200: { description: 'An SSE stream', mediaType: 'text/event-stream' } },
    },
  },
  '/api/runs/{id}/cancel': {
    post: { summary: 'Cancel a run', tag: 'Runs', path: id, responses: { 200: ok } },
  },
  '/api/runs/{id}/rerun': {
    post: {
      summary: 'Run again (optionally from a node, reusing the rest)',
      tag: 'Runs',
      path: id,
      body: rerunBody,
      responses: { 202: runAccepted.extend({ version: z.number().int().optional() }) },
    },
  },
  '/api/runs/{id}/approvals/{nodeId}': {
    post: {
      summary: 'Approve or reject a waiting approval step',
      tag: 'Runs',
      path: z.object({ id: z.string(), nodeId: z.string() }),
      body: approvalBody,
      responses: { 200: ok },
    },
  },
  '/api/secrets': {
    get: {
      summary: 'Secret names (never values)',
      tag: 'Secrets',
      responses: { 200: z.object({ secrets: z.array(z.object({ name: z.string() }).loose()) }) },
    },
    post: {
      summary: 'Create or replace a secret',
      tag: 'Secrets',
      body: secretBody,
      responses: {
        200: z.object({ name: z.string(), created: z.boolean() }),
        201: z.object({ name: z.string(), created: z.boolean() }),
      },
    },
  },
  '/api/secrets/{name}': {
    delete: {
      summary: 'Delete a secret',
      tag: 'Secrets',
      path: z.object({ name: z.string() }),
      responses: { 200: ok },
    },
  },
  '/api/settings': {
    get: {
      summary: 'Settings (model endpoint status, limits)',
      tag: 'Settings',
      responses: { 200: z.object({}).loose() },
    },
  },
  '/api/settings/model': {
    put: {
      summary:
        'Save the model endpoint, API key (stored encrypted) and default model; OPENAI_* in the environment still win',
      tag: 'Settings',
      body: modelEndpointBody,
      responses: { 200: z.object({ model: z.object({}).loose() }) },
    },
  },
  '/api/settings/model/test': {
    post: {
      summary: 'Test the model endpoint in force: list its models',
      tag: 'Settings',
      responses: {
        200: z
          .object({
            ok: z.boolean(),
            latencyMs: z.number().optional(),
            models: z.array(z.string()).optional(),
            error: z.string().optional(),
          })
          .loose(),
      },
    },
  },
  '/api/settings/model-prices': {
    get: { summary: 'The model price table', tag: 'Settings', responses: { 200: z.object({}).loose() } },
    put: {
      summary: 'Replace the model price table',
      tag: 'Settings',
      body: putPricesBody,
      responses: { 200: z.object({}).loose() },
    },
    delete: {
      summary: 'Back to the built-in prices',
      tag: 'Settings',
      responses: { 200: z.object({}).loose() },
    },
  },
  '/api/node-types': {
    get: {
      summary: 'Node types with their config JSON Schemas',
      tag: 'Definitions',
      responses: { 200: z.object({ nodeTypes: z.array(z.object({ type: z.string() }).loose()) }) },
    },
  },
  '/api/validate': {
    post: {
      summary: 'Validate a definition',
      tag: 'Definitions',
      body: definition,
      responses: { 200: validation },
    },
  },
  '/api/examples': {
    get: {
      summary: 'Bundled example workflows',
      tag: 'Definitions',
      responses: { 200: z.object({ examples: z.array(z.object({}).loose()) }) },
    },
  },
  '/api/import/n8n': {
    post: {
      summary: 'Convert an n8n workflow export to a Trellis definition (nothing is saved)',
      tag: 'Definitions',
      body: anyJson,
      responses: { 200: z.object({ definition, report: z.unknown(), problems: z.array(problem) }).loose() },
    },
  },
  '/api/import/serverless-workflow': {
    post: {
      summary:
        'Convert a Serverless Workflow document (JSON or YAML) to a Trellis definition (nothing is saved)',
      tag: 'Definitions',
      body: anyJson,
      responses: { 200: z.object({ definition, report: z.unknown(), problems: z.array(problem) }).loose() },
    },
  },
  '/api/demo/{path}': {
    get: {
      summary: 'Demo API the examples call (public, offline)',
      tag: 'Demo',
      auth: 'public',
      path: z.object({ path: z.string() }),
      responses: { 200: anyJson },
    },
    post: {
      summary: 'Demo API the examples call (public, offline)',
      tag: 'Demo',
      auth: 'public',
      path: z.object({ path: z.string() }),
      body: anyJson,
      responses: { 200: anyJson },
    },
  },
};

/** docs/openapi.json as `npm run openapi:json` writes it (openapi.test.ts fails when it is stale). */
export function renderOpenApiJson(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

let cached: ReturnType<typeof createDocument> | undefined;

/** The OpenAPI 3.1 document (built once per process). */
export function openApiDocument() {
  if (cached) return cached;
  const paths: ZodOpenApiPathsObject = {};
  for (const [p, methods] of Object.entries(API_OPERATIONS)) {
    paths[p] = Object.fromEntries(Object.entries(methods).map(([m, op]) => [m, operation(op)]));
  }
  cached = createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Trellis API',
        version: VERSION,
        description:
          'JSON over HTTP. Errors are `{ "error": { "code", "message", "details"? } }` with a 4xx/5xx status. Authenticate with an API token (`Authorization: Bearer …`) or the session cookie set by /api/auth/login (state-changing cookie requests need a same-origin `Origin`).',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token from POST /api/tokens' },
          cookie: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description: 'Session from /api/auth/login',
          },
          webhookSecret: {
            type: 'apiKey',
            in: 'header',
            name: WEBHOOK_SECRET_HEADER,
            description: "The workflow's webhook secret (GET /api/workflows/{id} → webhook.secret)",
          },
        },
      },
      paths,
    },
    { allowEmptySchema: { custom: true } },
  );
  return cached;
}
