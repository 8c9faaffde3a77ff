// Trace shapes shared by the engine, which records them through TraceStore, and lib/agent, which
// produces agent turns. They live here, below both, so neither folder imports the other for them.

/** One entry of an agent step's conversation, in order. */
export interface AgentTurn {
  seq: number;
  kind: 'request' | 'response' | 'tool_call' | 'tool_result' | 'validation_error' | 'note';
  payload: unknown;
  tokens?: number;
  latencyMs?: number;
  cost?: number;
}
