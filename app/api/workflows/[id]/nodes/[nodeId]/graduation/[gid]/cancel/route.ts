import { cancelGraduation } from '@/lib/server/graduation';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const POST = route(cancelGraduation);
