import { importN8n } from '@/lib/import/n8n';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { json, readJson, type RouteContext } from './route';

/**
 * POST /api/import/n8n: body is an n8n workflow export (or `{ workflow }`). Answers the Trellis
 * definition, the import report and any problems left; saving stays a separate, deliberate call.
 */
export async function importN8nWorkflow({ req }: RouteContext<unknown>) {
  const body = await readJson(req);
  const raw =
    body && typeof body === 'object' && 'workflow' in body && !('nodes' in body)
      ? (body as { workflow: unknown }).workflow
      : body;
  const { definition, report } = importN8n(raw, { validate: validateDefinition });
  const { problems } = validateDefinition(definition);
  return json({ definition, report, problems });
}
