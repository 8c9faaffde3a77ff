import type { WorkflowDefinition } from '@/lib/workflow/definition';
import dailyDigest from '@/examples/daily-digest.json';
import flakyCall from '@/examples/flaky-call-retry.json';
import leadEnrichment from '@/examples/lead-enrichment.json';
import triage from '@/examples/support-ticket-triage.json';
import webhookSummary from '@/examples/webhook-summary.json';

// The shipped examples, imported statically so the server bundle carries them.
const ALL: Record<string, unknown> = {
  'support-ticket-triage': triage,
  'lead-enrichment': leadEnrichment,
  'daily-digest': dailyDigest,
  'webhook-summary': webhookSummary,
  'flaky-call-retry': flakyCall,
};

export interface Example {
  id: string;
  name: string;
  description: string;
  definition: WorkflowDefinition;
}

export function listExamples(): Example[] {
  return Object.entries(ALL).map(([id, raw]) => {
    const definition = raw as WorkflowDefinition;
    return { id, name: definition.name, description: definition.description ?? '', definition };
  });
}
