import type { PrismaClient } from '@/lib/db/generated/client';
import type { EngineEvent } from '@/lib/engine/events';
import type { WorkflowHeads } from '@/lib/db/workflow-heads';
import { evaluateRollout, watchedNodes } from './rollout';

// Gates are read as runs finish (issue 16 §4): every process that executes runs (the web process
// in embedded mode, each worker in server mode) feeds its engine's run.finished events here. One
// evaluation per workflow at a time; runs finishing meanwhile fold into one more pass, so a burst
// of 500 runs costs a few evaluations, not 500, and a rollback lands within the window that failed.
// Two processes evaluating one workflow at once is safe: the writer acts only if the step is still
// at the stage the verdict was read on (compare-and-set under the workflow's row lock).

export interface RolloutWatcher {
  onEvent(ev: EngineEvent): void;
  /** Resolves when no evaluation is running or pending (tests, shutdown). */
  idle(): Promise<void>;
  /** Takes no more events and waits for the evaluations under way: call before the database closes. */
  close(): Promise<void>;
}

export function createRolloutWatcher(
  prisma: PrismaClient,
  opts: {
    onAction?: (workflowId: string, acted: Awaited<ReturnType<typeof evaluateRollout>>) => void;
    /**
     * Latest versions kept in memory (a change feed): a workflow whose latest version watches no
     * step is skipped without a query, which is every run of a workflow without a rollout.
     */
    heads?: WorkflowHeads;
  } = {},
): RolloutWatcher {
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();

  const evaluate = (workflowId: string): Promise<void> => {
    if (running.has(workflowId)) {
      again.add(workflowId);
      return running.get(workflowId)!;
    }
    const p = (async () => {
      do {
        again.delete(workflowId);
        try {
          const acted = await evaluateRollout(prisma, workflowId);
          for (const a of acted)
            if (a.version !== null)
              console.warn(
                `[rollout] workflow ${workflowId} step ${a.nodeId}: ${a.decision.action} → v${a.version}: ${a.decision.reason}`,
              );
          if (acted.length) opts.onAction?.(workflowId, acted);
        } catch (err) {
          // A failed evaluation must not fail the run that triggered it; the next run retries it.
          console.error(`[rollout] evaluating workflow ${workflowId} failed:`, err);
        }
      } while (again.has(workflowId));
    })().finally(() => running.delete(workflowId));
    running.set(workflowId, p);
    return p;
  };

  const onRunFinished = async (ev: Extract<EngineEvent, { type: 'run.finished' }>) => {
    // The engine names the run's workflow when it knows it; else it is read.
    const run =
      ev.workflowId !== undefined
        ? { workflowId: ev.workflowId, parentRunId: ev.parentRunId ?? null }
        : await prisma.run.findUnique({
            where: { id: ev.runId },
            select: { workflowId: true, parentRunId: true },
          });
    // Only top-level runs of saved workflows are rollout evidence (agentSamples reads those).
    if (!run?.workflowId || run.parentRunId) return;
    if (opts.heads?.cached) {
      // No round trip to catch up with the feed (server mode): a version saved so recently that
      // its notification has not arrived can only be one this run did not execute, and gates read
      // all the evidence, so the next run to finish evaluates what this one skipped.
      const head = await opts.heads.get(run.workflowId, Number.NEGATIVE_INFINITY);
      if (!head || !watchedNodes(head.definition).length) return;
    }
    await evaluate(run.workflowId);
  };

  const inflight = new Set<Promise<void>>();
  let closed = false;
  const idle = async () => {
    while (inflight.size || running.size) await Promise.all([...inflight, ...running.values()]);
  };
  return {
    onEvent(ev) {
      if (closed || ev.type !== 'run.finished' || ev.status === 'waiting') return;
      const p = onRunFinished(ev).catch((err: unknown) => console.error(`[rollout] run ${ev.runId}:`, err));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    },
    idle,
    async close() {
      closed = true;
      await idle();
    },
  };
}
