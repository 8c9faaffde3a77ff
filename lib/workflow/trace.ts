import { TrellisError } from './errors';
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

/** Largest file one step artifact may hold (a full-page screenshot of a long page fits). */
export const MAX_ARTIFACT_BYTES = 5 * 1024 * 1024;

/** A file stored with a step (StepArtifact table), without its bytes. */
export interface ArtifactInfo {
  id: string;
  stepId: string;
  kind: string;
  mime: string;
  size: number;
  meta?: Record<string, unknown> | null;
  createdAt?: Date | string;
}

/** Both stores refuse the same artifacts: over the cap is payload_too_large, never truncated. */
export function assertArtifactSize(size: number): void {
  if (size > MAX_ARTIFACT_BYTES)
    throw new TrellisError(
      'payload_too_large',
      `artifact of ${size} bytes is over MAX_ARTIFACT_BYTES (${MAX_ARTIFACT_BYTES})`,
      {
        details: { size, max: MAX_ARTIFACT_BYTES },
      },
    );
}
