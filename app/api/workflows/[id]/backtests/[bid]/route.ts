import { route } from '@/lib/server/route';
import { getBacktest } from '@/lib/server/backtests';

export const dynamic = 'force-dynamic';

export const GET = route(getBacktest);
