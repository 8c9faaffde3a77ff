// The GenAI semantic-convention names Trellis emits, copied from the incubating entry of
// @opentelemetry/semantic-conventions 1.45.0 (the package's advice: incubating names may change in
// a minor release, so instrumentations copy the ones they use). The GenAI conventions are still
// "Development"; docs/telemetry.md pins this version. Stable names (error.type, service.*) too.

export const SEMCONV_VERSION = '1.45.0';

export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_SERVICE_VERSION = 'service.version';

export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_WORKFLOW_NAME = 'gen_ai.workflow.name';
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result';
export const ATTR_GEN_AI_EVALUATION_NAME = 'gen_ai.evaluation.name';
export const ATTR_GEN_AI_EVALUATION_SCORE_VALUE = 'gen_ai.evaluation.score.value';
export const ATTR_GEN_AI_EVALUATION_SCORE_LABEL = 'gen_ai.evaluation.score.label';
export const ATTR_GEN_AI_EVALUATION_EXPLANATION = 'gen_ai.evaluation.explanation';
export const EVENT_GEN_AI_EVALUATION_RESULT = 'gen_ai.evaluation.result';

export const OP_INVOKE_WORKFLOW = 'invoke_workflow';
export const OP_INVOKE_AGENT = 'invoke_agent';
export const OP_CHAT = 'chat';
export const OP_EXECUTE_TOOL = 'execute_tool';

/** Every model endpoint Trellis talks to speaks the OpenAI chat-completions API. */
export const PROVIDER_OPENAI = 'openai';

// Trellis' own attributes (not GenAI conventions): namespaced so they never collide.
export const ATTR_RUN_ID = 'trellis.run.id';
export const ATTR_RUN_TRIGGER = 'trellis.run.trigger';
export const ATTR_RUN_RESUMED = 'trellis.run.resumed';
export const ATTR_RUN_STATUS = 'trellis.run.status';
export const ATTR_WORKFLOW_ID = 'trellis.workflow.id';
export const ATTR_WORKFLOW_VERSION = 'trellis.workflow.version';
export const ATTR_STEP_ID = 'trellis.step.id';
export const ATTR_NODE_ID = 'trellis.node.id';
export const ATTR_NODE_TYPE = 'trellis.node.type';
export const ATTR_STEP_MODE = 'trellis.step.mode';
export const ATTR_STEP_ATTEMPT = 'trellis.step.attempt';
export const ATTR_STEP_STATUS = 'trellis.step.status';
export const ATTR_STEP_HANDLE = 'trellis.step.handle';
export const ATTR_STEP_ITEM_INDEX = 'trellis.step.item_index';
export const ATTR_STEP_PARENT_NODE_ID = 'trellis.step.parent_node_id';
export const ATTR_STEP_FALLBACK_REASON = 'trellis.step.fallback_reason';
export const ATTR_BACKOFF_DELAY_MS = 'trellis.retry.backoff_ms';
