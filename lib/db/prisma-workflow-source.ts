import type { WorkflowSource, WorkflowVersionRef } from '@/lib/engine/workflow-source';
import type { PrismaClient } from './generated/client';
import { getWorkflow } from './repositories/workflows';

/** Saved workflows for subworkflow and map-over-workflow nodes: the latest version of a live workflow. */
export class PrismaWorkflowSource implements WorkflowSource {
  constructor(private readonly prisma: PrismaClient) {}

  async getLatest(workflowId: string): Promise<WorkflowVersionRef | null> {
    const wf = await getWorkflow(this.prisma, workflowId);
    return (
      wf && {
        definition: wf.definition,
        workflowId,
        versionId: wf.versionId,
        version: wf.version,
        enabled: wf.enabled,
      }
    );
  }
}
