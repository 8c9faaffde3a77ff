import { route } from '@/lib/server/route';
import { cancelBacktest } from '@/lib/server/backtests';

export const dynamic = 'force-dynamic';

export const POST = route(cancelBacktest);
