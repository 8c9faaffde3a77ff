import { putModelEndpoint } from '@/lib/server/settings';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const PUT = route(putModelEndpoint);
