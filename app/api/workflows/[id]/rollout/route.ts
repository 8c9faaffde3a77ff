import { getRollout, putRollout } from '@/lib/server/rollout-api';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(getRollout);
export const PUT = route(putRollout);
