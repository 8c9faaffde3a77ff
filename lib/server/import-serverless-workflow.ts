import { importServerlessWorkflow } from '@/lib/import/serverless-workflow';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { json, readJson, type RouteContext } from './route';

/**
 * POST /api/import/serverless-workflow: body is a DSL 1.0 document as JSON, or `{ source }` with
 * its YAML or JSON text. Answers the Trellis definition and a per-task report; nothing is saved.
 */
export async function importServerlessWorkflowDocument({ req }: RouteContext<unknown>) {
  const body = await readJson(req);
  const source =
    body && typeof body === 'object' && typeof (body as { source?: unknown }).source === 'string'
      ? (body as { source: string }).source
      : body;
  const { definition, report } = importServerlessWorkflow(source);
  return json({ definition, report, problems: validateDefinition(definition).problems });
}
