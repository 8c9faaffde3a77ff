import { getGraduation } from '@/lib/server/graduation';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(getGraduation);
