// Agent loop limits beyond the per-step settings (maxSteps, maxTokens, timeoutMs).

/** Invalid or failing tool calls tolerated in one agent run before it falls back with tool_error. */
export const MAX_TOOL_ERRORS = 3;
/** Repair turns after an answer that fails the output schema (DESIGN.md §3: one). */
export const MAX_REPAIR_TURNS = 1;
/** Tool results are cut to this many characters before going back to the model. */
export const MAX_TOOL_RESULT_CHARS = 16_000;
/** Response cap for the agent's `http` tool. */
export const AGENT_HTTP_MAX_BYTES = 1024 * 1024;
/** Completion tokens one model call may produce (sent as max_tokens; the cost reservation's bound). */
export const MAX_COMPLETION_TOKENS = 4096;
