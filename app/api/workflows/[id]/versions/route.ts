import { listVersions } from '@/lib/server/workflows';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(listVersions);
