import { validateDefinition } from '@/lib/nodes/validate-definition';
import { json, readJson, type RouteContext } from './route';

export async function validateBody({ req }: RouteContext<unknown>) {
  const body = await readJson(req);
  return json(validateDefinition(body));
}
