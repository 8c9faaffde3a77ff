import { testModelEndpoint } from '@/lib/server/settings';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const POST = route(testModelEndpoint);
