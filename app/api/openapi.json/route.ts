import { openApiDocument } from '@/lib/server/openapi';
import { json, route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
// Public: the document describes the API, it exposes no data (clients generate code from it).
export const GET = route.public(() => json(openApiDocument()));
