import { route } from '@/lib/server/route';
import { listBacktests, postBacktest } from '@/lib/server/backtests';

export const dynamic = 'force-dynamic';

export const GET = route(listBacktests);
export const POST = route(postBacktest);
