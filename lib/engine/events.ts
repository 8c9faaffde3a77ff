import type { SerializedError } from '@/lib/workflow/errors';
import type { RunStatus, StepStatus } from './trace-store';

// What the engine reports while it runs; the API streams these as Server-Sent Events.
// `parentNodeId`/`itemIndex` are set for map item steps.

interface StepWhere {
  runId: string;
  stepId: string;
  nodeId: string;
  parentNodeId: string | null;
  itemIndex: number | null;
}

export type EngineEvent =
  | ({ type: 'step.started'; attempt: number } & StepWhere)
  | ({ type: 'step.finished'; status: StepStatus; handle?: string; durationMs?: number } & StepWhere)
  | ({ type: 'step.failed'; attempt: number; error: SerializedError; willRetry: boolean } & StepWhere)
  | {
      type: 'run.started';
      runId: string;
      parentRunId: string | null;
      parentStepId: string | null;
      resumed: boolean;
    }
  | {
      type: 'run.finished';
      runId: string;
      /** The run's workflow and parent, when the engine has them at hand (undefined: not known here). */
      workflowId?: string | null;
      parentRunId?: string | null;
      status: RunStatus;
      output?: unknown;
      error?: SerializedError | null;
      wakeAt?: number;
    };

export type EngineListener = (event: EngineEvent) => void;
