import { getRolloutEvents } from '@/lib/server/rollout-api';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(getRolloutEvents);
