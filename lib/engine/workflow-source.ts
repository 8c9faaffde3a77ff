import type { WorkflowDefinition } from '@/lib/workflow/definition';

// Where subworkflow and map-over-workflow nodes find saved workflows. lib/db implements it over
// the versions table; tests use the in-memory one.

export interface WorkflowVersionRef {
  definition: WorkflowDefinition;
  /** Recorded on the child run; defaults to the id asked for. null: record no link (ad-hoc sources). */
  workflowId?: string | null;
  versionId: string | null;
  version: number | null;
  /** false: the workflow is disabled and starts no runs, child runs included. Absent: enabled. */
  enabled?: boolean;
}

export interface WorkflowSource {
  getLatest(workflowId: string): Promise<WorkflowVersionRef | null>;
}

export class MemoryWorkflowSource implements WorkflowSource {
  private readonly versions = new Map<string, WorkflowVersionRef[]>();

  /** recordIds false: child runs carry no workflow/version ids (a database without those rows). */
  constructor(private readonly opts: { recordIds?: boolean } = {}) {}

  /** Saves a new version and returns its number. */
  save(workflowId: string, definition: WorkflowDefinition): number {
    const list = this.versions.get(workflowId) ?? [];
    const version = list.length + 1;
    const record = this.opts.recordIds ?? true;
    list.push({
      definition: structuredClone(definition),
      workflowId: record ? workflowId : null,
      versionId: record ? `${workflowId}@${version}` : null,
      version: record ? version : null,
    });
    this.versions.set(workflowId, list);
    return version;
  }

  private readonly disabled = new Set<string>();

  setEnabled(workflowId: string, enabled: boolean): void {
    if (enabled) this.disabled.delete(workflowId);
    else this.disabled.add(workflowId);
  }

  async getLatest(workflowId: string): Promise<WorkflowVersionRef | null> {
    const list = this.versions.get(workflowId);
    if (!list?.length) return null;
    return { ...structuredClone(list[list.length - 1]), enabled: !this.disabled.has(workflowId) };
  }
}
