import { z } from 'zod';

// The parts of an n8n workflow export the importer reads. Everything else n8n writes (pinData,
// settings, meta, versionId…) is ignored; unknown node parameters are kept in the report.

export const n8nNodeSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().min(1),
  type: z.string().min(1),
  typeVersion: z.number().optional(),
  position: z.tuple([z.number(), z.number()]).optional(),
  parameters: z.record(z.string(), z.unknown()).default({}),
  disabled: z.boolean().optional(),
  notes: z.string().optional(),
  retryOnFail: z.boolean().optional(),
  maxTries: z.number().optional(),
  waitBetweenTries: z.number().optional(),
  onError: z.string().optional(),
  continueOnFail: z.boolean().optional(),
  credentials: z.record(z.string(), z.unknown()).optional(),
});

const n8nTargetSchema = z.looseObject({
  node: z.string(),
  type: z.string().default('main'),
  index: z.number().default(0),
});

export const n8nWorkflowSchema = z.looseObject({
  name: z.string().optional(),
  nodes: z.array(n8nNodeSchema),
  connections: z
    .record(z.string(), z.record(z.string(), z.array(z.array(n8nTargetSchema).nullable())))
    .default({}),
});

export type N8nNode = z.infer<typeof n8nNodeSchema>;
export type N8nWorkflow = z.infer<typeof n8nWorkflowSchema>;

/** mapped: same meaning; approximated: runs, but differs as the reasons say; placeholder: must be replaced. */
export type ImportStatus = 'mapped' | 'approximated' | 'placeholder' | 'dropped';

export interface ImportReportEntry {
  /** The n8n node's name. */
  node: string;
  n8nType: string;
  status: ImportStatus;
  /** The Trellis node it became (absent when dropped or folded into another node). */
  trellisId?: string;
  trellisType?: string;
  reasons: string[];
}

export interface ImportReport {
  source: 'n8n';
  entries: ImportReportEntry[];
  summary: Record<ImportStatus, number>;
}
