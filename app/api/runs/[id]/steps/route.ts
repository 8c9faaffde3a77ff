import { listRunSteps } from '@/lib/server/runs';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(listRunSteps);
